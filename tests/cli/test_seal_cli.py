from __future__ import annotations

from pathlib import Path

from conftest import run_cli
from tainik import crypto
from tainik.core.errors import ExitCode


def test_seal_prints_one_path_a_line(tmp_path: Path, identity: crypto.Identity) -> None:
    files = []
    for name in ["a.txt", "b.txt", "c.txt"]:
        (tmp_path / name).write_text(name)
        files.append(str(tmp_path / name))
    result = run_cli(
        ["seal", *files, "--to", identity.recipient.text, "--out", str(tmp_path / "out")]
    )
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert all(Path(line).is_dir() and line.endswith(".sealed") for line in lines)


def test_several_recipients(tmp_path: Path) -> None:
    first, second = crypto.Identity.generate(), crypto.Identity.generate()
    (tmp_path / "m.txt").write_text("for both")
    sealed = run_cli(
        [
            "seal",
            str(tmp_path / "m.txt"),
            "--to",
            first.recipient.text,
            "--to",
            second.recipient.text,
            "--out",
            str(tmp_path / "s"),
        ]
    )
    key = tmp_path / "second.key"
    key.write_text(crypto.identity_file_text(second))
    opened = run_cli(["open", sealed.stdout.strip(), "-i", str(key), "--out", str(tmp_path / "p")])
    assert opened.code == 0
    assert Path(opened.stdout.strip()).read_text() == "for both"


def test_usage_errors(tmp_path: Path, identity: crypto.Identity) -> None:
    (tmp_path / "f").write_text("x")
    bad_recipient = run_cli(
        ["seal", str(tmp_path / "f"), "--to", "age1nope", "--out", str(tmp_path)]
    )
    assert bad_recipient.code == ExitCode.USAGE
    assert "is not an age X25519 recipient" in bad_recipient.stderr
    missing = run_cli(
        ["seal", str(tmp_path / "absent"), "--to", identity.recipient.text, "--out", str(tmp_path)]
    )
    assert missing.code == ExitCode.USAGE
    assert "not a regular file" in missing.stderr
    bad_size = run_cli(
        [
            "seal",
            str(tmp_path / "f"),
            "--to",
            identity.recipient.text,
            "--out",
            str(tmp_path),
            "--segment-size",
            "1000",
        ]
    )
    assert bad_size.code in {ExitCode.INTEGRITY, ExitCode.USAGE}
    assert "multiple of 64 KiB" in bad_size.stderr
    no_command = run_cli([])
    assert no_command.code == ExitCode.USAGE


def test_open_a_non_container(tmp_path: Path, identity_file: Path) -> None:
    (tmp_path / "x.sealed").write_text("not a directory")
    result = run_cli(
        ["open", str(tmp_path / "x.sealed"), "-i", str(identity_file), "--out", str(tmp_path / "p")]
    )
    assert result.code == ExitCode.IO
    assert "not a sealed-file directory" in result.stderr


def test_help_has_examples_for_every_command() -> None:
    for argv in (
        ["--help"],
        ["keys", "new", "--help"],
        ["keys", "show", "--help"],
        ["seal", "--help"],
        ["open", "--help"],
    ):
        result = run_cli(argv)
        assert result.code == 0
        assert "example" in result.stdout, argv
    assert "exit codes" in run_cli(["--help"]).stdout
