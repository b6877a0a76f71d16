"""SIGKILL at any moment of ``vault import``, then a re-run: the vault verifies and is complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tainik import crypto
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault.vault import Vault
from tainik.workstation.vault.verify import verify
from workstation.vault.support import seal


def tainik(*args: str) -> list[str]:
    return [sys.executable, "-m", "tainik", *args]


def killed_when(argv: list[str], moment: Callable[[float], bool], timeout: float = 60) -> bool:
    """Start ``argv`` in its own process group; SIGKILL the group as soon as ``moment(seconds
    since the start)`` holds.

    Returns whether it was killed (False: it finished first).
    """
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    start = time.monotonic()
    try:
        while process.poll() is None and time.monotonic() < start + timeout:
            if moment(time.monotonic() - start):
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.005)
        return False
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def check(vault: Path) -> None:
    """The vault verifies after a kill, before any repair (stray files are only warnings)."""
    opened = Vault.open(vault)
    try:
        report = verify(opened)
        assert report.ok, [p.english() for p in report.problems]
    finally:
        opened.close()


def stored_count(vault: Path) -> int:
    return sum(1 for p in (vault / "objects").rglob("*") if p.is_file())


def staging_busy(vault: Path) -> bool:
    return any(p.is_file() for p in (vault / "staging").rglob("*"))


@pytest.mark.slow
def test_sigkill_during_import_then_rerun(
    tmp_path: Path, org_identity: crypto.Identity, org_key_file: Path
) -> None:
    inbox = tmp_path / "in"
    for n in range(30):
        seal(os.urandom(2000 + n), inbox, org_identity.recipient, name=f"small-{n}".encode())
    for n in range(3):
        seal(os.urandom(6 * 1024 * 1024 + n), inbox, org_identity.recipient, segment_size=1 << 20)
    vault = tmp_path / "vault"
    init = subprocess.run(
        tainik("vault", "init", str(vault), "-i", str(org_key_file), "--no-passphrase"),
        capture_output=True,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    argv = tainik("vault", "import", str(vault), str(inbox), "--jobs", "2")
    moments: list[Callable[[float], bool]] = [
        lambda elapsed: elapsed > 0.3,  # while starting and listing
        lambda _: staging_busy(vault),  # while opening into the staging folder
    ]
    kills = 0
    for moment in moments:
        kills += killed_when(argv, moment)
        check(vault)
    for _ in range(5):  # just after a stored file appears: before or after its commit
        before = stored_count(vault)

        def grew(_: float, before: int = before) -> bool:
            return stored_count(vault) > before

        kills += killed_when(argv, grew)
        check(vault)
    assert kills >= 4, "the import finished before most kills: make the inbox larger"
    final = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert final.returncode == 0, final.stderr
    opened = Vault.open(vault)
    try:
        report = verify(opened)
        assert report.ok
        assert report.warnings == []  # strays from killed runs were taken in by the re-run
        imported = vault_items.all_items(opened)
        assert len(imported) == 33
        assert len({i.sealed_id for i in imported}) == 33
        assert report.records == 34
    finally:
        opened.close()
    again = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert "0 imported, 33 already in the vault, 0 failed" in again.stderr
