"""The rules of a key change, in process with a clock the test moves: the banner's 14 days,
a removal, a change made meanwhile, the throttle, and settings that need no confirmation."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tainik import crypto
from tainik.config import CONFIG_NAME
from tainik.server.app import newsroom_app
from tainik.service.instance import Instance
from tainik.service.newsroom import key_change

from .conftest import BASE, Clock, Staffer, csrf, log_in
from .test_settings import confirm_keys


def propose(client: TestClient, recipients: list[str], size: str = "0") -> str:
    response = client.post(
        "/admin/settings",
        data={
            "csrf": csrf(client),
            "recipients": "\n".join(recipients),
            "max_upload_bytes": size,
            "unfinished_upload_hours": "72",
        },
    )
    assert response.status_code == 200, response.text
    return response.text


def saved(instance: Instance) -> list[str]:
    text = (instance.config.data_dir / CONFIG_NAME).read_text()
    return list(tomllib.loads(text)["organisation"]["recipients"])


@pytest.fixture
def second_client(instance: Instance) -> Iterator[TestClient]:
    with TestClient(newsroom_app(instance), base_url=BASE, follow_redirects=False) as test:
        yield test


def test_the_banner_shows_for_fourteen_days(
    admin_client: TestClient,
    second_client: TestClient,
    admin_user: Staffer,
    journalist: Staffer,
    instance: Instance,
    clock: Clock,
    org: crypto.Identity,
) -> None:
    log_in(second_client, journalist, clock)
    assert 'id="keys-changed"' not in second_client.get("/inbox").text
    added = crypto.Identity.generate().recipient
    proposal = propose(admin_client, [org.recipient.text, added.text])
    assert confirm_keys(admin_client, proposal, admin_user, clock).status_code == 303
    assert saved(instance) == [org.recipient.text, added.text]
    clock.advance(key_change.NOTICE_DAYS * 86400 - 120)
    log_in(second_client, journalist, clock)  # a new session, 90 s before the end
    assert 'id="keys-changed"' in second_client.get("/inbox").text
    clock.advance(120)
    assert 'id="keys-changed"' not in second_client.get("/inbox").text


def test_removing_a_key_needs_the_password_and_a_code(
    admin_client: TestClient,
    admin_user: Staffer,
    instance: Instance,
    clock: Clock,
    org: crypto.Identity,
) -> None:
    other = crypto.Identity.generate().recipient
    proposal = propose(admin_client, [org.recipient.text, other.text])
    assert confirm_keys(admin_client, proposal, admin_user, clock).status_code == 303
    proposal = propose(admin_client, [org.recipient.text])
    assert 'name="fingerprint"' not in proposal  # nothing new to type back
    assert other.fingerprint in proposal
    refused = confirm_keys(admin_client, proposal, admin_user, clock, password="wrong password")
    assert refused.status_code == 400
    assert saved(instance) == [org.recipient.text, other.text]
    assert confirm_keys(admin_client, proposal, admin_user, clock).status_code == 303
    assert saved(instance) == [org.recipient.text]


def test_a_change_made_meanwhile_is_not_overwritten(
    admin_client: TestClient,
    admin_user: Staffer,
    instance: Instance,
    clock: Clock,
    org: crypto.Identity,
) -> None:
    first, second = crypto.Identity.generate().recipient, crypto.Identity.generate().recipient
    stale = propose(admin_client, [org.recipient.text, first.text])
    fresh = propose(admin_client, [org.recipient.text, second.text])
    assert confirm_keys(admin_client, fresh, admin_user, clock).status_code == 303
    refused = confirm_keys(admin_client, stale, admin_user, clock)
    assert refused.status_code == 400
    assert "changed by someone else since this page was shown" in refused.text
    assert saved(instance) == [org.recipient.text, second.text]


def test_wrong_answers_are_throttled(
    admin_client: TestClient,
    admin_user: Staffer,
    instance: Instance,
    clock: Clock,
) -> None:
    added = crypto.Identity.generate().recipient
    proposal = propose(admin_client, [added.text])
    for _ in range(5):
        refused = confirm_keys(admin_client, proposal, admin_user, clock, password="guess")
        assert refused.status_code == 400
    # Past five wrong answers in a quarter of an hour even the right ones are refused unchecked.
    refused = confirm_keys(admin_client, proposal, admin_user, clock)
    assert refused.status_code == 429
    assert "Too many wrong passwords" in refused.text
    assert saved(instance) != [added.text]
    clock.advance(16 * 60)
    assert confirm_keys(admin_client, proposal, admin_user, clock).status_code == 303
    assert saved(instance) == [added.text]


def test_other_settings_need_no_confirmation(
    admin_client: TestClient, instance: Instance, org: crypto.Identity
) -> None:
    # The same keys in another order and case, and a new limit: saved at once.
    response = admin_client.post(
        "/admin/settings",
        data={
            "csrf": csrf(admin_client),
            "recipients": org.recipient.text.upper(),
            "max_upload_bytes": "1000000",
            "unfinished_upload_hours": "72",
        },
    )
    assert response.headers["location"] == "/admin/settings?done=settings"
    assert instance.config.max_upload_bytes == 1_000_000
    assert saved(instance) == [org.recipient.text]
    assert "recipients-changed" not in admin_client.get("/admin/audit").text
