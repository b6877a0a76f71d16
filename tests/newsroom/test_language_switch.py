"""Issue 14, the newsroom's side: no page reached by POST offers a language link that 405s."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from .conftest import SeededSource, Staffer, csrf, post_login

LANGUAGE_LINK = re.compile(r'href="\?lang=')


def switch_fields(html: str, lang: str) -> dict[str, str]:
    [form] = [
        f
        for f in re.findall(r'<form method="post" action="/language".*?</form>', html, re.S)
        if f'name="lang" value="{lang}"' in f
    ]
    return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))


def test_a_refused_login_switches_language_to_the_login_page(
    client: TestClient, journalist: Staffer
) -> None:
    refused = post_login(client, journalist, "000000", password="wrong password")
    assert refused.status_code == 403
    assert not LANGUAGE_LINK.search(refused.text)
    russian = client.post(
        "/language", data=switch_fields(refused.text, "ru"), follow_redirects=True
    )
    assert russian.status_code == 200
    assert str(russian.url).endswith("/login")
    assert '<html lang="ru">' in russian.text


def test_one_time_secrets_offer_no_switch_that_would_lose_them(admin_client: TestClient) -> None:
    made = admin_client.post("/admin/users", data={"csrf": csrf(admin_client), "name": "newbie"})
    assert made.status_code == 200
    assert 'id="one-time-password"' in made.text
    assert not LANGUAGE_LINK.search(made.text)
    assert 'action="/language"' not in made.text


def test_an_error_page_of_a_post_switches_to_the_page_it_belongs_to(
    journalist_client: TestClient, source: SeededSource
) -> None:
    refused = journalist_client.post(
        f"/sources/{source.id}/reply", data={"csrf": csrf(journalist_client), "text": ""}
    )
    assert refused.status_code >= 400
    assert not LANGUAGE_LINK.search(refused.text)
    russian = journalist_client.post(
        "/language", data=switch_fields(refused.text, "ru"), follow_redirects=True
    )
    assert russian.status_code == 200
    assert str(russian.url).endswith(f"/sources/{source.id}")


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/logout", "/"),
        ("/sources/5/reply", "/sources/5"),
        ("/sources/5/star", "/sources/5"),
        ("/sources/5/items", "/sources/5"),
        ("/sources/5/delete", "/sources/5"),
        ("/admin/users/2/reset-password", "/admin/users"),
    ],
)
def test_a_get_of_a_post_only_path_redirects(client: TestClient, path: str, target: str) -> None:
    response = client.get(f"{path}?lang=ru", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == target
