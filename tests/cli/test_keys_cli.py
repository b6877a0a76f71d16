from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli
from tainik.core.errors import ExitCode


def test_keys_new_and_show(tmp_path: Path) -> None:
    key = tmp_path / "org.key"
    made = run_cli(["keys", "new", "--out", str(key), "--no-passphrase"])
    assert made.code == 0
    assert made.stdout.startswith("age1")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    shown = run_cli(["keys", "show", str(key)])
    assert shown.stdout == made.stdout


def test_keys_new_never_overwrites(tmp_path: Path) -> None:
    key = tmp_path / "org.key"
    key.write_text("precious")
    result = run_cli(["keys", "new", "--out", str(key), "--no-passphrase"])
    assert result.code == ExitCode.IO
    assert "already exists" in result.stderr
    assert key.read_text() == "precious"


def test_passphrase_from_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_text("correct horse battery\n")
    monkeypatch.setenv("TAINIK_PASSPHRASE_FILE", str(secret))
    key = tmp_path / "org.key"
    made = run_cli(["keys", "new", "--out", str(key)])
    assert made.code == 0, made.stderr
    assert b"AGE-SECRET-KEY" not in key.read_bytes()
    assert run_cli(["keys", "show", str(key)]).stdout == made.stdout
    secret.write_text("wrong horse battery\n")
    failed = run_cli(["keys", "show", str(key)])
    assert failed.code == ExitCode.KEY
    assert "Wrong passphrase" in failed.stderr


def test_no_passphrase_source_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TAINIK_PASSPHRASE_FILE", raising=False)
    result = subprocess.run(
        [sys.executable, "-m", "tainik", "keys", "new", "--out", str(tmp_path / "k")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LANG": "C.UTF-8"},
    )
    assert result.returncode == ExitCode.KEY
    assert "TAINIK_PASSPHRASE_FILE" in result.stderr
    assert not (tmp_path / "k").exists()


def test_short_passphrase_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_text("short")
    monkeypatch.setenv("TAINIK_PASSPHRASE_FILE", str(secret))
    result = run_cli(["keys", "new", "--out", str(tmp_path / "k")])
    assert result.code == ExitCode.USAGE
    assert not (tmp_path / "k").exists()


def test_no_passphrase_flag_exists_only_as_a_switch() -> None:
    result = run_cli(["keys", "new", "--help"])
    assert "--passphrase " not in result.stdout
    assert "TAINIK_PASSPHRASE_FILE" in result.stdout


def test_installed_entry_point_runs(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "tainik"
    result = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("tainik ")
