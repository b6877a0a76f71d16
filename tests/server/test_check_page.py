"""The address check page without a configured address: the onion name the browser used, in
groups; nothing from a Host header that is not an onion name."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from organisation_support import onion_address
from tainik import crypto
from tainik.config import init_instance
from tainik.crypto import FAST_TEST_PARAMS
from tainik.server.app import source_app
from tainik.service.instance import Instance


def test_the_check_page_groups_the_onion_name_the_browser_used(tmp_path: Path) -> None:
    org = crypto.Identity.generate()
    instance = Instance.open(init_instance(tmp_path / "i", [org.recipient], kdf=FAST_TEST_PARAMS))
    try:
        onion = onion_address(b"another")
        with TestClient(source_app(instance), base_url=f"http://{onion}") as client:
            page = client.get("/check").text
        assert 'id="address"' in page
        assert f"<span>{onion[:4]}</span><span>{onion[4:8]}</span>" in page
        assert 'id="not-configured"' in page  # no public pages: said so
        with TestClient(source_app(instance), base_url="http://127.0.0.1:8080") as client:
            page = client.get("/check").text
        assert 'id="address"' not in page
        assert 'id="check-link"' not in page  # the footer does not link the page to itself
    finally:
        instance.close()
