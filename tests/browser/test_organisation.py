"""Issue 14, items 8 and 9, in Chromium with JavaScript off and on, in English and Russian.

- An administrator names the organisation, writes its welcome texts, states its onion address
  and public page, and uploads a logo (a JPEG carrying EXIF, GPS and a script after its end)
  on the newsroom's settings page. Every source page then carries the name (title and header)
  and the cleaned logo, served from the server's own origin under the unchanged CSP; the first
  page greets in the source's language; the check page explains, step by step, how to compare
  the address with the organisation's public one.
- A source sends a message and two files (the no-JS form, or the uploader with JS on) and the
  page that follows lists what arrived: the count, each item's sealed size and the hour it
  arrived, in the page's language, and never a file name. A reply from the newsroom is
  announced as new at the top of the page, once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page
from sqlalchemy import select

from live_server import LiveServer, make_instance
from newsroom.live import ready_staffer
from organisation_support import (
    EXIF_CANARY,
    NAME,
    PAYLOAD,
    PUBLIC_PAGE,
    WELCOME_EN,
    WELCOME_RU,
    configure,
    jpeg_with_secrets,
    logo_png,
    onion_address,
)
from tainik.config import load_config
from tainik.server.formatting import hour_span, human_size
from tainik.server.page_language import translations
from tainik.service import sources
from tainik.service.instance import Instance
from tainik.storage import schema
from tainik.storage.database import stored_time

NewPage = Callable[..., Page]
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
COMBINATIONS = [
    pytest.param(js, locale, id=f"{'js' if js else 'nojs'}-{locale}")
    for js in (False, True)
    for locale in ("en-US", "ru-RU")
]
UPLOAD_TIMEOUT_MS = 120_000


@dataclass(frozen=True)
class Served:
    """A running server and its instance folder."""

    server: LiveServer
    data_dir: Path


def _csp_errors(page: Page) -> list[str]:
    """Console messages of the page that report a Content-Security-Policy violation."""
    found: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", record)
    return found


def _assert_branded(page: Page, title: str | None) -> None:
    """The page carries the organisation's name and its logo, loaded."""
    expected = f"{title} · {NAME}" if title else NAME
    assert page.title() == expected
    assert page.inner_text("#site-name").strip() == NAME
    box = page.locator("#logo").bounding_box()
    assert box is not None
    assert box["width"] > 10, "the logo did not load"
    assert box["height"] > 10, "the logo did not load"


def test_an_administrator_sets_what_sources_see(new_page: NewPage, tmp_path: Path) -> None:
    data_dir, _identity, _recipient = make_instance(tmp_path)
    admin = ready_staffer(data_dir, "ada", admin=True)
    onion = onion_address()
    logo_file = tmp_path / "holiday-photo.jpg"
    logo_file.write_bytes(jpeg_with_secrets())
    with LiveServer(data_dir, tmp_path / "logs") as server:
        # The administrator, in the newsroom (its pages need no JavaScript).
        staff = new_page(js=False, locale="en-US")
        staff.goto(server.newsroom_url + "/login")
        assert staff.title() == "Newsroom: log in · Tainik"
        staff.fill("#name", admin.name)
        staff.fill("#password", admin.password)
        staff.fill("#code", admin.code())
        with staff.expect_navigation():
            staff.click("#login")
        assert staff.url == server.newsroom_url + "/inbox", staff.inner_text("main")
        with staff.expect_navigation():
            staff.click("#nav-settings")
        staff.fill("#org-name", NAME)
        staff.fill("#welcome-en", WELCOME_EN)
        staff.fill("#welcome-ru", WELCOME_RU)
        staff.fill("#onion-address", onion)
        staff.fill("#public-pages", PUBLIC_PAGE)
        with staff.expect_navigation():
            staff.click("#save-profile")
        assert staff.url.endswith("/admin/settings?done=profile")
        assert staff.inner_text("#site-name").strip() == NAME
        assert staff.inner_text("#onion-location") == f"Onion-Location: http://{onion}/"
        staff.set_input_files("#logo-file", str(logo_file))
        with staff.expect_navigation():
            staff.click("#save-logo")
        assert staff.url.endswith("/admin/settings?done=logo"), staff.inner_text("main")
        preview = staff.locator("#logo-preview").bounding_box()
        assert preview is not None
        assert preview["width"] > 10
        _assert_branded(staff, "Instance settings")

        # What the server keeps and serves is the picture alone.
        served_logo = staff.request.get(server.source_url + "/logo")
        assert served_logo.headers["content-type"] == "image/jpeg"
        assert "img-src 'self'" in served_logo.headers["content-security-policy"]
        for canary in (PAYLOAD, EXIF_CANARY.encode(), b"Exif", b"COMMENT-CANARY"):
            assert canary not in served_logo.body()
        assert served_logo.body() == (data_dir / "logo.jpg").read_bytes()

        # Sources see it, with JavaScript off and on, in English and Russian.
        for js in (False, True):
            for locale in ("en-US", "ru-RU"):
                russian = locale.startswith("ru")
                page = new_page(js=js, locale=locale)
                violations = _csp_errors(page)
                page.goto(server.source_url + "/")
                _assert_branded(page, None)
                welcome = page.locator("#welcome")
                assert welcome.get_attribute("lang") == ("ru" if russian else "en")
                paragraphs = welcome.locator("p").all_inner_texts()
                assert paragraphs == (WELCOME_RU if russian else WELCOME_EN).split("\n\n")
                with page.expect_navigation():
                    page.click("#check-link")
                title = "Это настоящий адрес?" if russian else "Is this the real address?"
                _assert_branded(page, title)
                assert page.locator("#check-link").count() == 0  # no link to itself
                groups = page.locator("#address span").all_inner_texts()
                assert "".join(groups) == onion
                assert all(len(g) == 4 for g in groups[:-1])
                assert page.locator("#public-pages").inner_text().strip() == PUBLIC_PAGE
                assert page.locator("#public-pages a").count() == 0  # text, not a link
                steps = page.locator("#steps > li").all_inner_texts()
                assert len(steps) == 5
                assert all(CYRILLIC.search(s) for s in steps) == russian
                assert NAME in steps[0]
                assert "56" in steps[1]
                assert not violations, violations
        # The newsroom's login page is branded too.
        stranger = new_page(js=False, locale="ru-RU")
        stranger.goto(server.newsroom_url + "/login")
        _assert_branded(stranger, "Редакция: вход")


# -- what arrived, and new replies -----------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A fresh instance with the organisation's profile, served on loopback."""
    data_dir, _identity, _recipient = make_instance(tmp_path)
    configure(data_dir, logo_bytes=logo_png())
    with LiveServer(data_dir, tmp_path / "logs") as server:
        yield Served(server, data_dir)


def _send(page: Page, base: str, js: bool, message: str, files: list[Path]) -> None:
    page.fill("#message", message)
    page.set_input_files("#files", [str(f) for f in files])
    if js:
        page.wait_for_selector("#submit-form[data-enhanced=js]", state="attached")
        page.click("#send")
        page.wait_for_url(base + f"/lookup?sent={len(files) + 1}", timeout=UPLOAD_TIMEOUT_MS)
    else:
        with page.expect_navigation(timeout=UPLOAD_TIMEOUT_MS):
            page.click("#send")
    assert page.url == base + f"/lookup?sent={len(files) + 1}"


def _stored(data_dir: Path) -> tuple[int, list[tuple[int, datetime]]]:
    """The one source's id, and its submissions' sealed sizes and hours, newest first."""
    instance = Instance.open(load_config(data_dir))
    try:
        with instance.engine.begin() as db:
            source_id = db.execute(select(schema.sources.c.id)).scalar_one()
            rows = db.execute(
                select(
                    schema.submissions.c.ciphertext_bytes, schema.submissions.c.created_at
                ).order_by(schema.submissions.c.id.desc())
            ).all()
    finally:
        instance.close()
    return int(source_id), [(int(size), stored_time(at)) for size, at in rows]


@pytest.mark.parametrize(("js", "locale"), COMBINATIONS)
def test_the_source_sees_what_arrived_and_a_new_reply(
    served: Served, new_page: NewPage, tmp_path: Path, js: bool, locale: str
) -> None:
    russian = locale.startswith("ru")
    language = "ru" if russian else "en"
    gettext = translations(language).gettext
    base = served.server.source_url
    page = new_page(js=js, locale=locale)
    page.goto(base + "/")
    with page.expect_navigation():
        page.click("#get-codename")
    # The one showing of the codename offers no way off it but "continue".
    assert page.locator("#check-link").count() == 0
    with page.expect_navigation():
        page.click("#continue")
    assert page.locator("#check-link").is_visible()
    assert page.locator("#nothing-received").is_visible()
    assert page.locator("#new-reply").count() == 0

    tag = secrets.token_hex(5)
    folder = tmp_path / "files"
    folder.mkdir()
    names = [f"secret-plan-{tag}.txt", f"протокол-{tag}.bin"]
    files = []
    for index, name in enumerate(names):
        path = folder / name
        path.write_bytes(f"FILE-{index}-{tag}\n".encode() * (300 + 2000 * index))
        files.append(path)
    _send(page, base, js, f"MESSAGE-{tag}", files)

    # The page after sending lists what arrived, newest first.
    source_id, stored = _stored(served.data_dir)
    assert len(stored) == 3
    summary = page.inner_text("#received-summary")
    assert summary.startswith("3 ")
    assert human_size(sum(s for s, _ in stored), language, gettext) in summary
    rows = page.locator("#received-list tbody tr")
    assert rows.count() == 3
    for row, number, (size, at) in zip(rows.all(), (3, 2, 1), stored, strict=True):
        assert row.locator(".number").inner_text() == str(number)
        shown = row.locator(".size").inner_text()
        assert shown == human_size(size, language, gettext)
        assert re.fullmatch(
            r"[\d\s,.\u00a0]+ (?:байта?|байт|кБ)" if russian else r"[\d,.]+ (?:bytes?|kB)", shown
        )
        hour = row.locator(".hour").inner_text()
        assert hour == hour_span(at, language, gettext)
        assert at.minute == at.second == 0  # stored to the hour, shown as that hour
        assert re.search(r"\d\d:00–\d\d:00 UTC$", hour)
        assert str(datetime.now(UTC).year) in hour
    content = page.content()
    for name in names:
        assert name not in content
        assert tag not in content  # neither the names nor the contents are anywhere on it
    assert bool(CYRILLIC.search(page.inner_text("#received"))) == russian

    # A reply arrives: announced at the top, once.
    reply = f"REPLY-{tag}"
    instance = Instance.open(load_config(served.data_dir))
    try:
        sources.add_reply(instance, source_id, reply)
    finally:
        instance.close()
    page.goto(base + "/lookup")
    banner = page.locator("#new-reply")
    assert banner.is_visible()
    assert NAME in banner.inner_text()
    assert ("новый ответ" if russian else "new reply") in banner.inner_text()
    # It comes before the form: the first thing on the page after its heading.
    first = page.locator("main > h1 + *")
    assert first.get_attribute("id") == "new-reply"
    new = page.locator(".reply.new")
    assert new.count() == 1
    assert new.locator(".text").inner_text() == reply
    assert new.locator(".badge").inner_text() == ("Новый" if russian else "New")
    page.click("#read-new-reply")
    page.wait_for_url(base + "/lookup#replies")
    page.goto(base + "/lookup")
    assert page.locator("#new-reply").count() == 0
    assert page.locator(".reply.new").count() == 0
    assert page.locator(".reply .text").all_inner_texts() == [reply]
