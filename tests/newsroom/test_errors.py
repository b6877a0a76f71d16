"""One error path (issue 16): the source app and the newsroom app, their pages and their JSON
APIs, answer the same error the same way: the same status, code and message, in the
request's language."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from tainik.server.exception_handlers import answer
from tainik.server.page_language import translations
from tainik.service.errors import CsrfError, RequestError
from tainik.service.newsroom.errors import StaffSessionError

from .conftest import Clock, Staffer, api_token, csrf, log_in

RUSSIAN = {"Accept-Language": "ru"}


@pytest.fixture
def headers(client: TestClient, journalist: Staffer, clock: Clock) -> dict[str, str]:
    log_in(client, journalist, clock)
    client.cookies.clear()  # only the token from here on
    return api_token(client, journalist, clock)


def source_api(source_client: TestClient) -> dict[str, str]:
    source_client.get("/")
    return {"x-csrf-token": source_client.cookies["tainik_csrf"]}


@pytest.mark.parametrize("language", [{}, RUSSIAN], ids=["english", "russian"])
def test_both_apis_answer_the_same_error_the_same_way(
    client: TestClient,
    source_client: TestClient,
    headers: dict[str, str],
    language: dict[str, str],
) -> None:
    api = {**source_api(source_client), **language}
    token = {**headers, **language}
    pairs = [
        # A malformed request (RequestError), raised by each API's own parsing.
        (
            source_client.post("/api/login", json={"codename": 5}, headers=api),
            client.get("/api/v1/sources?since=yesterday", headers=token),
        ),
        # No such path, and a method the path does not have (Starlette's own errors).
        (
            source_client.get("/api/nowhere", headers=api),
            client.get("/api/v1/nowhere", headers=token),
        ),
        (
            source_client.put("/api/session", headers=api),
            client.put("/api/v1/sources", headers=token),
        ),
    ]
    for source, newsroom in pairs:
        assert source.status_code == newsroom.status_code
        assert source.json() == newsroom.json()
        assert set(source.json()) == {"error", "message"}
    assert [s.json()["error"] for s, _n in pairs] == [
        "bad_request",
        "not_found",
        "method_not_allowed",
    ]
    malformed = pairs[0][1].json()["message"]
    expected = RequestError().message(translations("ru" if language else "en").gettext)
    assert malformed == expected
    assert (malformed == "The request was malformed") == (not language)
    assert "GET" in pairs[2][1].headers["allow"]


def test_both_apps_pages_answer_the_same_error_the_same_way(
    client: TestClient, source_client: TestClient
) -> None:
    """A forged form (CsrfError) on either listener's login page: the same status and the
    same message, in the page's language."""
    csrf(client)
    source_api(source_client)
    for language in ({}, RUSSIAN):
        source = source_client.post(
            "/login", data={"csrf": "forged", "codename": "x"}, headers=language
        )
        newsroom = client.post(
            "/login", data={"csrf": "forged", "name": "jo", "password": "x", "code": "1"},
            headers=language,
        )  # fmt: skip
        assert source.status_code == newsroom.status_code == 403
        message = CsrfError().message(translations("ru" if language else "en").gettext)
        for page in (source, newsroom):
            shown = re.search(r'<p class="error" role="alert">([^<]*)</p>', page.text)
            assert shown is not None, page.text
            assert shown.group(1).replace("&#39;", "'") == message


def test_the_newsroom_api_speaks_the_requests_language(
    client: TestClient, headers: dict[str, str]
) -> None:
    """Decided in issue 16 (docs/api.md, "Errors"): the message follows Accept-Language,
    English when the request names none, as it always was for scripts."""
    plain = client.get("/api/v1/sources/999", headers=headers)
    russian = client.get("/api/v1/sources/999", headers={**headers, **RUSSIAN})
    assert plain.status_code == russian.status_code == 404
    assert plain.json() == {"error": "not_found", "message": "Not found"}
    assert russian.json()["error"] == "not_found"
    assert russian.json()["message"] == translations("ru").gettext("Not found") != "Not found"


def test_a_missing_token_is_challenged_and_a_page_never_answers_401(
    client: TestClient,
) -> None:
    refused = client.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["error"] == "unauthorized"
    found = answer(StaffSessionError())
    assert (found.status, found.page_status, found.code) == (401, 403, "unauthorized")
