"""The workstation's JSON API, in process, and its OpenAPI document kept in sync with routes."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from tainik.server.app import newsroom_app, routing_of
from tainik.server.newsroom.openapi import document
from tainik.service.instance import Instance

from .conftest import Clock, SeededSource, Staffer, api_token, log_in, seed_source


@pytest.fixture
def headers(client: TestClient, journalist: Staffer, clock: Clock) -> dict[str, str]:
    log_in(client, journalist, clock)
    client.cookies.clear()  # only the token from here on
    return api_token(client, journalist, clock)


def test_token_and_me(client: TestClient, headers: dict[str, str], journalist: Staffer) -> None:
    me = client.get("/api/v1/me", headers=headers)
    assert me.json() == {"name": "jo", "is_admin": False, "scope": "full"}


def test_token_requests_are_checked(client: TestClient, journalist: Staffer, clock: Clock) -> None:
    log_in(client, journalist, clock)
    for body, status in [
        ({"name": "jo", "password": journalist.password}, 400),
        ({"name": "jo", "password": journalist.password, "code": 123456}, 400),
        ({"name": "jo", "password": "wrong", "code": "123456"}, 403),
    ]:
        response = client.post("/api/v1/tokens", json=body)
        assert response.status_code == status, body
        assert set(response.json()) == {"error", "message"}
    assert (
        client.post(
            "/api/v1/tokens", content=b"[]", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert client.post("/api/v1/tokens", data={"name": "jo"}).status_code == 400


def test_listings_since_a_time_page_by_page(
    client: TestClient, headers: dict[str, str], instance: Instance, clock: Clock
) -> None:
    first = seed_source(instance, "first")
    clock.advance(3600)  # submission times are kept by the hour
    start = clock.now
    second = seed_source(instance, "second")
    everything = client.get("/api/v1/submissions", headers=headers).json()
    assert [i["source_id"] for i in everything["items"]] == [first.id] * 2 + [second.id] * 2
    assert everything["next_cursor"] is None
    item = everything["items"][0]
    assert set(item) == {
        "id", "source_id", "sealed_id", "kind", "size", "created_at", "read", "complete",
        "download",
    }  # fmt: skip
    assert item["kind"] == "message"
    assert item["complete"] is True
    assert item["created_at"].endswith("Z")
    since = start.isoformat()
    recent = client.get("/api/v1/submissions", params={"since": since}, headers=headers).json()
    assert [i["source_id"] for i in recent["items"]] == [second.id] * 2
    # Page by page, one at a time: every item exactly once, in order.
    seen, cursor = [], None
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/submissions", params=params, headers=headers).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [i["id"] for i in everything["items"]]
    by_source = client.get(
        "/api/v1/submissions", params={"source_id": str(first.id)}, headers=headers
    ).json()
    assert {i["source_id"] for i in by_source["items"]} == {first.id}
    sources = client.get("/api/v1/sources", params={"since": since}, headers=headers).json()
    assert [s["id"] for s in sources["items"]] == [second.id]
    assert sources["items"][0]["submissions"] == 2
    assert sources["items"][0]["unread"] == 2
    one = client.get(f"/api/v1/sources/{first.id}", headers=headers).json()
    assert (
        one["designation"]
        == client.get("/api/v1/sources", headers=headers).json()["items"][0]["designation"]
    )


@pytest.mark.parametrize(
    "query",
    ["since=yesterday", "limit=0", "limit=501", "limit=x", "cursor=abc", "cursor=9" * 30,
     "source_id=-1", f"cursor={10**30}.1",
     # Extremes that parse but overflow: a time that leaves datetime's range once moved to
     # UTC, and a row id beyond the database's integers.
     "since=0001-01-01T00:00:00%2B14:00", "since=9999-12-31T23:59:59-14:00",
     f"cursor=0.{10**30}", f"cursor=1.{2**63}"],
)  # fmt: skip
def test_bad_parameters_are_400(client: TestClient, headers: dict[str, str], query: str) -> None:
    feeds = ["submissions", "replies"] + ([] if "source_id" in query else ["sources"])
    for feed in feeds:
        response = client.get(f"/api/v1/{feed}?{query}", headers=headers)
        assert response.status_code == 400, (feed, response.text)
        assert response.json()["error"] == "bad_request"


def test_reply_then_delete_through_the_api(
    client: TestClient,
    headers: dict[str, str],
    source: SeededSource,
    source_client: TestClient,
    instance: Instance,
) -> None:
    created = client.post(
        f"/api/v1/sources/{source.id}/replies",
        json={"text": "from the workstation"},
        headers=headers,
    )
    assert created.status_code == 201
    reply_id = created.json()["id"]
    replies = client.get("/api/v1/replies", headers=headers).json()["items"]
    assert [(r["id"], r["author"], r["read"]) for r in replies] == [(reply_id, "jo", True)]
    source_client.cookies.set("tainik_source", source.cookie, domain="source.test")
    assert "from the workstation" in source_client.get("/lookup").text
    for body in ({"text": " "}, {"text": 5}, {}, {"text": "x" * 200_001}):
        assert (
            client.post(
                f"/api/v1/sources/{source.id}/replies", json=body, headers=headers
            ).status_code
            == 400
        )
    assert (
        client.post("/api/v1/sources/9999/replies", json={"text": "x"}, headers=headers).status_code
        == 404
    )
    assert client.delete(f"/api/v1/replies/{reply_id}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/replies/{reply_id}", headers=headers).status_code == 404
    items = client.get("/api/v1/submissions", headers=headers).json()["items"]
    assert (
        client.delete(f"/api/v1/submissions/{items[0]['id']}", headers=headers).status_code == 204
    )
    assert len(list(instance.blobs.ids())) == 1
    assert client.delete(f"/api/v1/sources/{source.id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/sources/{source.id}", headers=headers).status_code == 404
    assert list(instance.blobs.ids()) == []


def test_unknown_paths_and_methods_answer_json(client: TestClient, headers: dict[str, str]) -> None:
    missing = client.get("/api/v1/nowhere", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    wrong = client.put("/api/v1/sources", headers=headers)
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "method_not_allowed"
    assert client.get(f"/api/v1/sources/{2**70}", headers=headers).status_code == 404


def _template(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def test_the_openapi_document_matches_the_routes(instance: Instance, client: TestClient) -> None:
    app = routing_of(newsroom_app(instance))
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1")
    routed = {
        (method.lower(), _template(route.path))
        for route in mount.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    doc = document()
    documented = {
        (method, path)
        for path, operations in doc["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert routed == documented, (routed - documented, documented - routed)
    # Path parameters named in a path are declared, and vice versa.
    for path, operations in doc["paths"].items():
        named = set(re.findall(r"\{(\w+)\}", path))
        for operation in operations.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == named, path
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.json() == doc
    assert doc["openapi"].startswith("3.")


def test_lone_surrogates_in_json_are_refused(
    client: TestClient, headers: dict[str, str], source: SeededSource
) -> None:
    json_headers = {"Content-Type": "application/json"}
    token_body = b'{"name": "jo", "password": "\\ud800", "code": "123456"}'
    assert (
        client.post("/api/v1/tokens", content=token_body, headers=json_headers).status_code == 400
    )
    reply_body = b'{"text": "hello \\udc00"}'
    response = client.post(
        f"/api/v1/sources/{source.id}/replies",
        content=reply_body,
        headers={**headers, **json_headers},
    )
    assert response.status_code == 400
