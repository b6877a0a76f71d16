"""Staff on a live server (`tainik serve`): accounts made with `tainik users add`.

An account's first login and password change happen through the service layer at a time two
minutes ago, so the test can then log in to the live server (or get an API token) with the
current TOTP code at once, without waiting for the next 30-second step.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp

from live_server import tainik_cli
from tainik.config import load_config
from tainik.crypto import Secret
from tainik.service.instance import Instance
from tainik.service.newsroom import auth

PASSWORD = "a long and private passphrase"


@dataclass(frozen=True)
class LiveStaffer:
    """An account that has set its password: name, password, TOTP secret."""

    name: str
    password: str
    totp_secret: str
    api_token: str  # a full token issued with the first login, valid for hours

    def code(self) -> str:
        """The TOTP code of now."""
        return pyotp.TOTP(self.totp_secret).now()


def add_user(data_dir: Path, name: str, *, admin: bool = False) -> tuple[str, str]:
    """Run `tainik users add`; returns (one-time password, TOTP secret) from what it prints."""
    argv = tainik_cli(
        "users", "add", name, "--data", str(data_dir), *(["--admin"] if admin else [])
    )
    made = subprocess.run(argv, capture_output=True, text=True, check=True)
    password = re.search(r"one-time password:\s+(\S+)", made.stdout)
    secret = re.search(r"TOTP secret:\s+([A-Z2-7]+)", made.stdout)
    assert password is not None, made.stdout
    assert secret is not None, made.stdout
    return password.group(1), secret.group(1)


def ready_staffer(data_dir: Path, name: str, *, admin: bool = False) -> LiveStaffer:
    """An account made with the CLI whose first login is done, with an API token (see the
    module's note)."""
    one_time, secret = add_user(data_dir, name, admin=admin)
    instance = Instance.open(load_config(data_dir))
    past = datetime.now(UTC) - timedelta(minutes=2)
    instance.clock = lambda: past
    try:
        code = pyotp.TOTP(secret).at(past)
        cookie, _staff = auth.login(instance, name, Secret(one_time), code)
        new = Secret(PASSWORD)
        session = auth.Credential.session(cookie.reveal())
        auth.change_password(instance, session, Secret(one_time), new, new)
        later = past + timedelta(seconds=30)
        instance.clock = lambda: later
        code = pyotp.TOTP(secret).at(later)
        token = auth.issue_token(instance, name, new, code, auth.Scope.FULL).token
    finally:
        instance.close()
    return LiveStaffer(name, PASSWORD, secret, token.reveal())


def past_token(data_dir: Path, staffer: LiveStaffer, scope: str, steps_ago: int = 2) -> str:
    """Another API token of ``scope``, issued through the service layer with the TOTP code of
    ``steps_ago`` 30-second steps ago (see the module's note): call it before any login with
    the current code, and with fewer steps ago each time."""
    instance = Instance.open(load_config(data_dir))
    moment = datetime.now(UTC) - timedelta(seconds=30 * steps_ago)
    instance.clock = lambda: moment
    try:
        code = pyotp.TOTP(staffer.totp_secret).at(moment)
        issued = auth.issue_token(instance, staffer.name, Secret(staffer.password), code,
                                  auth.Scope(scope))  # fmt: skip
    finally:
        instance.close()
    return issued.token.reveal()


def past_session(data_dir: Path, staffer: LiveStaffer, steps_ago: int = 1) -> str:
    """A session cookie of ``staffer`` from a login ``steps_ago`` 30-second steps ago, through
    the service layer (see the module's note): the current TOTP code stays unspent, for what
    asks for a fresh one (and the cookie is what a thief who copied it would hold)."""
    instance = Instance.open(load_config(data_dir))
    moment = datetime.now(UTC) - timedelta(seconds=30 * steps_ago)
    instance.clock = lambda: moment
    try:
        code = pyotp.TOTP(staffer.totp_secret).at(moment)
        cookie, _staff = auth.login(instance, staffer.name, Secret(staffer.password), code)
    finally:
        instance.close()
    return cookie.reveal()


@contextlib.contextmanager
def web_login(base_url: str, staffer: LiveStaffer) -> Iterator[httpx.Client]:
    """An httpx client logged in to the newsroom pages (CSRF cookie and session)."""
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=60) as client:
        client.get("/login")
        response = client.post(
            "/login",
            data={
                "csrf": client.cookies["tainik_csrf"],
                "name": staffer.name,
                "password": staffer.password,
                "code": staffer.code(),
            },
        )
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/inbox"
        yield client


def api_headers(base_url: str, staffer: LiveStaffer, scope: str = "full") -> dict[str, str]:
    """Authorization headers with a new API token of ``scope``."""
    response = httpx.post(
        f"{base_url}/api/v1/tokens",
        json={
            "name": staffer.name,
            "password": staffer.password,
            "code": staffer.code(),
            "scope": scope,
        },
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
