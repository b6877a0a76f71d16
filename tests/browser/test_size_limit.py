"""Issue 14, item 4: the organisation's size limit is said before the upload, in the page's
language and in units people read, and a sending refused for its size keeps the message.

Without JavaScript the server refuses the form from its declared length, reading only the
fields before the first file, and shows the form again with the message typed and a clear
error; with JavaScript the page refuses before reading the file. In both, nothing is stored,
and the message then goes alone. In English and in Russian.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from browser.source_pages import (
    NewPage,
    Served,
    get_codename,
    make_file,
    sealed_containers,
    serve,
    upload_folders,
    wait_enhanced,
    wait_sent,
)
from source_client import open_sealed, query_db

LIMIT = 2_500_000  # bytes: "2.5 MB", "2,5 МБ" (CLDR's decimal units, as Babel and Intl have them)
NBSP = "\u00a0"
SHOWN = {
    "en-US": ("Largest upload this server accepts: 2.5 MB.", "2.5 MB"),
    "ru-RU": ("Этот сервер принимает за одну отправку не больше 2,5 МБ.", "2,5 МБ"),
}
REFUSED = {
    "en-US": "Nothing was sent: the files are larger than this server accepts",
    "ru-RU": "Ничего не отправлено: файлы больше, чем принимает этот сервер",
}
TOO_LARGE_JS = {"en-US": "is larger than this server accepts", "ru-RU": "больше, чем принимает"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """An instance that accepts at most :data:`LIMIT` bytes in one sending."""
    with serve(tmp_path, max_upload_bytes=LIMIT) as running:
        yield running


def plain(text: str) -> str:
    """Text with no-break spaces (CLDR puts them between number and unit) as spaces."""
    return text.replace(NBSP, " ").replace("\u202f", " ")


def stored(served: Served) -> int:
    """Submissions recorded by the server."""
    [(count,)] = query_db(served.data_dir, "SELECT count(*) FROM submissions")
    assert isinstance(count, int)
    return count


@pytest.mark.parametrize("js", [False, True], ids=["nojs", "js"])
@pytest.mark.parametrize("browser_locale", ["en-US", "ru-RU"])
def test_the_limit_is_said_in_the_page_language_and_the_message_survives_a_refusal(
    served: Served, new_page: NewPage, browser_locale: str, js: bool, tmp_path: Path
) -> None:
    hint, size = SHOWN[browser_locale]
    page = new_page(js=js)
    get_codename(page, served.base)
    if js:
        wait_enhanced(page)

    # Before anything is sent, the page says the limit in human units, in its language.
    assert plain(page.inner_text("#upload-limit")) == hint
    assert "bytes" not in page.inner_text("#upload-limit")
    assert str(LIMIT) not in page.inner_text("main")

    # A message and a file over the limit: refused, nothing stored, the message still there.
    message = f"Где записи камеры 7? {secrets.token_hex(4)}\nвторая строка"
    big = tmp_path / "camera-7.bin"
    make_file(big, LIMIT + 500_000)
    page.fill("#message", message)
    page.set_input_files("#files", str(big))
    if js:
        page.click("#send")
        page.wait_for_function(
            "() => document.querySelector('#upload-status').className === 'error'",
            timeout=10_000,
        )
        said = plain(page.inner_text("#upload-status"))
        assert "camera-7.bin" in said, said
        assert TOO_LARGE_JS[browser_locale] in said, said
        assert f"({size})" in said, said
    else:
        with page.expect_navigation() as navigation:
            page.click("#send")
        response = navigation.value
        assert response is not None
        assert response.status == 413
        error = plain(page.inner_text("#form-error"))
        assert error.startswith(REFUSED[browser_locale]), error
        assert re.search(rf"[( ]{size} ", error), error
        assert page.get_attribute("#form-error", "role") == "alert"
    assert_message_kept(page, message)
    assert stored(served) == 0
    assert not upload_folders(served.data_dir)
    assert not sealed_containers(served.data_dir)

    # The same form, without the file: the message arrives, exactly as typed.
    page.set_input_files("#files", [])
    if js:
        page.click("#send")
    else:
        with page.expect_navigation():
            page.click("#send")
    wait_sent(page, served.base, 1)
    opened = open_sealed(sealed_containers(served.data_dir), served.identity, tmp_path / "out")
    assert list(opened.values()) == [message.encode()]


def assert_message_kept(page: Page, message: str) -> None:
    """The message box holds the message as it was typed (line ends as the browser sends)."""
    kept = page.input_value("#message")
    assert re.sub(r"\r\n", "\n", kept) == message
