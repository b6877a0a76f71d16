"""The HTML report in headless Chromium: ranked list, timelines, gentle pictures, nothing
loaded from anywhere but the report folder, no script needed."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import Page

from conftest import run_cli
from workstation.triage.conftest import Triaged


def open_report(page: Page, index: Path) -> tuple[list[str], list[str]]:
    """Open the page; returns (every URL requested, every console error)."""
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(index.as_uri())
    page.wait_for_load_state("load")
    return requests, errors


def filter_of(page: Page, selector: str) -> str:
    value = page.eval_on_selector(selector, "e => getComputedStyle(e).filter")
    return str(value)


def test_the_report_opens_with_its_ranked_list_and_timelines(
    triaged: Triaged, page_nojs: Page, tmp_path: Path
) -> None:
    page = page_nojs  # nothing in the report needs JavaScript
    requests, errors = open_report(page, triaged.out / "index.html")
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000

    ranking = triaged.run_json()["ranking"]
    items = page.locator("#ranked li.segment")
    assert items.count() == len(ranking)
    assert items.first.is_visible()
    summary = page.text_content("#summary") or ""
    assert summary.startswith("Review these")
    assert summary.endswith("first.")
    first_place = page.text_content("#ranked li.segment:first-child .where") or ""
    assert ranking[0]["label"] in first_place

    timelines = page.locator("svg.timeline")
    assert timelines.count() == len(triaged.run_json()["videos"])
    assert timelines.first.is_visible()
    assert timelines.first.bounding_box() is not None
    scene = page.locator("article.video", has_text="scene.mp4")
    assert scene.locator("polyline[data-signal=motion]").count() == 1
    assert scene.locator("polyline[data-signal=sound]").count() == 1
    assert scene.locator("rect.band").count() == len(triaged.scene_json()["segments"])
    assert "garbage.mp4" in (page.text_content("#problems") or "")

    root = (triaged.out).as_uri()
    assert requests
    assert all(url.startswith(root + "/") for url in requests), requests
    assert not errors, errors  # a blocked resource or a CSP violation would show here


def test_pictures_are_gentle_until_clicked(triaged: Triaged, page_nojs: Page) -> None:
    page = page_nojs
    open_report(page, triaged.out / "index.html")
    image = "#ranked li.segment:first-child .thumb img"
    assert "blur" in filter_of(page, image)
    assert "grayscale" in filter_of(page, image)
    page.click("#ranked li.segment:first-child label.thumb")
    assert filter_of(page, image) == "none"
    page.click("#ranked li.segment:first-child label.thumb")
    assert "blur" in filter_of(page, image)
    video = "#ranked li.segment:first-child .clip video"
    assert page.eval_on_selector(video, "v => v.muted && v.preload === 'none'")
    assert not page.eval_on_selector(video, "v => v.autoplay")


def test_plain_thumbnails_for_who_asks(triaged: Triaged, page_nojs: Page, tmp_path: Path) -> None:
    out = tmp_path / "plain"
    shutil.copytree(triaged.out, out)
    scene = triaged.footage.scene
    result = run_cli(["triage", str(scene), "--out", str(out), "--plain-thumbnails"])
    assert result.code == 0, result.stderr
    open_report(page_nojs, out / "index.html")
    assert filter_of(page_nojs, "#ranked li.segment:first-child .thumb img") == "none"


def test_names_from_the_footage_are_escaped(
    triaged: Triaged, page_nojs: Page, tmp_path: Path
) -> None:
    hostile = tmp_path / '<img src=x onerror=alert(1)>".mp4'
    shutil.copyfile(triaged.footage.cut_short, hostile)
    out = tmp_path / "out"
    shutil.copytree(triaged.out / "cache", out / "cache")
    result = run_cli(["triage", str(hostile), "--out", str(out), "--no-clips"])
    assert result.code == 0, result.stderr
    html = (out / "index.html").read_text()
    assert "<img src=x" not in html
    open_report(page_nojs, out / "index.html")
    assert page_nojs.locator("img[src=x]").count() == 0
    assert hostile.name in (page_nojs.text_content("article.video h3") or "")
