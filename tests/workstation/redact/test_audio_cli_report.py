"""Audio modes, the command line's refusals, and the QA report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import run_cli
from tainik.core.errors import ExitCode
from tainik.workstation.redact.audio import AudioMode, mux_command
from workstation.redact.conftest import Redacted
from workstation.redact.scene import Scene


def _tone(path: Path) -> float | None:
    """The loudest frequency of the first audio stream, or None without audio."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        rate = container.streams.audio[0].codec_context.sample_rate
        samples = np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)])
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    from workstation.redact.scene import make_clip

    folder = tmp_path_factory.mktemp("short")
    return make_clip(
        folder / "short.mp4", width=160, height=120, frames=25, scale_a=0.3, scale_b=0.2
    )


@pytest.mark.parametrize(("mode", "expected"), [("keep", 440.0), ("pitch", 352.0), ("mute", None)])
def test_audio_modes(short: Scene, tmp_path: Path, mode: str, expected: float | None) -> None:
    out = tmp_path / f"{mode}.mp4"
    result = run_cli(["redact", str(short.path), "--out", str(out), "--audio", mode, "--no-report"])
    assert result.code == 0, result.stderr
    tone = _tone(out)
    if expected is None:
        assert tone is None
    else:
        assert tone is not None
        assert abs(tone - expected) < 8, tone


def test_pitch_filter_keeps_duration() -> None:
    command = mux_command(Path("v.mp4"), Path("o.mp4"), Path("x.mp4"), AudioMode.PITCH, 44100)
    chain = command[command.index("-af") + 1]
    assert chain == "asetrate=35280,aresample=44100,atempo=1.250000"


def test_refuses_to_replace_files(redacted: Redacted) -> None:
    result = run_cli(["redact", str(redacted.scene.path), "--out", str(redacted.out)])
    assert result.code == ExitCode.USAGE
    assert "already exists" in result.stderr


@pytest.mark.parametrize(
    "extra", [["--region", "1,2,3"], ["--threshold", "1.5"], ["--detect-scale", "0"]]
)
def test_bad_options_are_usage_errors(short: Scene, tmp_path: Path, extra: list[str]) -> None:
    result = run_cli(["redact", str(short.path), "--out", str(tmp_path / "o.mp4"), *extra])
    assert result.code == ExitCode.USAGE
    assert not (tmp_path / "o.mp4").exists()


def test_not_a_video(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("not a video")
    result = run_cli(["redact", str(bogus), "--out", str(tmp_path / "o.mp4")])
    assert result.code == ExitCode.USAGE
    assert "not a video" in result.stderr
    assert list(tmp_path.iterdir()) == [bogus]  # nothing half-written


def test_manual_region_is_covered(short: Scene, tmp_path: Path) -> None:
    out = tmp_path / "region.mp4"
    boxes = tmp_path / "boxes.json"
    result = run_cli(
        [
            "redact",
            str(short.path),
            "--out",
            str(out),
            "--region",
            "100,10,40,20@0.2-0.6",
            "--no-report",
            "--boxes-out",
            str(boxes),
        ]
    )
    assert result.code == 0, result.stderr
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    dark = [float((f[12:28, 102:138].max(axis=2) < 25).mean()) for f in frames]
    assert all(d > 0.99 for d in dark[6:15])  # 0.24 s to 0.56 s at 25 frames/s
    manual = [
        f["index"]
        for f in json.loads(boxes.read_text())["frames"]
        if any(b["kind"] == "manual" for b in f["boxes"])
    ]
    assert manual == list(range(5, 16))  # 0.2 s to 0.6 s inclusive at 25 frames/s


def test_report_is_static_and_self_contained(redacted: Redacted) -> None:
    html = redacted.report.read_text()
    assert "default-src 'none'" in html
    assert "<script" not in html.lower()
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources
    assert all(s.startswith("data:image/jpeg;base64,") for s in sources)
    assert "http://" not in html
    assert "https://" not in html
    assert "gap" in html
    assert redacted.record["original"]["sha256"] in html


def test_help_has_examples() -> None:
    for command in ("redact", "publish", "verify-publication"):
        result = run_cli([command, "--help"])
        assert result.code == 0
        assert "example" in result.stdout
