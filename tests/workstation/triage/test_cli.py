"""``tainik triage`` end to end: damaged files skipped, copies merged, hashes recorded, clips
cut without re-encoding, re-runs reusing what is done."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import av
import pytest

from conftest import run_cli
from tainik.core.errors import ExitCode
from workstation.triage.conftest import Triaged


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_damaged_files_are_reported_and_the_rest_carry_on(triaged: Triaged) -> None:
    result, footage = triaged.result, triaged.footage
    assert result.code == ExitCode.INTEGRITY, result.stderr
    assert result.stdout.strip() == str(triaged.out / "index.html")
    for damaged in (footage.truncated, footage.garbage):
        assert f"skipped: {damaged}: cannot analyse this video" in result.stderr
    failures = triaged.run_json()["failures"]
    assert sorted(f["label"] for f in failures) == ["garbage.mp4", "truncated.mp4"]
    assert {v["label"] for v in triaged.run_json()["videos"]} == {"scene.mp4", "cut-short.mp4"}


def test_a_file_cut_short_is_analysed_as_far_as_it_goes(triaged: Triaged) -> None:
    (entry,) = [v for v in triaged.run_json()["videos"] if v["label"] == "cut-short.mp4"]
    document = triaged.video_json(entry["sha256"])
    assert 5.0 < document["analysis"]["analysed_seconds"] < 25.0
    assert any("truncated" in n["template"] for n in document["notes"]), document["notes"]
    assert f"{triaged.footage.cut_short}: warning:" in triaged.result.stderr


def test_results_are_recorded_against_the_content_hash(triaged: Triaged) -> None:
    footage = triaged.footage
    document = triaged.scene_json()
    assert document["format"] == "tainik.org/triage/v1"
    assert document["video"]["sha256"] == sha256(footage.scene)
    assert document["video"]["path"] == str(footage.scene)
    assert document["video"]["copies"] == [str(footage.copy)]  # same bytes: one entry
    assert document["video"]["size"] == footage.scene.stat().st_size
    ranking = triaged.run_json()["ranking"]
    assert [r["rank"] for r in ranking] == list(range(1, len(ranking) + 1))
    assert [r["score"] for r in ranking] == sorted((r["score"] for r in ranking), reverse=True)
    assert all(r["label"] != "copy-of-scene.mp4" for r in ranking)


def test_thumbnails_and_clips_derive_from_the_original(triaged: Triaged) -> None:
    document = triaged.scene_json()
    segments = document["segments"]
    assert segments
    for segment in segments:
        thumbnail = triaged.out / segment["thumbnail"]
        assert thumbnail.read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG
        clip = triaged.out / segment["clip"]["path"]
        assert sha256(clip) == segment["clip"]["sha256"]
        assert segment["clip"]["start"] == segment["review_start"]


def packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def test_clips_are_cut_without_re_encoding(triaged: Triaged) -> None:
    """Every compressed picture in a clip is byte for byte one of the original's."""
    original = set(packets(triaged.footage.scene))
    for segment in triaged.scene_json()["segments"]:
        clip = triaged.out / segment["clip"]["path"]
        pictures = packets(clip)
        assert len(pictures) >= (segment["review_end"] - segment["review_start"]) * 10 - 1
        assert all(p in original for p in pictures)
        with av.open(str(clip)) as container:  # the sound goes along (muted in the page)
            assert container.streams.audio


def test_a_re_run_reuses_the_measurements(triaged: Triaged, tmp_path: Path) -> None:
    out = tmp_path / "again"
    shutil.copytree(triaged.out, out)
    cache = sorted((out / "cache").iterdir())
    stamps = [p.stat().st_mtime_ns for p in cache]
    scene = triaged.footage.scene
    result = run_cli(["triage", str(scene), "--out", str(out), "--padding", "1"])
    assert result.code == 0, result.stderr
    assert [p.stat().st_mtime_ns for p in sorted((out / "cache").iterdir())] == stamps
    document = json.loads((out / f"videos/{sha256(scene)}.json").read_text())
    assert document["analysis"]["reused_from_cache"] is True
    before = triaged.scene_json()["segments"]
    after = document["segments"]
    assert [(s["start"], s["end"]) for s in after] == [(s["start"], s["end"]) for s in before]
    assert [s["review_start"] for s in after] == pytest.approx([s["start"] - 1 for s in after])


def test_changing_the_analysis_measures_again(triaged: Triaged, tmp_path: Path) -> None:
    out = tmp_path / "again"
    shutil.copytree(triaged.out, out)
    scene = triaged.footage.scene
    result = run_cli(["triage", str(scene), "--out", str(out), "--fps", "4", "--no-clips"])
    assert result.code == 0, result.stderr
    document = json.loads((out / f"videos/{sha256(scene)}.json").read_text())
    assert document["analysis"]["reused_from_cache"] is False
    assert len(list((out / "cache").iterdir())) == len(list((triaged.out / "cache").iterdir())) + 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fps", "0"], "--fps must be between"),
        (["--padding", "-1"], "--padding must be between"),
        (["--jobs", "0"], "--jobs must be at least 1"),
        (["--detector", "missing.onnx"], "cannot use this detector model"),
    ],
)
def test_bad_settings_are_usage_errors(
    triaged: Triaged, tmp_path: Path, argv: list[str], message: str
) -> None:
    result = run_cli(["triage", str(triaged.footage.scene), "--out", str(tmp_path), *argv])
    assert result.code == ExitCode.USAGE
    assert message in result.stderr
    assert not (tmp_path / "index.html").exists()


def test_a_missing_input_stops_before_any_work(tmp_path: Path) -> None:
    result = run_cli(["triage", str(tmp_path / "nowhere.mp4"), "--out", str(tmp_path / "r")])
    assert result.code == ExitCode.IO
    assert "no such file or directory" in result.stderr


def test_a_folder_stands_for_its_videos(triaged: Triaged, tmp_path: Path) -> None:
    folder = tmp_path / "cam"
    (folder / "sub").mkdir(parents=True)
    shutil.copyfile(triaged.footage.cut_short, folder / "sub" / "b.MP4")
    (folder / "notes.txt").write_text("not a video")
    (folder / ".hidden.mp4").write_text("skipped")
    out = folder / "report"  # inside the folder: its clips must not be triaged in turn
    shutil.copytree(triaged.out / "cache", out / "cache")  # reuse: no decoding needed
    for _ in range(2):
        result = run_cli(["triage", str(folder), "--out", str(out)])
        assert result.code == 0, result.stderr
        labels = [v["label"] for v in json.loads((out / "report.json").read_text())["videos"]]
        assert labels == ["b.MP4"]
    assert list((out / "clips").iterdir())
