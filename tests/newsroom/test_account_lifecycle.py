"""Staff accounts move only through their lifecycle (core/staff_account.py): the pages and the
command line ask for events, and what the account's stored state refuses changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tainik.crypto import Secret
from tainik.server.app import newsroom_app
from tainik.service.instance import Instance
from tainik.service.newsroom import admin, auth
from tainik.storage import newsroom_schema as ns

from .conftest import (
    STAFF_COOKIE,
    Clock,
    Staffer,
    api_token,
    csrf,
    log_in,
    new_staffer,
    post_login,
)


def _state(instance: Instance, name: str) -> str:
    with instance.engine.begin() as db:
        found: str = db.execute(
            select(ns.users.c.state).where(ns.users.c.name == name)
        ).scalar_one()
    return found


def _id(instance: Instance, name: str) -> int:
    with instance.engine.begin() as db:
        return int(db.execute(select(ns.users.c.id).where(ns.users.c.name == name)).scalar_one())


def _actions(instance: Instance, action: str) -> int:
    with instance.engine.begin() as db:
        rows = db.execute(select(ns.audit_log.c.id).where(ns.audit_log.c.action == action)).all()
    return len(rows)


def _act(boss: TestClient, instance: Instance, name: str, action: str) -> Any:
    return boss.post(f"/admin/users/{_id(instance, name)}/{action}", data={"csrf": csrf(boss)})


def _token_request(client: TestClient, staffer: Staffer, clock: Clock) -> Any:
    clock.advance(30)
    return client.post(
        "/api/v1/tokens",
        json={"name": staffer.name, "password": staffer.password, "code": staffer.code(clock)},
    )


def test_reactivating_an_account_that_is_not_deactivated_is_refused(
    admin_client: TestClient, instance: Instance, journalist: Staffer, clock: Clock
) -> None:
    """Reactivating a never-activated (pending) account, or an active one, was answered as
    done and written to the audit log as "user-activated". Now it is refused, and nothing is
    written."""
    refused = _act(admin_client, instance, "jo", "activate")
    assert refused.status_code == 409
    assert "The account jo is not deactivated" in refused.text
    assert _state(instance, "jo") == "pending"
    with TestClient(newsroom_app(instance), follow_redirects=False) as jo:
        log_in(jo, journalist, clock)  # chooses a password: active
    assert _state(instance, "jo") == "active"
    assert _act(admin_client, instance, "jo", "activate").status_code == 409
    assert _actions(instance, "user-activated") == 0
    # In Russian too.
    admin_client.cookies.set("tainik_lang", "ru")
    page = admin_client.post(
        f"/admin/users/{_id(instance, 'jo')}/activate",
        data={"csrf": csrf(admin_client)},
        headers={"Accept-Language": "ru"},
    )
    assert "Учётная запись jo не отключена" in page.text


def test_deactivating_a_deactivated_account_is_refused(
    admin_client: TestClient, instance: Instance, journalist: Staffer
) -> None:
    assert _act(admin_client, instance, "jo", "deactivate").status_code == 303
    again = _act(admin_client, instance, "jo", "deactivate")
    assert again.status_code == 409
    assert "is deactivated already" in again.text
    assert _actions(instance, "user-deactivated") == 1
    assert _act(admin_client, instance, "jo", "activate").status_code == 303
    assert _actions(instance, "user-activated") == 1


@pytest.mark.parametrize("first_login", [True, False])
def test_a_deactivated_account_signs_in_to_nothing(
    admin_client: TestClient, instance: Instance, clock: Clock, first_login: bool
) -> None:
    """With every factor right, a deactivated account (pending or not) is refused exactly as
    a wrong password is, for the pages and for API tokens, and the attempt is audited."""
    staffer = new_staffer(instance, "kim")
    with TestClient(newsroom_app(instance), follow_redirects=False) as kim:
        if not first_login:
            log_in(kim, staffer, clock)
            kim.cookies.delete(STAFF_COOKIE)
        assert _act(admin_client, instance, "kim", "deactivate").status_code == 303
        assert _state(instance, "kim") == ("deactivated_pending" if first_login else "deactivated")
        clock.advance(30)
        wrong = post_login(kim, staffer, staffer.code(clock), password="not the password")
        clock.advance(30)
        right = post_login(kim, staffer, staffer.code(clock))
        assert right.status_code == wrong.status_code == 403
        message = right.text.split('class="error"')[1].split("</")[0]
        assert message == wrong.text.split('class="error"')[1].split("</")[0]
        token = _token_request(kim, staffer, clock)
        assert token.status_code == 403
        clock.advance(30)
        wrong_token = kim.post(
            "/api/v1/tokens",
            json={"name": "kim", "password": "not the password", "code": staffer.code(clock)},
        )
        assert token.json() == wrong_token.json()
    assert kim.cookies.get(STAFF_COOKIE) is None
    assert _actions(instance, "login-failed") >= 2


def test_reactivating_an_account_deactivated_before_its_first_login_keeps_it_pending(
    admin_client: TestClient, instance: Instance, clock: Clock
) -> None:
    """Its one-time password still has to be replaced: reactivation does not make it a
    lasting one (no token is issued for it, every page leads to the password form)."""
    staffer = new_staffer(instance, "lee")
    assert _act(admin_client, instance, "lee", "deactivate").status_code == 303
    assert _act(admin_client, instance, "lee", "activate").status_code == 303
    assert _state(instance, "lee") == "pending"
    with TestClient(newsroom_app(instance), follow_redirects=False) as lee:
        clock.advance(30)
        response = post_login(lee, staffer, staffer.code(clock))
        assert response.headers["location"] == "/account/password"
        assert lee.get("/inbox").headers["location"] == "/account/password"
        refused = _token_request(lee, staffer, clock)
        assert refused.status_code == 403
        assert "Choose a new password first" in refused.json()["message"]
        log_in(lee, staffer, clock)
        assert _state(instance, "lee") == "active"
        api_token(lee, staffer, clock)


def test_a_password_reset_while_deactivated_is_pending_once_reactivated(
    admin_client: TestClient, instance: Instance, journalist: Staffer, clock: Clock
) -> None:
    with TestClient(newsroom_app(instance), follow_redirects=False) as jo:
        log_in(jo, journalist, clock)
    assert _act(admin_client, instance, "jo", "deactivate").status_code == 303
    assert _act(admin_client, instance, "jo", "reset-password").status_code == 200
    assert _state(instance, "jo") == "deactivated_pending"
    assert _act(admin_client, instance, "jo", "activate").status_code == 303
    assert _state(instance, "jo") == "pending"


def test_users_reset_on_the_server_restores_a_deactivated_account_as_pending(
    admin_client: TestClient, instance: Instance, journalist: Staffer, clock: Clock
) -> None:
    with TestClient(newsroom_app(instance), follow_redirects=False) as jo:
        log_in(jo, journalist, clock)
    assert _act(admin_client, instance, "jo", "deactivate").status_code == 303
    made = admin.reset_account_locally(instance, "jo")
    assert made.password is not None
    assert made.totp is not None
    assert _state(instance, "jo") == "pending"
    again = Staffer("jo", made.password.reveal(), made.totp.secret.reveal())
    with TestClient(newsroom_app(instance), follow_redirects=False) as jo:
        clock.advance(30)
        assert post_login(jo, again, again.code(clock)).headers["location"] == "/account/password"


def test_the_users_page_offers_what_each_state_takes(
    admin_client: TestClient, instance: Instance, journalist: Staffer
) -> None:
    assert _act(admin_client, instance, "jo", "deactivate").status_code == 303
    page = admin_client.get("/admin/users").text
    row = page.split('data-name="jo"')[1].split("</tr>")[0]
    assert "<td>deactivated</td>" in row
    assert 'action="/admin/users/' in row
    assert '/activate"' in row
    assert '/deactivate"' not in row
    own = page.split('data-name="ada"')[1].split("</tr>")[0]
    assert "<td>active</td>" in own
    assert '/deactivate"' in own


def test_an_account_deactivated_while_its_login_is_checked_gets_no_session(
    admin_client: TestClient,
    instance: Instance,
    journalist: Staffer,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The login's factors are checked (Argon2id, outside any transaction), then an
    administrator deactivates the account, then the session would be opened: the state is
    loaded again in the session's transaction, and the login is refused."""
    with TestClient(newsroom_app(instance), follow_redirects=False) as jo:
        log_in(jo, journalist, clock)
        jo.cookies.delete(STAFF_COOKIE)
        boss = auth.Credential.session(admin_client.cookies.get(STAFF_COOKIE))
        checked = auth._check_factors

        def then_deactivated(instance: Instance, name: str, password: Secret, code: str) -> Any:
            row = checked(instance, name, password, code)
            admin.set_active(instance, boss, int(row.id), active=False)
            return row

        monkeypatch.setattr(auth, "_check_factors", then_deactivated)
        clock.advance(30)
        assert post_login(jo, journalist, journalist.code(clock)).status_code == 403
        assert jo.cookies.get(STAFF_COOKIE) is None
    with instance.engine.begin() as db:
        sessions = db.execute(
            select(ns.staff_sessions.c.token_hash).where(
                ns.staff_sessions.c.user_id == _id(instance, "jo")
            )
        ).all()
    assert sessions == []
