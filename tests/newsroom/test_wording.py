"""Newsroom wording: error pages keep the navigation, messages speak to a person, and the
Russian words are the ones a person would use."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from newsroom.conftest import Clock, SeededSource, Staffer, csrf, post_login
from tainik.service.newsroom import password_policy


def test_an_error_page_keeps_the_newsroom_navigation(journalist_client: TestClient) -> None:
    missing = journalist_client.get("/sources/987654")
    assert missing.status_code == 404
    assert 'id="nav-inbox"' in missing.text
    assert 'id="logout"' in missing.text
    assert "Not found" in missing.text


def test_an_error_page_for_a_stranger_has_no_navigation(client: TestClient) -> None:
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert 'id="nav-inbox"' not in missing.text


def test_an_admin_error_keeps_the_admin_navigation(admin_client: TestClient) -> None:
    refused = admin_client.post(
        "/admin/users/987654/deactivate", data={"csrf": admin_client.cookies["tainik_csrf"]}
    )
    assert refused.status_code >= 400
    assert 'id="nav-settings"' in refused.text


def test_a_complete_item_is_not_in_stock_in_russian(
    journalist_client: TestClient, source: SeededSource
) -> None:
    page = journalist_client.get(f"/sources/{source.id}", headers={"Accept-Language": "ru"})
    assert "получено полностью" in page.text
    assert "в наличии" not in page.text


@pytest.mark.parametrize(
    "password",
    ["password1234", "P@ssw0rd2024!", "qwerty123456", "letmeinletmein", "пароль123456", "a" * 14],
)
def test_a_common_password_is_refused(
    client: TestClient, journalist: Staffer, clock: Clock, password: str
) -> None:
    """`password1234` passed the length rule: it is the first password anyone tries."""
    clock.advance(30)
    assert post_login(client, journalist, journalist.code(clock)).status_code == 303
    form = {"csrf": csrf(client), "current": journalist.password}
    refused = client.post("/account/password", data=form | {"new": password, "repeat": password})
    assert refused.status_code == 400
    assert "one of the first an attacker would try" in refused.text
    russian = client.post(
        "/account/password",
        data=form | {"new": password, "repeat": password},
        headers={"Accept-Language": "ru"},
    )
    assert "одним из первых" in russian.text
    fine = "lantern orchard vinegar parade"
    accepted = client.post("/account/password", data=form | {"new": fine, "repeat": fine})
    assert accepted.status_code == 303


def test_the_common_password_list_is_shipped_with_its_source() -> None:
    words = password_policy.common_words()
    assert {"password", "qwerty", "letmein", "пароль"} <= words
    assert not password_policy.is_common("lantern orchard vinegar parade")
    header = (
        Path(password_policy.__file__).with_name("common-passwords.txt").read_text().split("\n")
    )
    assert any("SecLists" in line for line in header[:5])
    assert any("MIT License" in line for line in header[:5])
