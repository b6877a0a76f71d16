"""Instance settings from the administration page: tainik.toml and the running server."""

from __future__ import annotations

import html
import re
import tomllib

import httpx2
import pytest
from starlette.testclient import TestClient

from tainik import crypto
from tainik.config import CONFIG_NAME, SETTINGS_BY_KEY, Setting, load_config, set_key
from tainik.core.errors import NotARecipientError
from tainik.server.app import source_app
from tainik.service.instance import Instance
from tainik.service.newsroom.settings import EDITABLE

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
    changed = set_key(set_key(text, "a", "list", ["r"]), "b", "z", 3)
    assert tomllib.loads(changed) == {"a": {"x": 1, "list": ["r"]}, "b": {"y": 2, "z": 3}}
    assert "# note" in changed
    added = set_key("[a]\nx = 1\n", "c", "w", 4)
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
                data = instance.blobs.read_small(sealed_id, [identity], 1 << 20).data
            except NotARecipientError:
                continue
            readers.setdefault(data, []).append(identity.recipient.text)
    assert readers[b"before the change"] == [org.recipient.text]
    assert readers[b"after the change"] == [second.recipient.text]


def test_a_key_change_holds_at_once_in_every_process_of_the_host(
    admin_client: TestClient, instance: Instance, admin_user: Staffer, clock: Clock
) -> None:
    """Another process serving the instance (a worker of ``tainik serve --workers``) gives
    sources the new recipients from its next request, not from its next start."""
    other = Instance.open(instance.config)  # started before the change
    try:
        second = crypto.Identity.generate()
        response = admin_client.post(
            "/admin/settings",
            data={"csrf": csrf(admin_client), "recipients": second.recipient.text,
                  "max_upload_bytes": "0", "unfinished_upload_hours": "72"},
        )  # fmt: skip
        assert confirm_keys(admin_client, response.text, admin_user, clock).status_code == 303
        with TestClient(source_app(other), base_url="http://testserver") as source:
            source.post("/generate", data={"csrf": csrf(source)})
            info = source.get("/api/session").json()
        assert info["organisation"] == [second.recipient.text]
        assert other.config.recipients == (second.recipient,)
    finally:
        other.close()


def below_and_above(setting: Setting) -> list[int]:
    return [int(setting.low) - 1, int(setting.high) + 1]


def form(client: TestClient, instance: Instance, **numbers: str) -> dict[str, str]:
    values = {"max_upload_bytes": "0", "unfinished_upload_hours": "72", **numbers}
    return {"csrf": csrf(client), "recipients": instance.config.recipients[0].text, **values}


def test_every_number_on_the_page_is_a_declared_setting(admin_client: TestClient) -> None:
    page = admin_client.get("/admin/settings").text
    form_html = page[page.index('action="/admin/settings"') :]
    form_html = form_html[: form_html.index("</form>")]
    names = set(re.findall(r'<(?:input|textarea)[^>]* name="([a-z_]+)"', form_html))
    assert names - {"csrf", "recipients"} == {s.key for s in EDITABLE}
    assert all(SETTINGS_BY_KEY[s.key] is s for s in EDITABLE)


@pytest.mark.parametrize("setting", EDITABLE, ids=lambda s: s.key)
def test_the_page_enforces_the_declared_bounds(
    admin_client: TestClient, instance: Instance, setting: Setting
) -> None:
    path = instance.config.data_dir / CONFIG_NAME
    before, config = path.read_text(), instance.config
    low, high = setting.bounds
    for value in below_and_above(setting):
        data = form(admin_client, instance, **{setting.key: str(value)})
        response = admin_client.post("/admin/settings", data=data)
        assert response.status_code == 400, value
        assert f"{setting.key}: a whole number from {low} to {high}" in response.text
    assert path.read_text() == before
    assert instance.config is config
    for allowed in (setting.low, setting.high):
        data = form(admin_client, instance, **{setting.key: str(allowed)})
        assert admin_client.post("/admin/settings", data=data).status_code == 303
        assert tomllib.loads(path.read_text())["limits"][setting.key] == allowed
        assert load_config(instance.config.data_dir) == instance.config


def test_a_change_round_trips_and_keeps_the_files_comments(
    admin_client: TestClient,
    instance: Instance,
    org: crypto.Identity,
    admin_user: Staffer,
    clock: Clock,
) -> None:
    path = instance.config.data_dir / CONFIG_NAME
    text = path.read_text().replace("[limits]\n", "[limits]\n# Raised for the 2025 leak.\n")
    text += "\n[extra]\n# Kept by hand.\nnote = 'x'\n"
    path.write_text(text)
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    expected = tomllib.loads(text)
    second = crypto.Identity.generate().recipient.text
    data = form(admin_client, instance, max_upload_bytes="123456", unfinished_upload_hours="9")
    data["recipients"] = f"{org.recipient.text}\n{second}"
    proposal = admin_client.post("/admin/settings", data=data)
    assert proposal.status_code == 200  # a new key waits for its confirmation
    assert confirm_keys(admin_client, proposal.text, admin_user, clock).status_code == 303
    changed = path.read_text()
    expected["organisation"]["recipients"] = [org.recipient.text, second]
    expected["limits"].update(max_upload_bytes=123456, unfinished_upload_hours=9)
    assert tomllib.loads(changed) == expected
    assert [line for line in changed.splitlines() if line.lstrip().startswith("#")] == comments
    assert load_config(instance.config.data_dir) == instance.config
    assert instance.config.max_upload_bytes == 123456
