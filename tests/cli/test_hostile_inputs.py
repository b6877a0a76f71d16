"""Every command meets hostile files with a message and an exit code, never a traceback.

Each file a command reads (identity, codename, token, message, passphrase, configuration,
sealed file, video, bag, publication) is replaced in turn by random bytes that are not UTF-8, an
empty file, a folder and a missing path. What the program says must be an error line of its
own with a documented non-zero exit code. A ``UnicodeDecodeError`` from
a codename file, a passphrase file or an instance's tainik.toml once escaped as a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

KINDS = ("binary", "empty", "folder", "missing")
# A server nobody answers on, given up on at once.
SEND = ["send", "--server", "http://127.0.0.1:9", "--give-up-after", "1"]
PULL = ["pull", "--server", "http://127.0.0.1:9", "--give-up-after", "1"]
# argv templates: F is the hostile path; R a valid recipient; D an output folder.
COMMANDS = {
    "keys show": ["keys", "show", "F"],
    "seal to a file recipient": ["seal", "ok.txt", "--to", "F", "--out", "D"],
    "open": ["open", "F", "--identity", "key.txt", "--out", "D"],
    "open with identity": ["open", "sealed", "--identity", "F", "--out", "D"],
    "serve": ["serve", "--data", "inst"],
    "users list": ["users", "list", "--data", "inst"],
    "send codename": [*SEND, "--codename-file", "F", "ok.txt"],
    "send message": [*SEND, "--codename-file", "c.txt", "--message-file", "F"],
    "send file": [*SEND, "--codename-file", "c.txt", "F"],
    "pull token": [*PULL, "--token-file", "F", "--out", "D"],
    "vault list": ["vault", "list", "F"],
    "vault import": ["vault", "import", "F", "F"],
    "vault check-bag": ["vault", "check-bag", "F"],
    "vault verify": ["vault", "verify", "F"],
    "vault show": ["vault", "show", "F", "--out", "D"],
    "vault export": ["vault", "export", "F", "1", "--out", "D"],
    "vault info": ["vault", "info", "F", "1"],
    "vault duplicates": ["vault", "duplicates", "F"],
    "vault acquire": ["vault", "acquire", "F", "ok.txt", "--from", "courier"],
    "publish": ["publish", "F", "1", "--out", "D"],
    "triage": ["triage", "F", "--out", "D"],
    "redact": ["redact", "F", "--out", "D/out.mp4", "--no-report", "--device", "cpu"],
    "verify-publication": ["verify-publication", "F"],
    "verify-publication trust": ["verify-publication", "ok.txt", "--trust", "F"],
}
# Commands whose hostile file is the instance's configuration or the passphrase file.
CONFIG = {"serve", "users list"}
PASSPHRASE = ["keys", "new", "--out", "D/new.key"]


def _hostile(path: Path, kind: str) -> None:
    if kind == "binary":
        path.write_bytes(b"\xb3\xff\x00\xfe" + os.urandom(2000))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "folder":
        path.mkdir()


def _run(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tainik", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a valid key, a sealed file, a codename file and a text file."""
    work = tmp_path_factory.mktemp("hostile")
    made = _run(["keys", "new", "--out", "key.txt", "--no-passphrase"], work)
    assert made.returncode == 0, made.stderr
    (work / "recipient").write_text(made.stdout.strip())
    (work / "ok.txt").write_text("hello")
    (work / "c.txt").write_text("acorn blade cider dune ember fable gusto\n")
    sealed = _run(["seal", "ok.txt", "--to", made.stdout.strip(), "--out", "sealed-dir"], work)
    assert sealed.returncode == 0, sealed.stderr
    (work / "sealed").symlink_to(next((work / "sealed-dir").iterdir()))
    return work


def _check(result: subprocess.CompletedProcess[str], what: str) -> None:
    assert "Traceback" not in result.stderr, f"{what}:\n{result.stderr[-2000:]}"
    assert result.returncode in (2, 3, 4, 5, 6, 7), f"{what}: exit {result.returncode}"
    assert result.stderr.strip(), f"{what}: said nothing"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_hostile_files_get_an_error_not_a_traceback(
    workspace: Path, tmp_path: Path, command: str, kind: str
) -> None:
    hostile = tmp_path / "hostile"
    _hostile(hostile, kind)
    recipient = (workspace / "recipient").read_text()
    if command in CONFIG:
        (tmp_path / "inst").mkdir()
        if kind != "folder":
            _hostile(tmp_path / "inst" / "tainik.toml", kind)
        else:
            (tmp_path / "inst" / "tainik.toml").mkdir()
    argv = [
        {"F": str(hostile), "R": recipient, "D": str(tmp_path / "out")}.get(a, a)
        for a in COMMANDS[command]
    ]
    argv = [str(tmp_path / "inst") if a == "inst" else a for a in argv]
    _check(_run(argv, workspace), f"{command} with a {kind} file")


@pytest.mark.parametrize("kind", KINDS)
def test_a_hostile_passphrase_file_gets_an_error(
    workspace: Path, tmp_path: Path, kind: str
) -> None:
    hostile = tmp_path / "hostile"
    _hostile(hostile, kind)
    argv = [str(tmp_path / "out" / "new.key") if a == "D/new.key" else a for a in PASSPHRASE]
    (tmp_path / "out").mkdir()
    _check(
        _run(argv, workspace, {"TAINIK_PASSPHRASE_FILE": str(hostile)}),
        f"keys new with a {kind} passphrase file",
    )
