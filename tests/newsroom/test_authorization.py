"""Nothing works without a session or token, journalists are not administrators, and every
state-changing form demands its anti-forgery token.

Routes are enumerated from the app itself: a route added later is covered, or fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from tainik.server.app import newsroom_app, routing_of
from tainik.server.newsroom.admin import ACCOUNT_ACTIONS
from tainik.service.instance import Instance
from tainik.service.newsroom import actions
from tainik.service.newsroom.auth import Credential
from tainik.storage import schema
from tainik.storage.schema import metadata

from .conftest import (
    CSRF_COOKIE,
    STAFF_COOKIE,
    Clock,
    SeededSource,
    Staffer,
    api_token,
    csrf,
    log_in,
    set_cookie,
)

# /language only sets the language cookie and sends the browser back to a path on the site.
PUBLIC_PAGES = {("GET", "/"), ("GET", "/login"), ("POST", "/login"), ("POST", "/language")}
PUBLIC_API = {("GET", "/openapi.json"), ("POST", "/tokens")}
# Every field any form has, so that a refusal can only be about what the test leaves out.
ALL_FIELDS = {
    "name": "newname",
    "password": "whatever password",
    "code": "123456",
    "text": "a reply",
    "starred": "1",
    "action": "read",
    "confirm": "1",
    "current": "a long and private passphrase",
    "new": "another long passphrase",
    "repeat": "another long passphrase",
    "recipients": "",
    "max_upload_bytes": "0",
    "unfinished_upload_hours": "5",
    "admin": "1",
}


def routes(instance: Instance) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(method, path template) of the pages and of the API, from the app's routing table."""
    app = routing_of(newsroom_app(instance))
    pages: list[tuple[str, str]] = []
    api: list[tuple[str, str]] = []
    for route in app.routes:
        if isinstance(route, Route):
            pages += [(m, route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
        elif isinstance(route, Mount) and route.path == "/api/v1":
            for inner in route.routes:
                assert isinstance(inner, Route)
                api += [(m, inner.path) for m in sorted(inner.methods or ()) if m != "HEAD"]
    assert len(pages) > 15
    assert len(api) > 10
    return pages, api


def strangers(client: TestClient) -> Iterator[None]:
    """Make ``client`` a stranger twice over: with no session cookie, then a forged one."""
    client.cookies.delete(STAFF_COOKIE)
    yield
    set_cookie(client, STAFF_COOKIE, "forged-" + "x" * 40)
    yield


def concrete(template: str, ids: dict[str, int]) -> Iterator[str]:
    """Every path a template stands for, filled with ids of rows that exist."""
    path = re.sub(r"\{(\w+):int\}", lambda m: str(ids[m.group(1)]), template)
    if "{action}" in path:
        for action in ACCOUNT_ACTIONS:
            yield path.replace("{action}", action)
    else:
        assert "{" not in path, path
        yield path


@pytest.fixture
def ids(instance: Instance, source: SeededSource, journalist: Staffer) -> dict[str, int]:
    """Ids of a source, its submission and a reply, and of the journalist's account."""
    from tainik.service import sources

    sources.add_reply(instance, source.id, "a reply")
    with instance.engine.begin() as db:
        submission = db.execute(select(schema.submissions.c.id)).scalars().first()
        reply = db.execute(select(schema.replies.c.id)).scalar_one()
        user = db.execute(
            select(metadata.tables["users"].c.id).where(
                metadata.tables["users"].c.name == journalist.name
            )
        ).scalar_one()
    assert submission is not None
    return {"source_id": source.id, "submission_id": submission, "reply_id": reply, "user_id": user}


def snapshot(instance: Instance) -> tuple[object, ...]:
    """Row counts of every table but the login-attempt log, sources' stars, and the blobs."""
    counts = []
    with instance.engine.begin() as db:
        for name, table in sorted(metadata.tables.items()):
            if name != "login_failures":
                counts.append((name, db.execute(select(func.count()).select_from(table)).scalar()))
        stars = db.execute(select(schema.sources.c.starred)).scalars().all()
    blobs = sorted(p.name for p in Path(instance.config.blobs_dir).iterdir())
    return tuple(counts), tuple(stars), tuple(blobs), instance.config


def test_no_page_works_without_a_session(
    client: TestClient, instance: Instance, ids: dict[str, int]
) -> None:
    pages, _api = routes(instance)
    token = csrf(client)
    before = snapshot(instance)
    checked = 0
    for method, template in pages:
        if (method, template) in PUBLIC_PAGES:
            continue
        for path in concrete(template, ids):
            for _stranger in strangers(client):
                response = client.request(method, path, data={**ALL_FIELDS, "csrf": token})
                assert response.status_code == 303, (method, path, response.status_code)
                location = response.headers["location"]
                if method == "GET" and not location.startswith("/login"):
                    # a GET of a POST-only path: to the page it belongs to, which needs a session
                    followed = client.get(location, follow_redirects=True)
                    assert followed.url.path == "/login", (method, path, followed.url)
                else:
                    assert location.startswith("/login"), (method, path)
                checked += 1
    assert checked >= 30
    assert snapshot(instance) == before


def test_no_api_call_works_without_a_token(
    client: TestClient, instance: Instance, ids: dict[str, int], journalist: Staffer, clock: Clock
) -> None:
    _pages, api = routes(instance)
    log_in(client, journalist, clock)  # a page session is no API credential
    before = snapshot(instance)
    bad_headers: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer " + "A" * 43},
        {"Authorization": "Basic am86cGFzcw=="},
        {"Authorization": f"Bearer {client.cookies.get(STAFF_COOKIE)}"},
    ]
    for method, template in api:
        if (method, template) in PUBLIC_API:
            continue
        for path in concrete(template, ids):
            for headers in bad_headers:
                response = client.request(
                    method, "/api/v1" + path, headers=headers, json={"text": "x"}
                )
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.json()["error"] == "unauthorized"
                assert response.headers["www-authenticate"] == "Bearer"
    assert snapshot(instance) == before
    # And with a token, the same calls work (the check above is not vacuous).
    headers = api_token(client, journalist, clock)
    assert client.get("/api/v1/sources", headers=headers).status_code == 200


def test_an_expired_token_is_refused(client: TestClient, journalist: Staffer, clock: Clock) -> None:
    from tainik.service.newsroom.auth import TOKEN_LIFETIME

    log_in(client, journalist, clock)
    headers = api_token(client, journalist, clock)
    clock.advance(TOKEN_LIFETIME.total_seconds() - 1)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(2)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    fresh = api_token(client, journalist, clock)
    assert client.delete("/api/v1/tokens/current", headers=fresh).status_code == 204
    assert client.get("/api/v1/me", headers=fresh).status_code == 401
    assert client.delete("/api/v1/tokens/current", headers=fresh).status_code == 401


def test_a_journalist_cannot_do_what_administrators_do(
    client: TestClient, instance: Instance, ids: dict[str, int], journalist: Staffer, clock: Clock
) -> None:
    pages, _api = routes(instance)
    admin_routes = [(m, t) for m, t in pages if t.startswith("/admin")]
    assert len(admin_routes) >= 6
    log_in(client, journalist, clock)
    token = csrf(client)
    before = snapshot(instance)
    for method, template in admin_routes:
        for path in concrete(template, ids):
            response = client.request(
                method, path, data={**ALL_FIELDS, "csrf": token}, follow_redirects=True
            )  # a GET of a POST-only path is sent on to its page, which refuses
            assert response.status_code == 403, (method, path, response.status_code)
            assert "only an administrator" in response.text
            assert "one-time-password" not in response.text
    assert snapshot(instance) == before
    # The journalist's own pages work.
    assert client.get("/inbox").status_code == 200
    assert client.get(f"/sources/{ids['source_id']}").status_code == 200
    # And the service refuses too, whatever the caller.
    from tainik.service.newsroom import admin
    from tainik.service.newsroom.errors import ForbiddenError

    with pytest.raises(ForbiddenError):
        admin.add_account(instance, Credential.session(client.cookies.get(STAFF_COOKIE)), "x", True)


def test_an_administrator_can(admin_client: TestClient, ids: dict[str, int]) -> None:
    for path in ("/admin/users", "/admin/settings", "/admin/audit"):
        assert admin_client.get(path).status_code == 200, path


def test_every_form_demands_the_csrf_token(
    admin_client: TestClient, instance: Instance, ids: dict[str, int]
) -> None:
    pages, _api = routes(instance)
    posts = [t for m, t in pages if m == "POST"]
    assert {"/login", "/logout", "/sources/{source_id:int}/reply"} <= set(posts)
    good = csrf(admin_client)
    before = snapshot(instance)
    checked = 0
    for template in posts:
        for path in concrete(template, ids):
            for field in (None, "forged", good + "x"):
                data = dict(ALL_FIELDS)
                if field is not None:
                    data["csrf"] = field
                response = admin_client.post(path, data=data)
                assert response.status_code == 403, (path, field, response.status_code)
                assert "did not come from this site" in response.text, path
                checked += 1
            # The right token in the form but no cookie: refused as well.
            admin_client.cookies.delete(CSRF_COOKIE)
            response = admin_client.post(path, data={**ALL_FIELDS, "csrf": good})
            assert response.status_code == 403, path
            set_cookie(admin_client, CSRF_COOKIE, good)
    assert checked >= 3 * 12
    assert snapshot(instance) == before
    # The session survived all of that, and a proper form still works.
    response = admin_client.post(
        f"/sources/{ids['source_id']}/star", data={"csrf": good, "starred": "1"}
    )
    assert response.status_code == 303


def test_service_functions_check_the_credential(instance: Instance, ids: dict[str, int]) -> None:
    from tainik.service.newsroom.errors import StaffSessionError

    for credential in (Credential.session(None), Credential.token("A" * 43)):
        with pytest.raises(StaffSessionError):
            actions.delete_source(instance, credential, ids["source_id"])
    with instance.engine.begin() as db:
        assert db.execute(select(func.count()).select_from(schema.sources)).scalar() == 1


@pytest.fixture
def kdf_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Argon2id hash or verification of a staff password, by name."""
    from tainik.service.newsroom import factors

    calls: list[str] = []
    for name in ("hash_password", "verify_password"):
        real = getattr(factors, name)

        def spy(*args: object, _real: Any = real, _name: str = name) -> object:
            calls.append(_name)
            return _real(*args)

        monkeypatch.setattr(factors, name, spy)
    return calls


def test_a_refused_form_costs_no_kdf(
    client: TestClient,
    instance: Instance,
    ids: dict[str, int],
    journalist: Staffer,
    clock: Clock,
    kdf_calls: list[str],
) -> None:
    """Who asks (and the anti-forgery token) is checked before any Argon2id work."""
    pages, _api = routes(instance)
    # /login and /language are public (the language switch touches no account).
    posts = [t for m, t in pages if m == "POST" and t not in ("/login", "/language")]
    assert "/admin/users/{user_id:int}/{action}" in posts
    token = csrf(client)
    for template in posts:
        for path in concrete(template, ids):
            for _stranger in strangers(client):
                response = client.post(path, data={**ALL_FIELDS, "csrf": token})
                assert response.status_code == 303, (path, response.status_code)
                assert kdf_calls == [], path
    # A journalist asking for an administrator's action, and anyone without the token.
    log_in(client, journalist, clock)
    kdf_calls.clear()
    for template in posts:
        for path in concrete(template, ids):
            if template.startswith("/admin"):
                response = client.post(path, data={**ALL_FIELDS, "csrf": csrf(client)})
                assert response.status_code == 403, path
            response = client.post(path, data={**ALL_FIELDS, "csrf": "forged"})
            assert response.status_code == 403, path
            assert kdf_calls == [], path
    assert client.post("/login", data={**ALL_FIELDS, "csrf": "forged"}).status_code == 403
    assert kdf_calls == []


# Calls that change state yet are open to a read-only token: getting a token (no token is
# involved) and revoking the token of the request (it only takes power away).
OPEN_TO_READ_TOKENS = {("POST", "/tokens"), ("DELETE", "/tokens/current")}


def test_a_read_only_token_changes_nothing(
    client: TestClient, instance: Instance, ids: dict[str, int], journalist: Staffer, clock: Clock
) -> None:
    """Every API route whose method is not GET refuses a read-only token with 403 (walked from
    the routing table: a route added later is covered), before it reads the body; every GET
    route works with it."""
    _pages, api = routes(instance)
    log_in(client, journalist, clock)
    read = api_token(client, journalist, clock, scope="read")
    client.cookies.clear()  # the API alone
    assert client.get("/api/v1/me", headers=read).json()["scope"] == "read"
    before = snapshot(instance)
    refused = 0
    for method, template in api:
        if method == "GET" or (method, template) in OPEN_TO_READ_TOKENS:
            continue
        for path in concrete(template, ids):
            for body in ({"text": "a reply"}, None):
                response = client.request(method, "/api/v1" + path, headers=read, json=body)
                assert response.status_code == 403, (method, path, response.text)
                assert response.json()["error"] == "forbidden"
                assert "may only read" in response.json()["message"]
                refused += 1
    assert refused >= 2 * 4
    assert snapshot(instance) == before
    # Every GET works with the read-only token (downloads mark read and are audited).
    for method, template in api:
        if method != "GET":
            continue
        for path in concrete(template, ids):
            response = client.request(method, "/api/v1" + path, headers=read)
            assert response.status_code == 200, (method, path, response.text)
    # The service refuses too, whatever the web layer does.
    from tainik.service.newsroom.errors import TokenScopeError

    token = Credential.token(read["Authorization"].removeprefix("Bearer "))
    with pytest.raises(TokenScopeError):
        actions.delete_source(instance, token, ids["source_id"])
    with pytest.raises(TokenScopeError):
        actions.reply(instance, token, ids["source_id"], "a reply")
    # A full token may (so the refusals above are about the scope), and a read-only token may
    # revoke itself.
    full = api_token(client, journalist, clock, scope="full")
    assert client.delete(f"/api/v1/replies/{ids['reply_id']}", headers=full).status_code == 204
    assert client.delete("/api/v1/tokens/current", headers=read).status_code == 204
    assert client.get("/api/v1/me", headers=read).status_code == 401


def test_a_token_is_read_only_unless_asked_otherwise(
    client: TestClient, journalist: Staffer, clock: Clock
) -> None:
    log_in(client, journalist, clock)
    client.cookies.clear()
    clock.advance(30)
    body = {"name": journalist.name, "password": journalist.password}
    made = client.post("/api/v1/tokens", json={**body, "code": journalist.code(clock)})
    assert made.status_code == 201
    assert made.json()["scope"] == "read"
    clock.advance(30)
    odd = client.post(
        "/api/v1/tokens", json={**body, "code": journalist.code(clock), "scope": "admin"}
    )
    assert odd.status_code == 400
    assert "'read' or 'full'" in odd.json()["message"]
