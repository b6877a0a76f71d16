"""`tainik users`: accounts made on the server's own shell, with secrets shown once."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from conftest import run_cli
from tainik.core.errors import ExitCode
from tainik.service.instance import Instance

from .conftest import Clock, Staffer, log_in


def test_add_prints_password_uri_and_qr(
    instance: Instance, client: TestClient, clock: Clock
) -> None:
    data = str(instance.config.data_dir)
    result = run_cli(["users", "add", "Carol", "--admin", "--data", data])
    assert result.code == 0, result.stderr
    password = re.search(r"one-time password:\s+(\S+)", result.stdout)
    secret = re.search(r"TOTP secret:\s+([A-Z2-7]+)", result.stdout)
    uri = re.search(r"provisioning URI:\s+(otpauth://totp/Tainik:carol\?\S+)", result.stdout)
    assert password is not None
    assert secret is not None
    assert uri is not None
    assert f"secret={secret.group(1)}" in uri.group(1)
    assert "▀" in result.stdout or "█" in result.stdout  # the QR code, in block characters
    assert "shown once" in result.stderr
    log_in(client, Staffer("carol", password.group(1), secret.group(1)), clock)
    assert client.get("/admin/users").status_code == 200  # an administrator
    listed = run_cli(["users", "list", "--data", data])
    assert listed.code == 0
    assert re.search(r"^carol\tadministrator\tactive\t\d{4}-", listed.stdout, re.M)


def test_add_refuses_a_taken_or_bad_name(instance: Instance) -> None:
    data = str(instance.config.data_dir)
    assert run_cli(["users", "add", "dan", "--data", data]).code == 0
    again = run_cli(["users", "add", "DAN", "--data", data])
    assert again.code == ExitCode.USAGE
    assert "already a staff account named dan" in again.stderr
    bad = run_cli(["users", "add", "no spaces", "--data", data])
    assert bad.code == ExitCode.USAGE
    assert "account name" in bad.stderr
    missing = run_cli(["users", "reset", "nobody", "--data", data])
    assert missing.code != 0
    assert "no staff account named nobody" in missing.stderr


def test_commands_need_an_instance(tmp_path: Path) -> None:
    result = run_cli(["users", "list", "--data", str(tmp_path / "nothing")])
    assert result.code == ExitCode.IO
    assert "not an instance folder" in result.stderr


def test_every_users_command_shows_an_example() -> None:
    for argv in (["users", "--help"], ["users", "add", "--help"], ["users", "list", "--help"],
                 ["users", "reset", "--help"]):  # fmt: skip
        result = run_cli(argv)
        assert result.code == 0
        assert "example" in result.stdout, argv
