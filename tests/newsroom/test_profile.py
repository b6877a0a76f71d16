"""What sources see of the organisation, set on the administration page: tainik.toml, the
running server, both interfaces, the logo cleaned and served from the server's own origin."""

from __future__ import annotations

import tomllib

import httpx2
from starlette.testclient import TestClient

from organisation_support import (
    EXIF_CANARY,
    NAME,
    PAYLOAD,
    PUBLIC_PAGE,
    WELCOME_RU,
    jpeg_with_secrets,
    onion_address,
)
from tainik.config import CONFIG_NAME, load_config
from tainik.server.security import CSP
from tainik.service.instance import Instance

from .conftest import csrf

PROFILE = {
    "name": f"  {NAME} ",
    "welcome_en": "Hello.\r\n\r\nWe read everything.",
    "welcome_ru": WELCOME_RU,
    "onion_address": "",
    "public_pages": f"{PUBLIC_PAGE}\r\n",
}


def _save(client: TestClient, **changed: str) -> httpx2.Response:
    return client.post("/admin/profile", data={"csrf": csrf(client), **PROFILE, **changed})


def test_an_administrator_names_the_organisation(
    admin_client: TestClient, source_client: TestClient, instance: Instance
) -> None:
    assert "<title>Tainik</title>" in source_client.get("/").text
    onion = onion_address()
    response = _save(admin_client, onion_address=f"http://{onion.upper()}/")
    assert response.headers["location"] == "/admin/settings?done=profile"
    saved = tomllib.loads((instance.config.data_dir / CONFIG_NAME).read_text())["organisation"]
    assert saved["name"] == NAME
    assert saved["welcome_en"] == "Hello.\n\nWe read everything."
    assert saved["welcome_ru"] == WELCOME_RU
    assert saved["onion_address"] == onion
    assert saved["public_pages"] == [PUBLIC_PAGE]
    assert "recipients" in saved  # nothing else lost
    assert load_config(instance.config.data_dir) == instance.config
    # In force at once, on both interfaces.
    page = source_client.get("/", headers={"accept-language": "ru"}).text
    assert f"<title>{NAME}</title>" in page
    assert f'<span id="site-name">{NAME}</span>' in page
    assert "Мы читаем всё, что вы пришлёте." in page
    check = source_client.get("/check").text
    assert f"<code>{PUBLIC_PAGE}</code>" in check
    assert "<span>" + onion[:4] + "</span>" in check
    settings_page = admin_client.get("/admin/settings").text
    assert f"<title>Instance settings · {NAME}</title>" in settings_page
    assert f"Onion-Location: http://{onion}/" in settings_page
    audit = admin_client.get("/admin/audit").text
    assert "changed what sources see of the organisation" in audit
    assert "welcome_ru: 0 -&gt; " in audit


def test_bad_profile_values_change_nothing(admin_client: TestClient, instance: Instance) -> None:
    path = instance.config.data_dir / CONFIG_NAME
    before, config = path.read_text(), instance.config
    typo = onion_address()
    typo = typo[:10] + ("a" if typo[10] != "a" else "b") + typo[11:]
    for field, value, problem in [
        ("onion_address", typo, "checksum does not match"),
        ("onion_address", "example.org", "56 letters and digits"),
        ("public_pages", "http://prisonwatch.example/", "must start with https://"),
        ("name", "x" * 81, "at most 80 characters"),
    ]:
        response = _save(admin_client, **{field: value})
        assert response.status_code == 400, field
        text = response.text
        assert problem in text, (field, text)
        assert 'id="profile-error"' in text
        assert 'id="nav-settings"' in text  # the navigation stays
    assert path.read_text() == before
    assert instance.config is config


def test_the_logo_is_cleaned_and_served_from_this_origin(
    admin_client: TestClient, source_client: TestClient, instance: Instance
) -> None:
    assert source_client.get("/logo").status_code == 404
    sent = jpeg_with_secrets()
    response = admin_client.post(
        "/admin/logo",
        data={"csrf": csrf(admin_client)},
        files={"logo": ("holiday.jpg", sent, "image/jpeg")},
    )
    assert response.headers["location"] == "/admin/settings?done=logo"
    assert instance.config.profile.logo == "logo.jpg"
    stored = (instance.config.data_dir / "logo.jpg").read_bytes()
    for canary in (PAYLOAD, EXIF_CANARY.encode(), b"Exif", b"COMMENT-CANARY", b"ICC-CANARY"):
        assert canary not in stored
    for client in (source_client, admin_client):
        served = client.get("/logo")
        assert served.status_code == 200
        assert served.content == stored
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["content-security-policy"] == CSP
        assert served.headers["x-content-type-options"] == "nosniff"
    assert '<img src="/logo" alt="" class="logo" id="logo">' in source_client.get("/").text
    # Refused: SVG (script), and a file over the limit; the logo in force stays.
    for name, data, kind in [
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>', "image/svg"),
        ("big.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 400_000, "image/png"),
    ]:
        refused = admin_client.post(
            "/admin/logo", data={"csrf": csrf(admin_client)}, files={"logo": (name, data, kind)}
        )
        assert refused.status_code == 400, name
        assert "PNG, JPEG or WebP image of at most 256 KiB" in refused.text
        assert (instance.config.data_dir / "logo.jpg").read_bytes() == stored
    # Removed: the file goes, the pages show none.
    removed = admin_client.post("/admin/logo/delete", data={"csrf": csrf(admin_client)})
    assert removed.headers["location"] == "/admin/settings?done=logo-removed"
    assert not (instance.config.data_dir / "logo.jpg").exists()
    assert source_client.get("/logo").status_code == 404
    assert 'id="logo"' not in source_client.get("/").text
    audit = admin_client.get("/admin/audit").text
    assert "changed the logo" in audit
    assert "removed the logo" in audit
