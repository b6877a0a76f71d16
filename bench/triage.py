"""Benchmark: `tainik triage` on a 720p H.264 clip against ffmpeg alone, same file, same run.

The baseline is ffmpeg decoding the same file down to the same analysis rate and size
(`-vf fps=5,scale=320:-2,format=gray -f null`), which is the least any triage must do.
Triage does that and more: hashes the file, decodes the audio, runs background subtraction
and loudness, writes thumbnails, clips and the reports. Target: triage takes at most 1.5x
ffmpeg's time. Speeds are printed as multiples of real time.

The clip is CCTV-like: a still room with sensor grain, a box crossing it for 20 s of every
minute, room tone with a shout, 30 fps, no B-frames, about 1.6 Mbit/s. It is made once
(ffmpeg makes one minute, then copies it end to end without re-encoding) and kept in --work.

Run with `make bench` or `.venv/bin/python bench/triage.py [--minutes 10] [--repeat 3]`.
Not a test: it only measures.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent
MINUTE = 60
TRIAGE = "tainik triage (analysis, thumbnails, clips, report)"


def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        raise SystemExit("ffmpeg is missing: run 'make setup' (Debian package 'ffmpeg')")
    return path


def make_clip(target: Path, minutes: int, bframes: int) -> Path:
    """A `minutes`-long 720p30 H.264 + AAC clip (see the module docstring)."""
    if target.is_file():
        return target
    minute = target.with_name(f"minute-bf{bframes}.mp4")
    graph = (
        "[0:v]trim=end_frame=1,hue=s=0.3,loop=loop=-1:size=1,setpts=N/30/TB,"
        f"trim=duration={MINUTE}[room];"
        "[room][1:v]overlay=x='mod(t*80,1400)-120':y=300:enable='lt(t,20)':shortest=1,"
        "noise=alls=6:allf=t,format=yuv420p[v];"
        "[3:a]volume=eval=frame:volume='if(between(t,40,43),0.5,0)'[shout];"
        "[2:a][shout]amix=inputs=2:normalize=0[a]"
    )
    subprocess.run(
        [
            ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30",
            "-f", "lavfi", "-i", "color=c=0xd0d0d0:s=120x240:r=30",
            "-f", "lavfi", "-i", f"anoisesrc=a=0.02:c=pink:r=48000:d={MINUTE}",
            "-f", "lavfi", "-i", f"sine=f=700:r=48000:d={MINUTE}",
            "-filter_complex", graph, "-map", "[v]", "-map", "[a]",
            "-c:v", "libx264", "-preset", "veryfast", "-bf", str(bframes), "-g", "60",
            "-b:v", "1500k", "-maxrate", "2000k", "-bufsize", "4000k",
            "-c:a", "aac", "-b:a", "64k", str(minute),
        ],
        check=True,
    )  # fmt: skip
    listing = target.with_suffix(".txt")
    listing.write_text(f"file '{minute.name}'\n" * minutes)
    subprocess.run(
        [
            ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(target),
        ],
        check=True,
    )  # fmt: skip
    return target


def timed(argv: list[str]) -> float:
    subprocess.run(["sync"], check=True)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument("--bframes", type=int, default=0, help="B-frames in the clip (CCTV: 0)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tainik-bench")
    parser.add_argument("--jobs", type=int, default=None, help="passed to tainik triage")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    clip = make_clip(args.work / f"cctv-{args.minutes}min-bf{args.bframes}.mp4", args.minutes,
                     args.bframes)  # fmt: skip
    duration = args.minutes * MINUTE
    out = args.work / "report"

    def fresh() -> None:
        shutil.rmtree(out, ignore_errors=True)

    tainik = [str(BIN / "tainik"), "triage", str(clip), "--out", str(out)]
    if args.jobs:
        tainik += ["--jobs", str(args.jobs)]
    decode = [
        ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(clip),
        "-map", "0:v:0", "-vf", "fps=5,scale=320:-2,format=gray", "-f", "null", "-",
    ]  # fmt: skip
    skipping = [*decode[:5], "-skip_frame", "noref", *decode[5:]]
    with_audio = [*decode[:-3], "-map", "0:a:0", "-f", "null", "-"]

    size = clip.stat().st_size / 1e6
    print(f"clip: {clip.name}, {args.minutes} min 720p30 H.264 ({args.bframes} B-frames), "
          f"{size:.0f} MB; best of {args.repeat}, runs interleaved")  # fmt: skip
    plan: list[tuple[str, list[str], Callable[[], None] | None]] = [
        ("ffmpeg: decode to 5 fps, 320 px, grey (baseline)", decode, None),
        ("ffmpeg: the same, and decode the audio", with_audio, None),
    ]
    if args.bframes:
        plan.append(("ffmpeg: the same, -skip_frame noref", skipping, None))
    plan += [
        (TRIAGE, tainik, fresh),
        ("tainik triage again (measurements reused)", tainik, None),
        ("tainik triage --no-clips", [*tainik, "--no-clips"], fresh),
    ]
    # Interleaved, so that a neighbour's load on a shared machine falls on both sides alike.
    times: dict[str, list[float]] = {label: [] for label, _, _ in plan}
    for _ in range(args.repeat):
        for label, argv, before in plan:
            if before is not None:
                before()
            times[label].append(timed(argv))
    baseline = min(times[plan[0][0]])
    full = min(times[TRIAGE])
    for label, _, _ in plan:
        seconds = min(times[label])
        print(f"  {label:<54} {seconds:7.2f} s  {duration / seconds:6.1f}x real time  "
              f"{seconds / baseline:5.2f}x ffmpeg")  # fmt: skip
    ratio = full / baseline
    verdict = "met" if ratio <= 1.5 else "NOT met"
    print(f"triage / ffmpeg: {ratio:.2f} (target <= 1.5: {verdict})")


if __name__ == "__main__":
    main()
