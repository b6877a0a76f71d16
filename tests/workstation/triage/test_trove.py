"""A trove through ``tainik triage --vault``: 20 clips from four cameras, killed midway and run
again, finishes without redoing a finished video; near-duplicates are collapsed with the
vault's vPDQ matches unless the overlays tell them apart (a fixed camera's consecutive files);
the page places every camera on the wall-clock timeline (issue 19)."""

from __future__ import annotations

import datetime
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tainik import crypto
from tainik.workstation.triage import wallclock
from tainik.workstation.triage.command import TriageRequest, prepare
from tainik.workstation.triage.report_json import RunRecord, VideoRecord
from tainik.workstation.vault import duplicates
from workstation.triage.overlay_clips import Clock, make_clip
from workstation.vault.support import ffmpeg, import_into, new_vault, seal

CAMERAS = ("КАМЕРА 1 ВХОД", "КАМЕРА 2 ДВОР", "КАМЕРА 3 КОРИДОР", "КАМЕРА 4 КАБИНЕТ")
CLIPS_PER_CAMERA = 5
SECONDS = 6
START = datetime.datetime(2020, 10, 12, 14, 32, 0)


@dataclass(frozen=True)
class Trove:
    """A vault holding the clips, and what was put in it."""

    root: Path
    #: display name -> (camera, clock at the first frame)
    clips: dict[str, tuple[str, datetime.datetime]]
    copy_of: str  # the clip whose re-encoded copy is in the vault too


@pytest.fixture(scope="module")
def trove(tmp_path_factory: pytest.TempPathFactory) -> Trove:
    """Four cameras, five consecutive six-second files each (their times overlap across
    cameras), a re-encoded copy of one file, and a file that is not a video."""
    folder = tmp_path_factory.mktemp("trove")
    identity = crypto.Identity.generate()
    clips: dict[str, tuple[str, datetime.datetime]] = {}
    for c, camera in enumerate(CAMERAS):
        for k in range(CLIPS_PER_CAMERA):
            start = START + datetime.timedelta(seconds=SECONDS * k + 2 * c)
            name = f"ch{c + 1:02d}_{start:%Y%m%d%H%M%S}.mp4"
            walk = (1.5, 4.5) if (c + k) % 2 == 0 else None
            make_clip(
                folder / name, SECONDS, Clock(start), camera, size="320x240", seed=c, walk=walk
            )
            clips[name] = (camera, start)
    original = "ch03_20201012143216.mp4"
    ffmpeg("-i", str(folder / original), "-c:v", "mpeg4", "-q:v", "8", str(folder / "copy.mp4"))
    (folder / "notes.txt").write_text("not a video", encoding="utf-8")
    sealed = folder / "sealed"
    for path in sorted(folder.iterdir()):
        if path.is_file():
            seal(path.read_bytes(), sealed, identity.recipient, name=path.name.encode())
    root = folder / "vault"
    with new_vault(root, identity.recipient) as vault:
        import_into(vault, [identity], [sealed], jobs=2)
        # What 'tainik vault duplicates' does: the vault keeps every video's vPDQ features.
        groups = duplicates.find(vault, jobs=2)
    # vPDQ finds a fixed camera's consecutive files alike (and the copy like its original):
    # triage must tell them apart by their clocks, and collapse only the copy.
    near = [g for g in groups if g.kind == "near"]
    assert max(len(g.members) for g in near) > 2
    return Trove(root, clips, original)


def _triage(trove: Trove, out: Path) -> list[str]:
    argv = [sys.executable, "-m", "tainik", "triage", "--vault", str(trove.root), "--out",
            str(out), "--jobs", "2", "--no-clips"]  # fmt: skip
    return argv


def _records(out: Path) -> dict[str, VideoRecord]:
    found = {}
    for path in (out / "videos").glob("*.json"):
        record = VideoRecord.parse(path.read_bytes(), path.name)
        found[record.video.sha256] = record
    return found


@pytest.mark.media
def test_trove_killed_midway_resumes_without_redoing(trove: Trove, tmp_path: Path) -> None:
    out = tmp_path / "report"
    process = subprocess.Popen(
        _triage(trove, out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if len(list((out / "videos").glob("*.json"))) >= 6:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = _records(out)
    assert 6 <= len(finished) < 20, "the run should be killed midway"
    kept = {
        sha: [
            (p, p.stat().st_mtime_ns)
            for p in (
                wallclock.cache_path(out, sha),
                out / "cache" / f"{sha}-{record.analysis.fingerprint}.npz",
            )
        ]
        for sha, record in finished.items()
    }

    # The resumed run's progress starts where the killed one got to (and leaves those bytes
    # out of the rate it estimates the time left from).
    prepared = prepare(TriageRequest(inputs=[], report_dir=out, vault=trove.root, jobs=2))
    assert set(finished) <= set(prepared.already_measured()) < {i.sha256 for i in prepared.items}

    again = subprocess.run(_triage(trove, out), capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    assert "1 near-duplicate in the vault is listed under its original" in again.stderr
    records = _records(out)
    assert len(records) == 20  # 21 videos, one collapsed into its original; not the text file
    for sha, files in kept.items():
        assert records[sha].analysis.reused_from_cache, records[sha].video.label
        for path, mtime in files:  # neither measured nor read again
            assert path.stat().st_mtime_ns == mtime, path
    fresh = [r for r in records.values() if not r.analysis.reused_from_cache]
    assert len(fresh) <= 20 - len(finished)

    # Every video was read right; of the copy and its original (whichever has the lower item
    # number) one was analysed and lists the other.
    by_name = {r.video.label.split(" ", 1)[1]: r for r in records.values()}
    pair = {trove.copy_of, "copy.mp4"}
    (analysed,) = pair & set(by_name)
    assert set(by_name) == set(trove.clips) - pair | {analysed}
    clips = {**trove.clips, "copy.mp4": trove.clips[trove.copy_of]}
    for name, record in by_name.items():
        camera, start = clips[name]
        overlay = record.overlay
        assert overlay is not None
        assert overlay.camera == camera, name
        assert overlay.start is not None
        assert abs((overlay.start - start).total_seconds()) <= 1, name
        assert overlay.jumps == (), name
    (copy,) = by_name[analysed].video.near_copies
    assert copy.label.endswith((pair - {analysed}).pop())
    run = RunRecord.parse((out / "report.json").read_bytes(), "report.json")
    assert run.totals.videos == 20

    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    timeline = page[page.index('id="walltime"') :]
    rows = re.findall(r'<div class="wt-cam">([^<]*)</div>', timeline)
    assert [r for r in rows if r] == list(CAMERAS)  # one row per camera, in order
    assert timeline.count('class="wt-video"') == 20
    assert timeline.count('class="wt-seg"') >= 8  # the walks, placed by the clocks
