"""Issue 14: switching language never loses a page reached by POST (the codename above all).

A page reached by GET switches with a link to itself; a page reached by POST switches with a
form to ``POST /language`` (the ``?lang=`` link asked for a GET of a POST-only path: 405, and
the codename, shown once, was gone). A GET of a POST-only path redirects to its page.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from tainik.service.instance import Instance

from .conftest import csrf, new_source

LANGUAGE_LINK = re.compile(r'href="\?lang=')


def switch_forms(html: str) -> list[dict[str, str]]:
    """The hidden fields of each language switch form on a page."""
    forms = re.findall(r'<form method="post" action="/language".*?</form>', html, re.S)
    return [dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form)) for form in forms]


def codename_on(html: str) -> str:
    words = html.split('id="codename"')[1].split("</p>", maxsplit=1)[0]
    return " ".join(w.split("</span>")[0] for w in words.split("<span>")[1:])


def switch(client: TestClient, html: str, lang: str = "ru") -> Any:
    """Submit the page's switch form to ``lang``, as a browser would (following redirects)."""
    [fields] = [f for f in switch_forms(html) if f["lang"] == lang]
    return client.post("/language", data=fields)


def test_the_codename_survives_the_switch_to_russian_and_back(client: TestClient) -> None:
    page = client.post("/generate", data={"csrf": csrf(client)})
    codename = codename_on(page.text)
    assert not LANGUAGE_LINK.search(page.text)
    russian = switch(client, page.text)
    assert russian.status_code == 200
    assert '<html lang="ru">' in russian.text
    assert "Ваше кодовое имя" in russian.text
    assert codename_on(russian.text) == codename
    assert client.cookies.get("tainik_lang") == "ru"
    english = switch(client, russian.text, "en")
    assert codename_on(english.text) == codename
    assert '<html lang="en">' in english.text
    # still logged in as that source
    assert client.get("/lookup", follow_redirects=False).status_code == 200


def test_the_switch_shows_only_codenames_and_needs_the_csrf_token(client: TestClient) -> None:
    token = csrf(client)
    fields = {"csrf": token, "lang": "ru", "page": "codename", "back": "/generate"}
    for text in ("<script>alert(1)</script>", "seven words that are not from the list", ""):
        response = client.post("/language", data={**fields, "codename": text})
        assert response.status_code == 400
        assert "script" not in response.text.split("<main>")[1]
    forged = client.post("/language", data={**fields, "csrf": "x" * 43})
    assert forged.status_code == 403
    assert client.post("/language", data={**fields, "lang": "de"}).status_code == 400


def test_logout_page_switches_language_and_stays(client: TestClient) -> None:
    new_source(client)
    page = client.post("/logout", data={"csrf": csrf(client)})
    assert page.status_code == 200
    assert not LANGUAGE_LINK.search(page.text)
    russian = switch(client, page.text)
    assert russian.status_code == 200
    assert "Вы вышли" in russian.text


def test_an_error_page_of_a_post_switches_to_the_page_it_belongs_to(
    client: TestClient, instance: Instance
) -> None:
    new_source(client)
    page = client.post(
        "/submit",
        data={"csrf": csrf(client), "message": "я" * 100_001},
        files=[("files", ("", b""))],
    )
    assert page.status_code == 400
    assert not LANGUAGE_LINK.search(page.text)
    russian = switch(client, page.text)
    assert russian.status_code == 200
    assert str(russian.url).endswith("/lookup")
    assert '<html lang="ru">' in russian.text
    # a login refused (a page of a path that has a GET) switches to that path
    bad = client.post("/login", data={"csrf": csrf(client), "codename": "no such words"})
    assert not LANGUAGE_LINK.search(bad.text)
    again = switch(client, bad.text, "en")  # the page is in Russian now
    assert str(again.url).endswith("/login")
    assert '<html lang="en">' in again.text


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/generate", "/"),
        ("/submit", "/lookup"),
        ("/logout", "/"),
        ("/replies/3/delete", "/lookup"),
    ],
)
def test_a_get_of_a_post_only_path_redirects(client: TestClient, path: str, target: str) -> None:
    response = client.get(f"{path}?lang=ru", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == target


@pytest.mark.parametrize("back", ["//evil.example/", "https://evil.example/", "/x?y", "x", ""])
def test_the_switch_never_redirects_off_the_site(client: TestClient, back: str) -> None:
    response = client.post(
        "/language",
        data={"csrf": csrf(client), "lang": "ru", "back": back},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_pages_reached_by_get_keep_their_links(client: TestClient) -> None:
    assert LANGUAGE_LINK.search(client.get("/").text)
    assert not switch_forms(client.get("/").text)
