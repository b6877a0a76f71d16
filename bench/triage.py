"""Benchmark: coarse-to-fine triage against the full decode and two ffmpeg decodes, one run.

On at least 30 minutes of synthetic 720p CCTV with keyframes every 2 s, made by this script
and kept under `.cache/bench-triage/`, it times, interleaved (so that a neighbour's load on a
shared machine falls on every side alike), best of `--repeat`:

- `tainik triage` (coarse to fine, the default);
- `tainik triage --full-decode` (every frame: triage as it was before the coarse pass);
- `ffmpeg -vf fps=5,scale=320:-2` (a reduced decode, about what the full decode costs);
- `ffmpeg -skip_frame nokey` (keyframes only, with the audio: the floor of any coarse pass);

and reads the burned-in overlay when the overlay reader is there (`tainik.workstation.
triage.overlay`): inside `tainik triage` if its reports carry `overlay`, otherwise as a
separate step whose time is added to the coarse run's. Each is printed as a multiple of real
time and as ratios. Targets: coarse-to-fine at least 3x the full decode's throughput, at
most 1.6x the keyframe-only decode's time, with the same segments (each of the full
decode's segments matched by one with IoU >= 0.8, and no other).

The footage (CCTV-like: a still corridor with sensor grain, a clock and a camera name burned
in, AAC room tone), every 10 minutes: a person crossing (60-72 s), a shout off camera
(200-203 s), two people scuffling (300-330 s) with a shout (310-314 s), the camera switching
to infrared and back (450 s, 540 s). Most of it is an empty corridor, as in a leaked trove.
It is made in 10-minute parts (two at a time) with a continuous clock, joined without
re-encoding.

Then, unless `--no-profile`, the floor: CPU seconds (all threads) per GiB of footage of the
two ffmpeg decodes, of the coarse pass, of the fine pass and of the full decode's
measurements (in one process, without start-up, hashing or reports).

Run `.venv/bin/python bench/triage.py [--minutes 30] [--repeat 2]`. Not a test: it only
measures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
PART = 600  # seconds per part (and per period of the scenario)
RATE = 25
GOP = 2 * RATE
EPOCH = 1602513000  # 2020-10-12 14:30:00 UTC, shown as the recorder's local time
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
IOU = 0.8

COARSE = "tainik triage (coarse to fine)"
FULL = "tainik triage --full-decode (every frame)"
REDUCED = "ffmpeg -vf fps=5,scale=320:-2"
KEYS = "ffmpeg -skip_frame nokey (with audio)"
OVERLAY = "overlay reading (separate step)"


def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        raise SystemExit("ffmpeg is missing: run 'make setup' (Debian package 'ffmpeg')")
    return path


def _graph(offset: int) -> str:
    """One part's filter graph; ``offset`` seconds of clock before it."""
    p = "mod(t,600)"
    clock = f"%{{pts\\:gmtime\\:{EPOCH + offset}\\:%d-%m-%Y Пн %H\\\\\\:%M\\\\\\:%S}}"
    text = f"drawtext=fontfile={FONT}:fontsize=28:fontcolor=white:borderw=2:bordercolor=black"
    return (
        "[0:v]drawbox=x=0:y=0:w=320:h=720:c=0x404040:t=fill,"
        "drawbox=x=900:y=180:w=200:h=420:c=0x8a7a60:t=fill,"
        "drawbox=x=320:y=560:w=960:h=160:c=0x5a5a5a:t=fill[room];"
        f"[room][1:v]overlay=x='({p}-60)*120-120':y=300:enable='between({p},60,72)'[a];"
        f"[a][1:v]overlay=x='500+200*sin((t-300)*0.7)':y=280:enable='between({p},300,330)'[b];"
        f"[b][1:v]overlay=x='700+150*cos((t-300)*0.9)':y=320:enable='between({p},305,328)',"
        "noise=alls=6:allf=t,"
        f"eq=eval=frame:brightness='if(between({p},450,540),0.15,0)':"
        f"contrast='if(between({p},450,540),1.3,1)',"
        f"{text}:x=16:y=14:text='{clock}',"
        f"{text}:x=16:y=h-th-16:text='КАМЕРА 3 КОРИДОР',format=yuv420p[v];"
        f"[3:a]volume=eval=frame:volume='if(between({p},200,203)+between({p},310,314),0.5,0)'"
        "[shout];[2:a][shout]amix=inputs=2:normalize=0[a]"
    )


def _part(target: Path, index: int) -> Path:
    if target.is_file():
        return target
    partial = target.with_suffix(".partial.mp4")
    subprocess.run(
        [
            ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"color=c=0x6e6e6e:s=1280x720:r={RATE}:d={PART}",
            "-f", "lavfi", "-i", f"color=c=0xd0d0d0:s=120x240:r={RATE}",
            "-f", "lavfi", "-i", f"anoisesrc=a=0.02:c=pink:r=48000:d={PART}:seed={index + 1}",
            "-f", "lavfi", "-i", f"sine=f=700:r=48000:d={PART}",
            "-filter_complex", _graph(index * PART), "-map", "[v]", "-map", "[a]",
            "-t", str(PART), "-c:v", "libx264", "-preset", "ultrafast",
            "-g", str(GOP), "-keyint_min", str(GOP), "-sc_threshold", "0",
            "-b:v", "1500k", "-maxrate", "2000k", "-bufsize", "4000k",
            "-c:a", "aac", "-b:a", "64k", str(partial),
        ],
        check=True,
    )  # fmt: skip
    partial.replace(target)
    return target


def make_footage(folder: Path, minutes: int) -> Path:
    """The footage described in the module docstring (made once, then reused)."""
    parts = -(-minutes * 60 // PART)
    target = folder / f"cctv-{parts * PART // 60}min-720p{RATE}-gop2s.mp4"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    print(f"making {target.name} (once; several minutes)...", flush=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = list(pool.map(lambda i: _part(folder / f"part-{i}.mp4", i), range(parts)))
    listing = folder / "parts.txt"
    listing.write_text("".join(f"file '{p.name}'\n" for p in made))
    partial = target.with_suffix(".partial.mp4")
    subprocess.run(
        [
            ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(partial),
        ],
        check=True,
    )  # fmt: skip
    partial.replace(target)
    for part in made:
        part.unlink()
    listing.unlink()
    return target


def timed(argv: list[str]) -> float:
    subprocess.run(["sync"], check=True)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def segments(report: Path) -> tuple[list[tuple[float, float]], dict[str, object]]:
    """The one video's segments (start, end) and its ``analysis.path``."""
    run = json.loads((report / "report.json").read_text())
    (video,) = run["videos"]
    document = json.loads((report / video["result"]).read_text())
    found = [(s["start"], s["end"]) for s in document["segments"]]
    return found, {**document["analysis"].get("path", {}), "overlay": "overlay" in document}


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def same(found: list[tuple[float, float]], wanted: list[tuple[float, float]]) -> str:
    if len(found) != len(wanted):
        return f"NO: {len(found)} segments against {len(wanted)}"
    worst = min((iou(f, w) for f, w in zip(found, wanted, strict=True)), default=1.0)
    verdict = "yes" if worst >= IOU else "NO"
    return f"{verdict}: {len(found)} segments, lowest IoU {worst:.3f}"


def overlay_reader() -> bool:
    """Whether this branch has the overlay reader (another branch brings it)."""
    return importlib.util.find_spec("tainik.workstation.triage.overlay") is not None


def cpu_profile(clip: Path) -> None:
    """In this process: CPU seconds (all threads) of the coarse pass, the fine pass and the
    full decode's measurements (no hashing, reports, thumbnails or worker start-up)."""
    from tainik.workstation.triage import coarse  # noqa: PLC0415
    from tainik.workstation.triage.analysis import measure_every_frame  # noqa: PLC0415
    from tainik.workstation.triage.decoding import MediaReader  # noqa: PLC0415
    from tainik.workstation.triage.params import AnalysisParams  # noqa: PLC0415

    analysis = AnalysisParams()
    with MediaReader(clip) as reader:
        began = time.process_time()
        found = coarse.scan(reader, analysis, None)
        scanned = time.process_time()
        assert isinstance(found, coarse.Coarse)
        stretches = coarse.plan(found)
        fine = coarse.fine(reader, analysis, stretches)
        done = time.process_time()
    with MediaReader(clip) as reader:
        measure_every_frame(reader, analysis)
        full = time.process_time() - done
    print(json.dumps({"scan": scanned - began, "fine": done - scanned, "full": full,
                      "fine_seconds": fine.seconds, "stretches": len(stretches)}))  # fmt: skip


def cpu_of(argv: list[str]) -> float:
    """CPU seconds (user + system) of a program run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def profile(clip: Path, keys: list[str], reduced: list[str]) -> None:
    """The floor: CPU seconds per GiB of footage of each part (module docstring)."""
    gib = clip.stat().st_size / 2**30
    answer = subprocess.run(
        [sys.executable, __file__, "--cpu-profile", str(clip)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    parts = json.loads(answer.stdout)
    rows = [
        ("ffmpeg -skip_frame nokey (keyframes + audio)", cpu_of(keys)),
        ("ffmpeg -vf fps=5,scale=320:-2", cpu_of(reduced)),
        ("coarse pass (keyframes, audio, loudness)", parts["scan"]),
        (f"fine pass ({parts['stretches']} stretches, {parts['fine_seconds']:.0f} s)",
         parts["fine"]),
        ("coarse + fine measurements", parts["scan"] + parts["fine"]),
        ("full decode's measurements (every frame)", parts["full"]),
    ]  # fmt: skip
    print(f"CPU time (user + system, all threads), {gib:.2f} GiB of footage:")
    for label, seconds in rows:
        print(f"  {label:<48} {seconds:7.2f} s  {seconds / gib:7.1f} s/GiB")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--cpu-profile":
        cpu_profile(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best counts")
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "bench-triage")
    parser.add_argument("--no-profile", action="store_true", help="skip the CPU profile")
    args = parser.parse_args()
    clip = make_footage(args.work, args.minutes)
    duration = float(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
             str(clip)],
            check=True, capture_output=True, text=True,
        ).stdout
    )  # fmt: skip
    coarse_out, full_out = args.work / "report-coarse", args.work / "report-full"

    def fresh(folder: Path) -> Callable[[], None]:
        return lambda: shutil.rmtree(folder, ignore_errors=True)

    tainik = [str(BIN / "tainik"), "triage", str(clip)]
    head = [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error"]
    plan: list[tuple[str, list[str], Callable[[], None] | None]] = [
        (COARSE, [*tainik, "--out", str(coarse_out)], fresh(coarse_out)),
        (FULL, [*tainik, "--out", str(full_out), "--full-decode"], fresh(full_out)),
        (REDUCED, [*head, "-i", str(clip), "-vf", "fps=5,scale=320:-2", "-f", "null", "-"],
         None),
        (KEYS, [*head, "-skip_frame", "nokey", "-i", str(clip), "-f", "null", "-"], None),
    ]  # fmt: skip
    reads_overlay = overlay_reader()
    if reads_overlay:
        code = (
            "import sys; from pathlib import Path; "
            "from tainik.workstation.triage.overlay import read_overlay; "
            "read_overlay(Path(sys.argv[1]))"
        )
        plan.append((OVERLAY, [sys.executable, "-c", code, str(clip)], None))
    size = clip.stat().st_size
    print(f"footage: {clip.name}, {duration / 60:.1f} min 720p{RATE} H.264 + AAC, GOP 2 s, "
          f"{size / 2**20:.0f} MiB; {os.cpu_count()} cores; best of {args.repeat}, "
          "interleaved", flush=True)  # fmt: skip
    times: dict[str, list[float]] = {label: [] for label, _, _ in plan}
    for _ in range(args.repeat):
        for label, argv, before in plan:
            if before is not None:
                before()
            times[label].append(timed(argv))
            print(f"  ran {label}: {times[label][-1]:.1f} s", flush=True)
    best = {label: min(values) for label, values in times.items()}
    found, path = segments(coarse_out)
    wanted, _ = segments(full_out)
    overlay_inside = bool(path.pop("overlay"))
    new = best[COARSE]
    if reads_overlay and not overlay_inside:
        new += best[OVERLAY]
    print()
    for label, seconds in best.items():
        print(f"  {label:<44} {seconds:7.2f} s  {duration / seconds:7.1f}x real time")
    what = "with the overlay read inside triage" if overlay_inside else (
        "with the overlay read as a separate step (added)" if reads_overlay
        else "WITHOUT overlay reading (no overlay reader on this branch)"
    )  # fmt: skip
    print(f"  {'coarse to fine, ' + what:<44} {new:7.2f} s  {duration / new:7.1f}x real time")
    print(f"coarse path: {path}")
    speedup = best[FULL] / new
    floor = new / best[KEYS]
    print(f"full decode / coarse to fine:        {speedup:5.2f}  (target >= 3: "
          f"{'met' if speedup >= 3 else 'NOT met'})")  # fmt: skip
    print(f"coarse to fine / keyframe-only:      {floor:5.2f}  (target <= 1.6: "
          f"{'met' if floor <= 1.6 else 'NOT met'})")  # fmt: skip
    print(f"full decode / reduced ffmpeg decode: {best[FULL] / best[REDUCED]:5.2f}")
    print(f"reduced / keyframe-only decode:      {best[REDUCED] / best[KEYS]:5.2f}")
    print(f"same segments as the full decode:    {same(found, wanted)}")
    if not args.no_profile:
        print()
        profile(clip, plan[3][1], plan[2][1])


if __name__ == "__main__":
    main()
