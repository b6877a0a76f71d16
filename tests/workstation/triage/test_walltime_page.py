"""The page's cameras-and-time timeline in headless Chromium with JavaScript off: what two
cameras recorded at the same wall-clock moment lines up, a clock jump is a finding and a mark,
a video without a readable clock is named and not placed (issue 19)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page

from conftest import run_cli
from workstation.triage.overlay_clips import Clock, join, make_clip

T = datetime.datetime
SMALL = "320x240"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three cameras and a bare clip, triaged in Russian."""
    d = tmp_path_factory.mktemp("walltime")
    footage = d / "footage"
    footage.mkdir()
    # Someone walks past camera 3 and camera 2 at the same wall-clock time, 14:32:06-12.
    make_clip(footage / "c3.mp4", 16, Clock(T(2020, 10, 12, 14, 32, 0)), "КАМЕРА 3 КОРИДОР",
              walk=(6, 12), size=SMALL)  # fmt: skip
    make_clip(footage / "c2.mp4", 16, Clock(T(2020, 10, 12, 14, 32, 3)), "КАМЕРА 2 ДВОР",
              walk=(3, 9), seed=1, size=SMALL)  # fmt: skip
    # Camera 1's recorder lost 8 minutes.
    parts = [
        make_clip(d / "p1.mp4", 8, Clock(T(2020, 10, 12, 14, 31, 58)), "КАМЕРА 1 ВХОД", seed=2,
                  size=SMALL),
        make_clip(d / "p2.mp4", 6, Clock(T(2020, 10, 12, 14, 40, 6)), "КАМЕРА 1 ВХОД", seed=2,
                  size=SMALL),
    ]  # fmt: skip
    join(parts, footage / "c1.mp4")
    make_clip(footage / "bare.mp4", 8, None, None, seed=3, walk=(2, 5), size=SMALL)
    out = d / "report"
    result = run_cli(
        ["triage", str(footage), "--out", str(out), "--jobs", "2", "--no-clips"], ("ru",)
    )
    assert result.code == 0, result.stderr
    return out / "index.html"


@pytest.mark.media
def test_cameras_line_up_by_wall_clock(report: Path, page_nojs: Page) -> None:
    page = page_nojs
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(report.as_uri())
    section = page.locator("#walltime")
    assert (section.locator("h2").text_content() or "") == "Камеры и время"
    rows = section.locator(".wt-row:not(.wt-axis)")
    names = [rows.nth(i).locator(".wt-cam").text_content() for i in range(rows.count())]
    assert names == ["КАМЕРА 1 ВХОД", "КАМЕРА 2 ДВОР", "КАМЕРА 3 КОРИДОР"]

    walks = [rows.nth(i).locator("a.wt-seg") for i in (1, 2)]
    assert [w.count() for w in walks] == [1, 1]
    boxes = [w.first.bounding_box() for w in walks]
    assert boxes[0] is not None
    assert boxes[1] is not None
    # The same wall-clock minute is the same place on the page, whatever the file's own time.
    assert abs(boxes[0]["x"] - boxes[1]["x"]) <= 6
    assert abs(boxes[0]["width"] - boxes[1]["width"]) <= 8
    assert boxes[0]["width"] > 3

    # The jump: two stretches of footage on camera 1's row, a mark between them.
    camera1 = rows.nth(0)
    assert camera1.locator("a.wt-video").count() == 2
    assert camera1.locator(".wt-jump").count() == 1
    title = camera1.locator(".wt-jump").get_attribute("title") or ""
    assert "2020-10-12 14:32:05" in title
    assert "2020-10-12 14:40:06" in title
    stretches = [camera1.locator("a.wt-video").nth(i).bounding_box() for i in (0, 1)]
    assert stretches[0] is not None
    assert stretches[1] is not None
    assert stretches[1]["x"] > stretches[0]["x"] + stretches[0]["width"] + 100  # 8 minutes on

    # A segment links to its entry in the ranked list, whose picture stays blurred.
    target = walks[1].first.get_attribute("href") or ""
    assert target.startswith("#s-")
    entry = page.locator(f"li{target}")
    assert entry.count() == 1
    assert "blur" in str(
        page.eval_on_selector(f"li{target} .thumb img", "e => getComputedStyle(e).filter")
    )

    # The clock jump is a finding of its own, in words.
    ranked = page.locator("#ranked").text_content() or ""
    assert "впечатанные часы скачут вперёд на 8 минут" in ranked
    assert "bare.mp4" in (section.locator(".wt-unplaced").text_content() or "")
    assert "<script" not in report.read_text(encoding="utf-8").lower()
