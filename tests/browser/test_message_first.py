"""Issue 14, item 2: with JavaScript on, the message goes first, survives a reload, and the
page asks before it is left while anything is unsent.

- A message and a file, the upload slowed by Chromium's own throttling: the message has
  arrived (as a message) before the first file segment; leaving the page asks first (the
  ``beforeunload`` dialog; "stay" keeps the upload going); after a reload the file is listed
  as unfinished, chosen again and finished: both items are there.
- A message whose segment is cut off by a reload is listed among the unfinished uploads after
  it and sent by the page on its own, from its note: nothing needs typing again.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from playwright.sync_api import Route

from browser.source_pages import (
    MIB,
    LeaveDialogs,
    NewPage,
    Served,
    bar,
    get_codename,
    make_file,
    pump,
    received_count,
    sealed_containers,
    serve,
    throttle_upload,
    wait_enhanced,
    wait_sent,
)
from source_client import open_sealed, query_db

SEGMENT_ROUTE = re.compile(r"/api/uploads/[a-z2-7]{26}/segments/\d+$")
FILE_SIZE = 25 * MIB  # seven segments
THROTTLE = 1_000_000  # bytes per second: the file takes some 26 s


def kinds(served: Served) -> list[str]:
    """The kinds the server recorded, in order."""
    return [
        str(k) for (k,) in query_db(served.data_dir, "SELECT kind FROM submissions ORDER BY id")
    ]


def test_the_message_goes_first_and_leaving_mid_upload_asks_first(
    new_page: NewPage, tmp_path: Path
) -> None:
    message = f"The files are from camera 7. {secrets.token_hex(4)}"
    original = tmp_path / "camera-7.bin"
    content = make_file(original, FILE_SIZE)
    with serve(tmp_path) as served:
        page = new_page(js=True)
        get_codename(page, served.base)
        wait_enhanced(page)
        dialogs = LeaveDialogs(stay=True).attach(page)
        throttle_upload(page, THROTTLE)
        calls: list[tuple[str, str]] = []
        page.on("request", lambda r: calls.append((r.method, r.url.removeprefix(served.base))))
        page.fill("#message", message)
        page.set_input_files("#files", str(original))
        page.click("#send")

        # The message is on the server, as a message, before the first file segment is sent.
        pump(page, lambda: len(sealed_containers(served.data_dir)) == 1, "the message", 60)
        pump(page, lambda: received_count(served.data_dir) >= 1, "a file segment", 60)
        assert kinds(served) == ["message"]
        [sealed_message] = sealed_containers(served.data_dir)
        message_id = sealed_message.name.removesuffix(".sealed")
        puts = [path for method, path in calls if method == "PUT" and "/segments/" in path]
        assert puts[0] == f"/api/uploads/{message_id}/segments/0", puts
        completed = calls.index(("POST", f"/api/uploads/{message_id}/complete"))
        assert all(message_id in path for _m, path in calls[:completed] if "/segments/" in path)

        # Leaving now asks first; staying keeps the upload going.
        page.click("a.brand")
        pump(page, lambda: dialogs.seen == ["beforeunload"], "the leave dialog", 10)
        assert page.url == served.base + "/lookup"
        before = bar(page)[0]
        pump(page, lambda: bar(page)[0] > before, "the bar to move on", 30)

        # A reload, confirmed: the file is unfinished, the message is not lost.
        dialogs.stay = False
        assert received_count(served.data_dir) < 7
        page.reload()
        assert dialogs.seen == ["beforeunload", "beforeunload"]
        wait_enhanced(page)
        throttle_upload(page, -1)  # no more throttling
        item = page.locator("li.unfinished-upload")
        item.wait_for(timeout=10_000)
        assert item.count() == 1
        assert "camera-7.bin" in item.inner_text()
        opened = open_sealed([sealed_message], served.identity, tmp_path / "message")
        assert list(opened.values()) == [message.encode()]

        # The file chosen again: only it is sent, and the page leaves without asking.
        page.set_input_files("#files", str(original))
        page.click("#send")
        wait_sent(page, served.base, 1)
        assert dialogs.seen == ["beforeunload", "beforeunload"]
        assert kinds(served) == ["message", "file"]
        containers = sealed_containers(served.data_dir)
        opened = open_sealed(containers, served.identity, tmp_path / "all")
        assert opened.pop(original.name) == content
        assert list(opened.values()) == [message.encode()]


def test_a_message_cut_off_by_a_reload_is_listed_and_sent_after_it(
    new_page: NewPage, tmp_path: Path
) -> None:
    message = f"Только сообщение, без файлов. {secrets.token_hex(4)}"
    with serve(tmp_path) as served:
        page = new_page(js=True)
        get_codename(page, served.base)
        wait_enhanced(page)
        LeaveDialogs(stay=False).attach(page)
        held: list[Route] = []
        passing = False

        def hold(route: Route) -> None:
            if passing or route.request.method != "PUT":
                route.continue_()
            else:
                held.append(route)

        page.route(SEGMENT_ROUTE, hold)
        page.fill("#message", message)
        page.click("#send")
        pump(page, lambda: len(held) == 1, "the message's segment PUT")

        # Reloaded before the segment arrived: nothing of the message is on the server but its
        # upload; after the reload it is listed, and the page sends it again on its own.
        page.reload()
        wait_enhanced(page)
        assert page.input_value("#message") == ""  # the text is gone from the page
        pump(page, lambda: len(held) == 2, "the message's segment PUT after the reload")
        item = page.locator("li.unfinished-upload")
        assert item.count() == 1
        assert item.get_attribute("data-kind") == "message"
        listed = item.inner_text()
        assert listed.startswith("Your message — "), listed
        assert "0% received" in listed, listed
        assert page.locator("#unfinished-box").is_visible()
        assert not sealed_containers(served.data_dir)

        passing = True
        held[-1].continue_()
        page.wait_for_function(
            "() => document.querySelector('#upload-status').textContent"
            " === 'Your unfinished message has now been received.'",
            timeout=30_000,
        )
        page.wait_for_selector("#unfinished-box", state="hidden", timeout=10_000)
        assert kinds(served) == ["message"]
        opened = open_sealed(sealed_containers(served.data_dir), served.identity, tmp_path / "o")
        assert list(opened.values()) == [message.encode()]
