"""Staff logins: password + TOTP, codes used once, throttling, sessions that end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from backends import session_postgres
from tainik.service import maintenance
from tainik.service.instance import Instance
from tainik.service.newsroom import auth, factors
from tainik.storage import newsroom_schema as ns

from .conftest import (
    PASSWORD,
    STAFF_COOKIE,
    Clock,
    Staffer,
    api_token,
    csrf,
    log_in,
    new_staffer,
    post_login,
    set_cookie,
)


def sessions(instance: Instance) -> int:
    with instance.engine.begin() as db:
        return int(db.execute(select(func.count()).select_from(ns.staff_sessions)).scalar_one())


def test_first_login_needs_the_code_then_a_new_password(
    client: TestClient, journalist: Staffer, clock: Clock
) -> None:
    assert post_login(client, journalist, "").status_code == 403
    clock.advance(30)
    response = post_login(client, journalist, journalist.code(clock))
    assert response.status_code == 303
    assert response.headers["location"] == "/account/password"
    # Until the password is changed, every page leads back to the password form.
    for path in ("/inbox", "/sources/1", "/admin/users"):
        assert client.get(path).headers["location"] == "/account/password", path
    page = client.get("/account/password")
    assert 'id="first-login"' in page.text
    token = csrf(client)
    short = {"csrf": token, "current": journalist.password, "new": "short", "repeat": "short"}
    assert client.post("/account/password", data=short).status_code == 400
    same = {"csrf": token, "current": journalist.password}
    same |= {"new": journalist.password, "repeat": journalist.password}
    assert client.post("/account/password", data=same).status_code == 400
    mismatch = {"csrf": token, "current": journalist.password, "new": PASSWORD, "repeat": "x" * 20}
    assert "are not the same" in client.post("/account/password", data=mismatch).text
    ok = {"csrf": token, "current": journalist.password, "new": PASSWORD, "repeat": PASSWORD}
    assert client.post("/account/password", data=ok).headers["location"] == "/inbox?done=password"
    assert client.get("/inbox").status_code == 200


def test_the_api_refuses_a_token_before_the_password_is_changed(
    client: TestClient, journalist: Staffer, clock: Clock
) -> None:
    clock.advance(30)
    response = client.post(
        "/api/v1/tokens",
        json={"name": "jo", "password": journalist.password, "code": journalist.code(clock)},
    )
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_wrong_password_wrong_code_and_reused_code_are_refused(
    client: TestClient, journalist: Staffer, clock: Clock, instance: Instance
) -> None:
    log_in(client, journalist, clock)
    client.cookies.clear()
    clock.advance(30)
    code = journalist.code(clock)
    assert post_login(client, journalist, code, password="not the password").status_code == 403
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = post_login(client, journalist, wrong)
    assert refused.status_code == 403
    assert 'id="login-error"' in refused.text
    assert post_login(client, journalist, code).status_code == 303
    client.cookies.delete(STAFF_COOKIE)
    # The same code again, within its 30 seconds: refused.
    assert post_login(client, journalist, code).status_code == 403
    # The previous step's code is still inside the window but older than the last used: refused.
    assert post_login(client, journalist, journalist.code(clock, steps=-1)).status_code == 403
    # The next step's code is accepted.
    assert post_login(client, journalist, journalist.code(clock, steps=1)).status_code == 303
    # A code from two steps away is outside the window.
    clock.advance(300)
    assert post_login(client, journalist, journalist.code(clock, steps=3)).status_code == 403


@pytest.fixture
def kdf_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Argon2id check of a staff password."""
    calls: list[str] = []
    real = factors.verify_password

    def spy(*args: Any) -> bool:
        calls.append("verify")
        return real(*args)

    monkeypatch.setattr(factors, "verify_password", spy)
    return calls


def test_failures_do_not_lock_the_owner_out(
    client: TestClient, journalist: Staffer, clock: Clock, kdf_calls: list[str]
) -> None:
    """Five failures guard a name; its owner still gets in with the password and a fresh code
    (pages and API), while guesses without a valid code cost no Argon2id at all."""
    log_in(client, journalist, clock)
    client.cookies.delete(STAFF_COOKIE)
    clock.advance(30)
    statuses = [post_login(client, journalist, "000000").status_code for _ in range(5)]
    assert statuses == [403] * 5
    kdf_calls.clear()
    # Guarded: without a valid code, refused at once, however many times.
    for _ in range(20):
        refused = post_login(client, journalist, "000000")
        assert refused.status_code == 429
        assert "next code" in refused.text
    assert kdf_calls == []
    # A valid code buys one password check, and is spent by it even when the password is wrong.
    code = journalist.code(clock)
    assert post_login(client, journalist, code, password="a wrong guess").status_code == 429
    assert kdf_calls == ["verify"]
    assert post_login(client, journalist, code).status_code == 429
    # The owner, with the next code: in, on the pages and through the API.
    clock.advance(30)
    assert post_login(client, journalist, journalist.code(clock)).status_code == 303
    client.cookies.delete(STAFF_COOKIE)
    for _ in range(6):
        post_login(client, journalist, "000000")
    clock.advance(30)
    api = client.post(
        "/api/v1/tokens",
        json={"name": "jo", "password": journalist.password, "code": journalist.code(clock)},
    )
    assert api.status_code == 201, api.text
    wrong = client.post("/api/v1/tokens", json={"name": "jo", "password": "x", "code": "000000"})
    assert wrong.status_code == 429
    # The failures age out of the window.
    clock.advance(auth.THROTTLE_WINDOW.total_seconds() + 1)
    assert post_login(client, journalist, "000000").status_code == 403


def test_typed_names_never_reach_the_disk(
    client: TestClient, journalist: Staffer, clock: Clock, instance: Instance
) -> None:
    """A name typed at login (maybe a password in the wrong field) is kept only as a keyed
    hash, in the database file and its write-ahead log alike."""
    canary = "Zq7-my-secret-passphrase-typed-here"
    typo = Staffer(canary, "whatever password", journalist.totp_secret)
    assert post_login(client, typo, typo.code(clock)).status_code == 403
    assert post_login(client, journalist, "000000").status_code == 403
    with instance.engine.begin() as db:
        assert db.execute(select(func.count()).select_from(ns.login_failures)).scalar_one() == 2
    if instance.engine.dialect.name == "sqlite":
        files = list(instance.config.data_dir.rglob("*.db*"))
        assert any(f.name.endswith("-wal") for f in files)
    else:  # the whole cluster: its write-ahead log, and its tables once checkpointed
        session_postgres().admin("CHECKPOINT")
        files = [p for p in session_postgres().data.rglob("*") if p.is_file()]
        assert any("pg_wal" in p.parts for p in files)
    for path in files:
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # a live cluster replaces files (pg_internal.init) as we read
            continue
        assert canary.lower().encode() not in data, path
        assert canary.encode() not in data, path
    # Housekeeping forgets attempts older than the window.
    clock.advance(auth.THROTTLE_WINDOW.total_seconds() + 1)
    maintenance.housekeeping(instance)
    with instance.engine.begin() as db:
        assert db.execute(select(func.count()).select_from(ns.login_failures)).scalar_one() == 0


def test_unknown_names_are_throttled_alike(client: TestClient, clock: Clock) -> None:
    ghost = Staffer("nobody", "whatever password", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    statuses = [post_login(client, ghost, ghost.code(clock)).status_code for _ in range(6)]
    assert statuses == [403] * 5 + [429]


def test_a_refused_attempt_costs_nothing_and_a_success_is_forgotten(
    client: TestClient, journalist: Staffer, clock: Clock
) -> None:
    log_in(client, journalist, clock)
    for _ in range(4):  # four failures, then a success: the success does not count
        client.cookies.delete(STAFF_COOKIE)
        assert post_login(client, journalist, "000000").status_code == 403
    clock.advance(30)
    assert post_login(client, journalist, journalist.code(clock)).status_code == 303
    client.cookies.delete(STAFF_COOKIE)
    assert post_login(client, journalist, "000000").status_code == 403  # the fifth failure
    assert post_login(client, journalist, "000000").status_code == 429


def test_logout_ends_the_session(
    client: TestClient, journalist: Staffer, clock: Clock, instance: Instance
) -> None:
    log_in(client, journalist, clock)
    cookie = client.cookies.get(STAFF_COOKIE)
    assert client.get("/inbox").status_code == 200
    response = client.post("/logout", data={"csrf": csrf(client)})
    assert response.headers["location"] == "/login?done=logout"
    assert sessions(instance) == 0
    set_cookie(client, STAFF_COOKIE, str(cookie))
    assert client.get("/inbox").headers["location"] == "/login"


def test_sessions_expire_when_idle_and_in_any_case(
    client: TestClient, journalist: Staffer, clock: Clock
) -> None:
    log_in(client, journalist, clock)
    clock.advance(auth.SESSION_IDLE.total_seconds() - 5)
    assert client.get("/inbox").status_code == 200
    clock.advance(auth.SESSION_IDLE.total_seconds() + 1)
    assert client.get("/inbox").headers["location"] == "/login"
    log_in(client, journalist, clock)
    # Active all the time, the session still ends after its lifetime.
    step = auth.SESSION_IDLE - timedelta(minutes=1)
    elapsed = timedelta(0)
    while elapsed + step < auth.SESSION_LIFETIME:
        clock.advance(step.total_seconds())
        elapsed += step
        assert client.get("/inbox").status_code == 200
    clock.advance(step.total_seconds())
    assert client.get("/inbox").headers["location"] == "/login"


def test_a_password_change_ends_every_other_session_and_token(
    instance: Instance, journalist: Staffer, clock: Clock, client: TestClient
) -> None:
    log_in(client, journalist, clock)
    headers = api_token(client, journalist, clock)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    from starlette.testclient import TestClient as Second

    from tainik.server.app import newsroom_app

    with Second(newsroom_app(instance), follow_redirects=False) as other:
        log_in(other, journalist, clock)
        assert other.get("/inbox").status_code == 200
        new = {
            "csrf": csrf(client),
            "current": PASSWORD,
            "new": "quiet heron ledger",
            "repeat": "quiet heron ledger",
        }
        assert client.post("/account/password", data=new).status_code == 303
        assert client.get("/inbox").status_code == 200  # this browser got a new session
        assert other.get("/inbox").headers["location"] == "/login"
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_deactivated_account_is_locked_out_at_once(
    client: TestClient, instance: Instance, journalist: Staffer, admin_user: Staffer, clock: Clock
) -> None:
    log_in(client, journalist, clock)
    headers = api_token(client, journalist, clock)
    from tainik.server.app import newsroom_app

    with TestClient(newsroom_app(instance), follow_redirects=False) as boss:
        log_in(boss, admin_user, clock)
        user_id = _user_id(instance, "jo")
        assert (
            boss.post(f"/admin/users/{user_id}/deactivate", data={"csrf": csrf(boss)}).status_code
            == 303
        )
        # An administrator cannot lock themselves out.
        own = _user_id(instance, "ada")
        assert (
            boss.post(f"/admin/users/{own}/deactivate", data={"csrf": csrf(boss)}).status_code
            == 409
        )
    assert client.get("/inbox").headers["location"] == "/login"
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    client.cookies.delete(STAFF_COOKIE)
    clock.advance(30)
    assert post_login(client, journalist, journalist.code(clock)).status_code == 403


def test_reset_2fa_replaces_the_secret(
    client: TestClient, instance: Instance, journalist: Staffer, admin_user: Staffer, clock: Clock
) -> None:
    log_in(client, journalist, clock)
    from tainik.server.app import newsroom_app

    with TestClient(newsroom_app(instance), follow_redirects=False) as boss:
        log_in(boss, admin_user, clock)
        page = boss.post(
            f"/admin/users/{_user_id(instance, 'jo')}/reset-2fa", data={"csrf": csrf(boss)}
        )
        assert page.status_code == 200
        secret = page.text.split('id="totp-secret">')[1].split("<")[0]
        assert "<svg" in page.text
    assert client.get("/inbox").headers["location"] == "/login"  # sessions ended
    client.cookies.delete(STAFF_COOKIE)
    clock.advance(30)
    assert post_login(client, journalist, journalist.code(clock)).status_code == 403
    journalist.totp_secret = secret
    clock.advance(30)
    assert post_login(client, journalist, journalist.code(clock)).status_code == 303


def test_the_cli_reset_is_the_way_back(
    instance: Instance, clock: Clock, client: TestClient
) -> None:
    from tainik.service.newsroom import admin

    staffer = new_staffer(instance, "lost")
    made = admin.reset_account_locally(instance, "lost")
    assert made.password is not None
    assert made.totp is not None
    clock.advance(30)
    assert post_login(client, staffer, staffer.code(clock)).status_code == 403
    staffer.password, staffer.totp_secret = made.password.reveal(), made.totp.secret.reveal()
    log_in(client, staffer, clock)


@pytest.mark.parametrize("name", ["", "Has Space", "-dash", "x" * 65, "ünïcode", "a/b"])
def test_account_names_are_checked(instance: Instance, name: str) -> None:
    from tainik.service.newsroom.errors import AccountNameError

    with pytest.raises(AccountNameError):
        new_staffer(instance, name)


def _user_id(instance: Instance, name: str) -> int:
    with instance.engine.begin() as db:
        return int(db.execute(select(ns.users.c.id).where(ns.users.c.name == name)).scalar_one())
