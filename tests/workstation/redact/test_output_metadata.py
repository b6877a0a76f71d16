"""The output carries no metadata beyond what the container needs, and no copied stream."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from workstation.redact.scene import Scene

SECRETS = ["Prisoner Ivanov", "Camera 3 block B", "55.7558", "secret-handler", "Chapter-X"]


@pytest.fixture(scope="module")
def tagged(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scene with everything a camera or an editor might leave: tags, GPS, chapters,
    per-stream names, a subtitle track naming someone, and an encoder string."""
    folder = tmp_path_factory.mktemp("tagged")
    chapters = folder / "chapters.txt"
    chapters.write_text(
        ";FFMETADATA1\ntitle=Camera 3 block B\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\n"
        "title=Chapter-X\n"
    )
    subtitles = folder / "names.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:01,000\nPrisoner Ivanov\n")
    out = folder / "tagged.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(scene.path),
            "-i",
            str(chapters),
            "-i",
            str(subtitles),
            "-map",
            "0",
            "-map",
            "2",
            "-map_metadata",
            "1",
            "-map_chapters",
            "1",
            "-c:v",
            "copy",
            "-c:a",
            "copy",
            "-c:s",
            "mov_text",
            "-metadata",
            "comment=Prisoner Ivanov",
            "-metadata",
            "artist=Camera 3 block B",
            "-metadata",
            "location=+55.7558+037.6173/",
            "-metadata",
            "creation_time=2024-03-01T10:00:00Z",
            "-metadata:s:v:0",
            "handler_name=secret-handler",
            str(out),
        ],
        check=True,
    )
    probe = _ffprobe(out)
    assert probe["chapters"]
    assert len(probe["streams"]) >= 3
    return out


def _ffprobe(path: Path) -> dict:  # type: ignore[type-arg]
    result = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            "-show_chapters",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def output(tagged: Path) -> Path:
    out = tagged.with_name("public.mp4")
    result = run_cli(["redact", str(tagged), "--out", str(out), "--no-report"])
    assert result.code == 0, result.stderr
    return out


def test_ffprobe_sees_only_structural_tags(output: Path) -> None:
    probe = _ffprobe(output)
    assert probe["chapters"] == []
    assert [s["codec_type"] for s in probe["streams"]] == ["video", "audio"]
    assert set(probe["format"].get("tags", {})) <= {
        "major_brand",
        "minor_version",
        "compatible_brands",
    }
    for stream in probe["streams"]:
        tags = stream.get("tags", {})
        assert set(tags) <= {"language", "handler_name", "vendor_id"}
        assert tags.get("handler_name") in (None, "VideoHandler", "SoundHandler")


def test_exiftool_finds_no_identifying_tags(output: Path) -> None:
    result = subprocess.run(
        ["exiftool", "-j", "-a", "-G1", "-ee", "-api", "largefilesupport=1", str(output)],
        capture_output=True,
        text=True,
        check=True,
    )
    (tags,) = json.loads(result.stdout)
    text = json.dumps(tags)
    for secret in SECRETS:
        assert secret not in text
    names = {key.split(":", 1)[-1] for key in tags}
    for forbidden in (
        "Title",
        "Comment",
        "Artist",
        "GPSCoordinates",
        "Encoder",
        "Author",
        "Make",
        "Model",
        "Software",
        "ChapterName",
        "Text",
    ):
        assert forbidden not in names, forbidden
    dates = [v for k, v in tags.items() if k.endswith("Date") and not k.startswith("System:")]
    assert dates
    assert all(str(v).startswith("0000:00:00") for v in dates)


def test_no_string_of_the_original_container_survives(output: Path, tagged: Path) -> None:
    data = output.read_bytes()
    for secret in [*SECRETS, "Lavf", "x264 - core", "Lavc"]:
        assert secret.encode() not in data, secret
    assert b"Lavf" in tagged.read_bytes() or b"x264" in tagged.read_bytes()


def test_no_stream_is_copied(output: Path, tagged: Path) -> None:
    """Re-encoded, not copied: the video bitstream differs and is H.264 we made."""
    original = _ffprobe(tagged)["streams"]
    produced = _ffprobe(output)["streams"]
    assert produced[0]["codec_name"] == "h264"
    assert produced[1]["codec_name"] == "aac"
    assert produced[0]["bit_rate"] != original[0]["bit_rate"]
    assert produced[1].get("bit_rate") != original[1].get("bit_rate")
