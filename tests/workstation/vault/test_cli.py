"""The ``tainik vault`` command line: passphrases, output, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from conftest import run_cli
from tainik import crypto
from tainik.core.errors import ExitCode
from tainik.core.manifest import Kind
from workstation.vault.support import seal, sidecar


@pytest.fixture
def inbox(tmp_path: Path, org_identity: crypto.Identity) -> Path:
    folder = tmp_path / "pulled" / "12"
    for order, (kind, data) in enumerate(
        [
            (Kind.MESSAGE, "Видео из блока Б.\nCameras 3 and 4.".encode()),
            (Kind.FILE, os.urandom(90_000)),
            (Kind.REPLY, b"Thank you, we have them.\x1b[31m"),
        ],
        1,
    ):
        container = seal(data, folder, org_identity.recipient, kind=kind, name=b"clip.mp4")
        sidecar(
            container,
            kind=kind,
            source_id="12",
            designation="grey owl",
            created_at=f"2025-05-0{order}T08:00:00Z",
            order=order,
        )
    return tmp_path / "pulled"


def test_whole_flow_with_a_protected_key(
    tmp_path: Path, org_key_file: Path, inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "pass"
    secret.write_text("correct horse battery\n")
    monkeypatch.setenv("TAINIK_PASSPHRASE_FILE", str(secret))
    vault = str(tmp_path / "vault")
    made = run_cli(["vault", "init", vault, "--identity", str(org_key_file), "--actor", "Ana"])
    assert made.code == 0, made.stderr
    fingerprint = made.stdout.strip()
    assert fingerprint.startswith("SHA256:")
    assert (tmp_path / "vault" / "vault.key").read_bytes().startswith(b"-----BEGIN AGE ENCRYPTED")

    imported = run_cli(["vault", "import", vault, str(inbox), "--actor", "Ana"])
    assert imported.code == 0, imported.stderr
    assert "3 imported, 0 already in the vault, 0 failed" in imported.stderr
    listed = run_cli(["vault", "list", vault])
    assert "== grey owl" in listed.stdout
    assert "| Видео из блока Б." in listed.stdout
    assert "| Thank you, we have them.\ufffd[31m" in listed.stdout  # no raw escape sequence
    assert "clip.mp4" in listed.stdout
    checked = run_cli(["vault", "verify", vault, "--expect-key", fingerprint])
    assert checked.code == 0, checked.stderr
    assert checked.stdout.startswith("OK: 4 custody records, 3 stored files")

    secret.write_text("wrong passphrase\n")
    refused = run_cli(["vault", "import", vault, str(inbox)])
    assert refused.code == ExitCode.KEY
    assert "wrong passphrase" in refused.stderr


def test_verify_failure_exits_4_and_lists_problems(
    tmp_path: Path, org_key_file: Path, inbox: Path
) -> None:
    vault = tmp_path / "vault"
    assert (
        run_cli(["vault", "init", str(vault), "-i", str(org_key_file), "--no-passphrase"]).code == 0
    )
    assert run_cli(["vault", "import", str(vault), str(inbox)]).code == 0
    [stored] = [
        p
        for p in (vault / "objects" / "sha256").rglob("*")
        if p.is_file() and p.stat().st_size == 90_000
    ]
    os.chmod(stored, 0o644)
    stored.write_bytes(b"\0" * 90_000)
    result = run_cli(["vault", "verify", str(vault)])
    assert result.code == ExitCode.INTEGRITY
    assert f"problem: Stored file {stored.name[:16]} (item" in result.stderr
    assert "The vault failed verification: 1 problem(s), listed above" in result.stderr


def test_info_copy_and_usage_errors(tmp_path: Path, org_key_file: Path, inbox: Path) -> None:
    vault = tmp_path / "vault"
    run_cli(["vault", "init", str(vault), "-i", str(org_key_file), "--no-passphrase"])
    run_cli(["vault", "import", str(vault), str(inbox)])
    listed = run_cli(["vault", "list", str(vault), "--json"]).stdout
    assert '"designation": "grey owl"' in listed
    info = run_cli(["vault", "info", str(vault), "2"])
    assert info.code == 0, info.stderr
    assert "SHA-256" in info.stdout
    copied = run_cli(["vault", "copy", str(vault), "2", "--out", str(tmp_path / "work")])
    assert copied.code == 0, copied.stderr
    [item] = [i for t in json.loads(listed) for i in t["items"] if i["item"] == 2]
    copy = Path(copied.stdout.strip())
    assert copy.name == item["name"]
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == item["sha256"]
    missing = run_cli(["vault", "info", str(vault), "99"])
    assert missing.code == ExitCode.USAGE
    assert "There is no item 99 in the vault" in missing.stderr
    assert run_cli(["vault", "verify", str(tmp_path / "nothing")]).code == ExitCode.USAGE
    assert run_cli(["vault", "init", str(vault), "-i", str(org_key_file)]).code == ExitCode.USAGE
