"""How the record files in this folder were made: by main's code *before* the typed codecs.

They are the "old files" that tests/workstation/test_record_vectors.py and
tests/core/test_timestamps.py parse with today's codecs. Kept for the record only: never
rerun it to make a failing test pass (that would hide exactly the break the files guard).

Made with main at a702328: ``python tests/vectors/records/make_old_records.py WORK_DIR``, then
the files named in :data:`COPIES` were copied here from ``WORK_DIR``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]
SRC = TESTS.parent / "src"
sys.path[:0] = [str(TESTS), str(SRC)]

from tainik import crypto  # noqa: E402
from tainik.workstation.vault.custody import format_time  # noqa: E402
from workstation.redact.scene import make_clip  # noqa: E402
from workstation.triage.synthetic import make_scene, truncate  # noqa: E402
from workstation.triage.test_detector import bright_model  # noqa: E402

COPIES = {
    "report/report.json": "triage-run.json",
    "report/videos/37ac1480….json (the scene)": "triage-video-scene.json",
    "report/videos/ebcbddbf….json (cut-short.mp4)": "triage-video-cut-short.json",
    "report2/report.json": "triage-run-no-clips.json",
    "report2/videos/ebcbddbf….json": "triage-video-no-clips.json",
    "clip-redacted.mp4.redaction.json": "redaction-record.json",
    "boxes.json": "redaction-boxes.json",
    "timestamps.json": "timestamps.json",
}


def tainik(work: Path, *args: str) -> None:
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    done = subprocess.run(
        [sys.executable, "-m", "tainik", *args], cwd=work, env=env, capture_output=True, text=True
    )
    print(done.returncode, done.stderr)


def timestamps() -> str:
    """Each spelling main wrote, for three moments, with the instant it stands for."""
    moments = [
        datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC),
        datetime(2026, 12, 6, 4, 57, 3, 250017, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=3))),
    ]
    cases = []
    for moment in moments:
        u = moment.astimezone(UTC)
        identity = crypto.identity_file_text(crypto.Identity.generate(), u)
        spellings = {
            "vault custody log (custody.format_time)": format_time(moment),
            "pulled sidecar pulled_at (pull/sync.py)": u.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "newsroom API (server/newsroom/api.py _time)": u.isoformat().replace("+00:00", "Z"),
            "publication sidecar signed_at; upload expires": u.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "age identity file '# created:' (crypto.identity_file_text)": identity.splitlines()[
                0
            ].removeprefix("# created: "),
        }
        for where, text in spellings.items():
            v = u if "." in text else u.replace(microsecond=0)
            utc = [v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond]
            cases.append({"where": where, "text": text, "utc": utc})
    lines = ",\n".join(json.dumps(c, ensure_ascii=False) for c in cases)
    return "[\n" + lines + "\n]\n"


def main(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    make_scene(work / "scene.mp4", duration=40.0)
    shutil.copyfile(work / "scene.mp4", work / "copy.mp4")
    (work / "garbage.mp4").write_bytes(bytes(range(256)) * 40)
    bright_model(work / "bright.onnx")
    whole = make_scene(work / "whole.mp4", duration=30.0, faststart=True)
    truncate(whole, work / "cut-short.mp4", 0.6)
    whole.unlink()
    inputs = ["scene.mp4", "copy.mp4", "garbage.mp4", "cut-short.mp4"]
    tainik(work, "triage", *inputs, "--out", "report", "--jobs", "1", "--detector", "bright.onnx")
    tainik(
        work, "triage", "cut-short.mp4", "--out", "report2", "--jobs", "1", "--no-clips",
        "--fps", "4", "--subtractor", "knn", "--decode-all",
    )  # fmt: skip
    make_clip(work / "clip.mp4")
    tainik(
        work, "redact", "clip.mp4", "--out", "clip-redacted.mp4", "--boxes-out", "boxes.json",
        "--region", "10,20,30,40@1-2.5", "--audio", "mute", "--no-report",
    )  # fmt: skip
    (work / "timestamps.json").write_text(timestamps())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
