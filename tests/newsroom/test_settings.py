"""Instance settings from the administration page: tainik.toml and the running server."""

from __future__ import annotations

import html
import re
import tomllib

import httpx2
from starlette.testclient import TestClient

from tainik import crypto
from tainik.core.errors import NotARecipientError
from tainik.instance import CONFIG_NAME, load_config
from tainik.sealed.reader import read_small
from tainik.service.instance import Instance
from tainik.service.newsroom.settings import set_key

from .conftest import Clock, Staffer, csrf, seed_source


def confirm_keys(
    client: TestClient,
    proposal: str,
    staffer: Staffer,
    clock: Clock,
    *,
    fingerprints: list[str] | None = None,
    password: str | None = None,
) -> httpx2.Response:
    """Post the confirmation form that ``proposal`` (the page the settings form answered with)
    shows: its hidden fields, each new key's fingerprint as shown (unless given), the password
    and the code of the next time step."""
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', proposal))
    shown = re.findall(r'class="fingerprint" id="fingerprint-\d+">([0-9a-f ]+)<', proposal)
    clock.advance(30)
    return client.post(
        "/admin/settings/keys",
        data={
            **{name: html.unescape(value) for name, value in hidden.items()},
            "fingerprint": shown if fingerprints is None else fingerprints,
            "password": staffer.password if password is None else password,
            "code": staffer.code(clock),
        },
    )


def test_an_administrator_changes_the_settings(
    admin_client: TestClient,
    instance: Instance,
    org: crypto.Identity,
    admin_user: Staffer,
    clock: Clock,
) -> None:
    second = crypto.Identity.generate()
    page = admin_client.get("/admin/settings").text
    assert org.recipient.text in page
    response = admin_client.post(
        "/admin/settings",
        data={
            "csrf": csrf(admin_client),
            "recipients": f"{org.recipient.text}\r\n{second.recipient.text}\r\n",
            "max_upload_bytes": "5000000",
            "unfinished_upload_hours": "24",
        },
    )
    # A new key: nothing is written until it is confirmed.
    assert response.status_code == 200
    assert second.recipient.fingerprint in response.text
    assert load_config(instance.config.data_dir).recipients == (org.recipient,)
    response = confirm_keys(admin_client, response.text, admin_user, clock)
    assert response.headers["location"] == "/admin/settings?done=keys"
    path = instance.config.data_dir / CONFIG_NAME
    text = path.read_text()
    saved = tomllib.loads(text)
    assert saved["organisation"]["recipients"] == [org.recipient.text, second.recipient.text]
    assert saved["limits"]["max_upload_bytes"] == 5_000_000
    assert saved["limits"]["unfinished_upload_hours"] == 24
    assert "codename_salt" in text  # nothing else lost
    assert "# Largest upload in bytes" in text  # comments kept
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    # In force at once, and what the next start reads.
    assert instance.config.max_upload_bytes == 5_000_000
    assert [r.text for r in instance.config.recipients] == [
        org.recipient.text,
        second.recipient.text,
    ]
    assert load_config(instance.config.data_dir) == instance.config
    audit = admin_client.get("/admin/audit").text
    assert "changed instance settings" in audit
    assert "max_upload_bytes: 0 -&gt; 5000000" in audit


def test_bad_values_change_nothing(admin_client: TestClient, instance: Instance) -> None:
    path = instance.config.data_dir / CONFIG_NAME
    before, config = path.read_text(), instance.config
    for recipients, size, hours, problem in [
        ("", "0", "5", "recipients"),
        ("age1notakey", "0", "5", "recipients"),
        (instance.config.recipients[0].text, "-1", "5", "max_upload_bytes"),
        (instance.config.recipients[0].text, "0", "0", "unfinished_upload_hours"),
        (instance.config.recipients[0].text, "0", "1e3", "unfinished_upload_hours"),
    ]:
        response = admin_client.post(
            "/admin/settings",
            data={"csrf": csrf(admin_client), "recipients": recipients,
                  "max_upload_bytes": size, "unfinished_upload_hours": hours},
        )  # fmt: skip
        assert response.status_code == 400, (recipients, size, hours)
        assert problem in response.text
    assert path.read_text() == before
    assert instance.config is config


def test_set_key_replaces_adds_and_handles_multiline_arrays() -> None:
    text = '[a]\nx = 1\nlist = [\n  "p",\n  "q",\n]\n# note\n[b]\ny = 2\n'
    changed = set_key(set_key(text, "a", "list", '["r"]'), "b", "z", "3")
    assert tomllib.loads(changed) == {"a": {"x": 1, "list": ["r"]}, "b": {"y": 2, "z": 3}}
    assert "# note" in changed
    added = set_key("[a]\nx = 1\n", "c", "w", "4")
    assert tomllib.loads(added) == {"a": {"x": 1}, "c": {"w": 4}}


def test_new_recipients_seal_what_arrives_next(
    admin_client: TestClient,
    instance: Instance,
    org: crypto.Identity,
    admin_user: Staffer,
    clock: Clock,
) -> None:
    second = crypto.Identity.generate()
    seed_source(instance, "before the change")
    response = admin_client.post(
        "/admin/settings",
        data={"csrf": csrf(admin_client), "recipients": second.recipient.text,
              "max_upload_bytes": "0", "unfinished_upload_hours": "72"},
    )  # fmt: skip
    response = confirm_keys(admin_client, response.text, admin_user, clock)
    assert response.status_code == 303
    seed_source(instance, "after the change")
    readers: dict[bytes, list[str]] = {}
    for sealed_id in list(instance.blobs.ids()):
        for identity in (org, second):
            try:
                data = read_small(instance.blobs.path_of(sealed_id), [identity], 1 << 20).data
            except NotARecipientError:
                continue
            readers.setdefault(data, []).append(identity.recipient.text)
    assert readers[b"before the change"] == [org.recipient.text]
    assert readers[b"after the change"] == [second.recipient.text]
