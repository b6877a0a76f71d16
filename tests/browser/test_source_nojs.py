"""The whole source flow in Chromium with JavaScript off (Tor Browser at the Safest level).

Get a codename, send a message and two files, log out, log back in, read and delete a reply,
switch language; then the organisation opens what the server stored with ``tainik open`` and
gets exactly what was sent, names included. Run in English and in Russian.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from live_server import LiveServer, make_instance
from source_client import blob_state, open_sealed
from tainik.config import load_config
from tainik.service import sources
from tainik.service.instance import Instance
from tainik.storage import schema

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NewPage = Callable[..., Page]


@dataclass(frozen=True)
class Served:
    """A running server and what the organisation keeps offline."""

    server: LiveServer
    data_dir: Path
    identity: Path


@dataclass(frozen=True)
class Language:
    """What a locale's pages must look like."""

    code: str  # <html lang>
    switch_to: str  # the other language's code
    switch_label: str  # the header link to it


LANGUAGES = {
    "en-US": Language("en", "ru", "Русский"),
    "ru-RU": Language("ru", "en", "English"),
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A fresh instance served on free loopback ports, with its identity file."""
    data_dir, identity, _recipient = make_instance(tmp_path)
    with LiveServer(data_dir, tmp_path / "logs") as server:
        yield Served(server, data_dir, identity)


def _lang(page: Page) -> str | None:
    return page.get_attribute("html", "lang")


def _only_source_id(data_dir: Path) -> tuple[Instance, int]:
    instance = Instance.open(load_config(data_dir))
    with instance.engine.begin() as db:
        ids = db.execute(select(schema.sources.c.id)).scalars().all()
    assert len(ids) == 1, f"expected one source, found {ids}"
    return instance, int(ids[0])


def _files(folder: Path, locale: str) -> list[tuple[Path, bytes]]:
    """Two small files with unique canaries (one binary), named per locale."""
    folder.mkdir()
    tag = secrets.token_hex(6)
    second_name = f"доклад {tag}.bin" if locale.startswith("ru") else f"photo {tag}.bin"
    made = [
        (folder / f"report-{tag}.txt", f"FILE-ONE-CANARY-{tag}\n".encode() * 40),
        (folder / second_name, b"FILE-TWO-CANARY-" + tag.encode() + os.urandom(3000) + b"\x00"),
    ]
    for path, content in made:
        path.write_bytes(content)
    return made


@pytest.mark.parametrize("browser_locale", ["en-US", "ru-RU"])
def test_full_flow_without_javascript(
    served: Served, new_page: NewPage, browser_locale: str, tmp_path: Path
) -> None:
    language = LANGUAGES[browser_locale]
    russian = language.code == "ru"
    base = served.server.source_url
    page = new_page(js=False)

    # The index page, in the browser's language.
    page.goto(base + "/")
    assert _lang(page) == language.code
    index_text = page.inner_text("main")
    button = page.inner_text("#get-codename").strip()
    if russian:
        assert CYRILLIC.search(index_text), f"index page is not in Russian:\n{index_text}"
        assert CYRILLIC.search(button), f"button is not in Russian: {button!r}"
    else:
        assert button == "Get a codename"
        assert not CYRILLIC.search(index_text)

    # Get a codename: seven words, shown once.
    with page.expect_navigation():
        page.click("#get-codename")
    assert page.url == base + "/generate"
    words = [w.strip() for w in page.locator("#codename span").all_inner_texts()]
    assert len(words) == 7, words
    # EFF list entries: lower-case letters, four of them hyphenated ("t-shirt").
    assert all(re.fullmatch(r"[a-z]+(?:-[a-z]+)*", w) for w in words), words
    codename = " ".join(words)
    shot = tmp_path / f"codename-{browser_locale}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.is_file()
    assert shot.read_bytes()[:8] == PNG_MAGIC
    assert shot.stat().st_size > 1000

    # Continue to the source's page and send a message and two files.
    with page.expect_navigation():
        page.click("#continue")
    assert page.url == base + "/lookup"
    assert page.locator("#no-replies").is_visible()
    tag = secrets.token_hex(6)
    message = (
        f"Записка MESSAGE-CANARY-{tag}\nвторая строка"
        if russian
        else f"Meeting notes MESSAGE-CANARY-{tag}\nsecond line, «quoted»"
    )
    files = _files(tmp_path / "upload", browser_locale)
    page.fill("#message", message)
    page.set_input_files("#files", [str(path) for path, _content in files])
    with page.expect_navigation():
        page.click("#send")
    assert page.url == base + "/lookup?sent=3"
    notice = page.inner_text("#sent").strip()
    assert "3" in notice
    if russian:
        assert CYRILLIC.search(notice), f"thank-you notice is not in Russian: {notice!r}"
    else:
        assert notice == "Thank you. We received 3 items."
    assert len(blob_state(served.data_dir).complete) == 3

    # Log out: the session is over.
    with page.expect_navigation():
        page.click("#logout")
    assert page.url == base + "/logout"
    cookie_names = {cookie["name"] for cookie in page.context.cookies(base)}
    assert "tainik_csrf" in cookie_names
    assert "tainik_source" not in cookie_names
    page.goto(base + "/lookup")
    assert page.url == base + "/login"

    # Log back in with the codename.
    page.goto(base + "/login")
    page.fill("#codename", codename)
    with page.expect_navigation():
        page.click("#login")
    assert page.url == base + "/lookup", page.inner_text("main")
    assert page.locator("#no-replies").is_visible()

    # The organisation replies (service function, from this process: SQLite WAL).
    reply_text = f"Ответ REPLY-{tag}: we got it" if russian else f"REPLY-{tag}: we got it, thanks"
    instance, source_id = _only_source_id(served.data_dir)
    try:
        sources.add_reply(instance, source_id, reply_text)
    finally:
        instance.close()
    page.reload()
    assert page.locator(".reply .text").all_inner_texts() == [reply_text]
    assert page.locator("#no-replies").count() == 0

    # Delete it: it is gone, from the page and from the store.
    with page.expect_navigation():
        page.click(".delete-reply")
    assert page.url == base + "/lookup"
    assert page.locator("#no-replies").is_visible()
    assert page.locator(".reply").count() == 0
    assert reply_text not in page.content()
    assert len(blob_state(served.data_dir).complete) == 3

    # The language switch in the header changes the page language, and it sticks.
    link = page.locator(f"header a[hreflang={language.switch_to}]")
    assert link.inner_text().strip() == language.switch_label
    with page.expect_navigation():
        link.click()
    assert _lang(page) == language.switch_to
    page.goto(base + "/")
    assert _lang(page) == language.switch_to
    switched = page.inner_text("#get-codename").strip()
    if russian:
        assert switched == "Get a codename"
    else:
        assert CYRILLIC.search(switched), f"switching to Russian left {switched!r}"

    # The organisation opens what the server stored: exactly what was sent, names included.
    containers = sorted((served.data_dir / "blobs").glob("*.sealed"))
    assert len(containers) == 3
    opened = open_sealed(containers, served.identity, tmp_path / "opened")
    for path, content in files:
        assert opened.pop(path.name, None) == content, f"{path.name} differs or is missing"
    assert list(opened.values()) == [message.encode("utf-8")], f"left over: {list(opened)}"


def test_switching_language_on_the_codename_page_keeps_the_codename(
    served: Served, new_page: NewPage
) -> None:
    """Issue 14: "Русский" on the page that shows a new codename (reached by POST, the only
    time it is shown) used to ask for GET /generate?lang=ru, a 405 page: the codename was
    gone. It is a small form now, and the same codename is shown again in Russian."""
    base = served.server.source_url
    page = new_page(js=False, locale="en-US")
    page.goto(base + "/")
    with page.expect_navigation():
        page.click("#get-codename")
    words = page.locator("#codename span").all_inner_texts()
    assert len(words) == 7, words
    with page.expect_navigation():
        page.get_by_role("button", name="Русский").click()
    assert _lang(page) == "ru"
    assert page.locator("h1").inner_text().strip() == "Ваше кодовое имя"
    assert page.locator("#codename span").all_inner_texts() == words
    # And back: the codename is still there, and the session still works.
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert _lang(page) == "en"
    assert page.locator("#codename span").all_inner_texts() == words
    with page.expect_navigation():
        page.click("#continue")
    assert page.url == base + "/lookup"
    # The logged-out page (also reached by POST) switches too, and stays.
    with page.expect_navigation():
        page.click("#logout")
    with page.expect_navigation():
        page.get_by_role("button", name="Русский").click()
    assert _lang(page) == "ru"
    assert page.locator("h1").inner_text().strip() == "Вы вышли"
