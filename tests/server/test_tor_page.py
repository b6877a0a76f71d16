"""The guide for sources where Tor is blocked, served by the source interface itself (``/tor``)
so that a source on the onion reads it without leaving Tor: in English and Russian, without
JavaScript, linked (in words of the page's language) from the first page and the footer; and
the same guide in docs/, in both languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from organisation_support import onion_address
from tainik import crypto
from tainik.config import init_instance
from tainik.crypto import FAST_TEST_PARAMS
from tainik.server.app import source_app
from tainik.service.instance import Instance

DOCS = Path(__file__).resolve().parents[2] / "docs"
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# What the guide must name, whatever its language.
ESSENTIALS = ("Snowflake", "WebTunnel", "obfs4", "9150", "9050", "socks5h://127.0.0.1:9150")


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    org = crypto.Identity.generate()
    made = Instance.open(init_instance(tmp_path / "i", [org.recipient], kdf=FAST_TEST_PARAMS))
    yield made
    made.close()


@pytest.mark.parametrize(
    ("language", "link", "title"),
    [
        ("en", "How to connect with bridges, and send large files", "Where Tor is blocked"),
        ("ru", "Как подключиться через мосты и отправить большие файлы", "Если Tor заблокирован"),
    ],
)
def test_the_guide_is_a_page_linked_from_the_first_page(
    instance: Instance, language: str, link: str, title: str
) -> None:
    onion = onion_address(b"guide")
    headers = {"Accept-Language": language}
    with TestClient(source_app(instance), base_url=f"http://{onion}") as client:
        index = client.get("/", headers=headers).text
        assert f'<a href="/tor" id="tor-help">{link}</a>' in index
        assert 'id="tor-link"' in index  # and the footer of every page
        page = client.get("/tor", headers=headers)
    assert page.status_code == 200
    html = page.text
    assert f'<html lang="{language}">' in html
    assert f"<h1>{title}</h1>" in html
    assert "<script" not in html  # nothing on it needs JavaScript
    for word in ESSENTIALS:
        assert word in html, word
    # The command to copy names this drop box's own address.
    assert f"tainik send --server http://{onion} --proxy socks5h://127.0.0.1:9150" in html
    assert 'id="tor-link"' not in html  # the footer does not link the page to itself
    main = html.split("<main>", 1)[1].split("</main>", 1)[0]
    assert bool(CYRILLIC.search(main)) == (language == "ru")


@pytest.mark.parametrize("name", ["sources-censored.md", "sources-censored.ru.md"])
def test_the_guide_is_in_docs_in_both_languages(name: str) -> None:
    text = (DOCS / name).read_text()
    for word in (*ESSENTIALS, "bridges.torproject.org", "@GetBridgesBot", "2021"):
        assert word in text, word
    russian = len(CYRILLIC.findall(text))
    assert russian > 2000 if name.endswith(".ru.md") else russian < 20  # the link's name only
    other = "sources-censored.md" if name.endswith(".ru.md") else "sources-censored.ru.md"
    assert f"]({other})" in text  # each links the other
