"""The newsroom in process: an instance with a clock the tests move, staff, a source."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pyotp
import pytest
from starlette.testclient import TestClient

from backends import use_backend
from tainik import crypto
from tainik.config import init_instance, load_config
from tainik.core.manifest import Kind
from tainik.crypto import FAST_TEST_PARAMS
from tainik.server.app import newsroom_app, source_app
from tainik.service import sources
from tainik.service.instance import Instance
from tainik.service.intake import Intake
from tainik.service.new_source import NewSource
from tainik.service.newsroom import admin

CSRF_COOKIE = "tainik_csrf"
STAFF_COOKIE = "tainik_staff"
PASSWORD = "a long and private passphrase"
HOST = "newsroom.test"
BASE = f"http://{HOST}"


@dataclass
class Clock:
    """The instance's clock: starts now, moves only when told."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Staffer:
    """A staff account as its owner knows it."""

    name: str
    password: str
    totp_secret: str

    def code(self, clock: Clock, steps: int = 0) -> str:
        """The TOTP code of now (or of ``steps`` time steps later)."""
        return pyotp.TOTP(self.totp_secret).at(clock.now + timedelta(seconds=30 * steps))


@pytest.fixture
def org() -> crypto.Identity:
    return crypto.Identity.generate()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def instance(tmp_path: Path, org: crypto.Identity, clock: Clock) -> Iterator[Instance]:
    config = init_instance(tmp_path / "instance", [org.recipient], kdf=FAST_TEST_PARAMS)
    use_backend(config.data_dir)
    opened = Instance.open(load_config(config.data_dir))
    opened.clock = clock
    yield opened
    opened.close()


@pytest.fixture
def client(instance: Instance) -> Iterator[TestClient]:
    with TestClient(newsroom_app(instance), base_url=BASE, follow_redirects=False) as test:
        yield test


@pytest.fixture
def source_client(instance: Instance) -> Iterator[TestClient]:
    with TestClient(source_app(instance), base_url="http://source.test") as test:
        yield test


def new_staffer(instance: Instance, name: str, *, is_admin: bool = False) -> Staffer:
    """An account made as `tainik users add` makes it (one-time password)."""
    made = admin.add_account_locally(instance, name, is_admin)
    assert made.password is not None
    assert made.totp is not None
    return Staffer(made.name, made.password.reveal(), made.totp.secret.reveal())


def set_cookie(client: TestClient, name: str, value: str) -> None:
    """Put a cookie in the jar as the server's Set-Cookie would (so that it is sent)."""
    client.cookies.delete(name)
    client.cookies.set(name, value, domain=HOST)
    assert client.cookies.get(name) == value


def csrf(client: TestClient) -> str:
    """The anti-forgery token (visiting the login page to get one)."""
    token = client.cookies.get(CSRF_COOKIE)
    if token is None:
        client.get("/login")
        token = client.cookies.get(CSRF_COOKIE)
    assert token
    return token


def post_login(
    client: TestClient, staffer: Staffer, code: str, password: str | None = None
) -> httpx2.Response:
    return client.post(
        "/login",
        data={
            "csrf": csrf(client),
            "name": staffer.name,
            "password": staffer.password if password is None else password,
            "code": code,
        },
    )


def log_in(client: TestClient, staffer: Staffer, clock: Clock) -> None:
    """Log in (moving the clock to a fresh TOTP step); set a password at first login."""
    clock.advance(30)
    response = post_login(client, staffer, staffer.code(clock))
    assert response.status_code == 303, response.text
    if response.headers["location"] == "/account/password":
        changed = client.post(
            "/account/password",
            data={
                "csrf": csrf(client),
                "current": staffer.password,
                "new": PASSWORD,
                "repeat": PASSWORD,
            },
        )
        assert changed.status_code == 303, changed.text
        staffer.password = PASSWORD
    assert client.cookies.get(STAFF_COOKIE)


@pytest.fixture
def admin_user(instance: Instance) -> Staffer:
    return new_staffer(instance, "ada", is_admin=True)


@pytest.fixture
def journalist(instance: Instance) -> Staffer:
    return new_staffer(instance, "jo")


@pytest.fixture
def admin_client(client: TestClient, admin_user: Staffer, clock: Clock) -> TestClient:
    log_in(client, admin_user, clock)
    return client


@pytest.fixture
def journalist_client(client: TestClient, journalist: Staffer, clock: Clock) -> TestClient:
    log_in(client, journalist, clock)
    return client


@dataclass(frozen=True)
class SeededSource:
    """A source that sent a message and a file, with its session cookie."""

    id: int
    cookie: str
    message: str
    file: bytes


def seed_source(instance: Instance, message: str = "hello", file: bytes = b"file") -> SeededSource:
    """A source made through the service layer, with one message and one file."""
    _codename, new_cookie = sources.new_codename(instance)
    new = sources.identify(instance, new_cookie.reveal())
    assert isinstance(new, NewSource)
    intake = Intake(instance, sources.with_keys(instance, new))
    intake.add_message(message)
    sealer = intake.start(Kind.FILE, b"evidence.bin")
    sealer.write(file)
    intake.finish_current()
    intake.commit()
    assert intake.new_cookie is not None  # its first submission wrote the source
    cookie = intake.new_cookie.reveal()
    return SeededSource(sources.resume(instance, cookie).source_id, cookie, message, file)


@pytest.fixture
def source(instance: Instance) -> SeededSource:
    return seed_source(instance, "a message for the newsroom", b"\x00evidence" * 1000)


def item_ids(page: str) -> list[str]:
    """The sealed ids of the rows of a source page, in order."""
    return re.findall(r'data-sealed-id="([a-z2-7]{26})"', page)


def api_token(
    client: TestClient, staffer: Staffer, clock: Clock, scope: str = "full"
) -> dict[str, str]:
    """Authorization headers with a fresh token of ``scope`` (the account must have set its
    password)."""
    clock.advance(30)
    response = client.post(
        "/api/v1/tokens",
        json={
            "name": staffer.name,
            "password": staffer.password,
            "code": staffer.code(clock),
            "scope": scope,
        },
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
