"""Screenshots of the source pages, in English and Russian (docs/screenshots/README.md).

Chromium with JavaScript off (Tor Browser at the Safest level), 1000 pixels wide (about what
Tor Browser's letterboxing gives), an organisation with a name, welcome texts, a logo, its
address and public page. The pages: the first page, the new codename, the source's page
before sending, the page after sending with the list of what arrived, the same page with a
new reply, and the address check.

The test runs with every ``make test`` and writes into its temporary folder; with
``TAINIK_SCREENSHOTS=1`` (``make screenshots``) it writes into ``docs/screenshots/`` instead,
replacing what is there. Look at them after a change to the pages, and commit them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page
from sqlalchemy import select

from live_server import LiveServer, make_instance
from organisation_support import NAME, configure, logo_png
from tainik.config import load_config
from tainik.service import sources
from tainik.service.instance import Instance
from tainik.storage import schema

NewPage = Callable[..., Page]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTH, HEIGHT = 1000, 760
PAGES = ("1-landing", "2-codename", "3-your-page", "4-after-sending", "5-new-reply", "6-check")
REPLY = {
    "en": "Thank you, we have your documents. Could you tell us which block the recordings "
    "come from? Do not send anything from your work computer.",
    "ru": "Спасибо, документы у нас. Можете сказать, из какого корпуса эти записи? Ничего не "
    "отправляйте с рабочего компьютера.",
}
MESSAGE = {
    "en": "The recordings are from the night of 3 May. There are more; I will send them later.",
    "ru": "Записи сделаны в ночь на 3 мая. Есть ещё, пришлю позже.",
}


def _folder(tmp_path: Path) -> Path:
    if os.environ.get("TAINIK_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return tmp_path / "screenshots"


def _shoot(page: Page, folder: Path, name: str) -> Path:
    assert page.inner_text("#site-name").strip() == NAME
    path = folder / f"source-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.mark.screenshots
@pytest.mark.parametrize("language", ["en", "ru"])
def test_screenshots_of_the_source_pages(new_page: NewPage, tmp_path: Path, language: str) -> None:
    folder = _folder(tmp_path) / language
    folder.mkdir(parents=True, exist_ok=True)
    data_dir, _identity, _recipient = make_instance(tmp_path)
    configure(data_dir, logo_bytes=logo_png())
    files = tmp_path / "files"
    files.mkdir()
    sent = [files / "camera-3.mp4", files / "duty-roster.pdf"]
    sent[0].write_bytes(secrets.token_bytes(900_000))
    sent[1].write_bytes(secrets.token_bytes(48_000))
    shots: list[Path] = []
    with LiveServer(data_dir, tmp_path / "logs") as server:
        base = server.source_url
        page = new_page(js=False, locale="ru-RU" if language == "ru" else "en-US")
        page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
        page.goto(base + "/")
        shots.append(_shoot(page, folder, PAGES[0]))
        with page.expect_navigation():
            page.click("#get-codename")
        shots.append(_shoot(page, folder, PAGES[1]))
        with page.expect_navigation():
            page.click("#continue")
        shots.append(_shoot(page, folder, PAGES[2]))
        page.fill("#message", MESSAGE[language])
        page.set_input_files("#files", [str(path) for path in sent])
        with page.expect_navigation():
            page.click("#send")
        assert page.locator("#received-list tbody tr").count() == 3
        shots.append(_shoot(page, folder, PAGES[3]))
        instance = Instance.open(load_config(data_dir))
        try:
            with instance.engine.begin() as db:
                source_id = db.execute(select(schema.sources.c.id)).scalar_one()
            sources.add_reply(instance, int(source_id), REPLY[language])
        finally:
            instance.close()
        page.goto(base + "/lookup")
        assert page.locator("#new-reply").is_visible()
        shots.append(_shoot(page, folder, PAGES[4]))
        with page.expect_navigation():
            page.click("#check-link")
        shots.append(_shoot(page, folder, PAGES[5]))
    for path in shots:
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.width == WIDTH
            assert image.height >= HEIGHT
