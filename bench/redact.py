"""Benchmark: `tainik redact` against `deface` on the same synthetic 720p clip, CPU, same run.

Builds the clip of tests/workstation/redact/scene.py at 1280x720 (two faces, occlusion,
turning, camera shake, faces cut by the frame edge; ground-truth boxes known), then runs both
tools on it as a user would (their command lines, solid fill, default settings otherwise)
and prints, for each: frames per second (wall clock, including start-up) and the number of
frames in which some ground-truth face box is less than 95% covered. Target: ratio >= 1.0
with fewer exposed frames.

Run: `.venv/bin/python bench/redact.py [--frames 150] [--keep DIR]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def load_scene() -> ModuleType:
    """The test suite's scene generator, loaded by path (tests/ is not a package)."""
    path = ROOT / "tests" / "workstation" / "redact" / "scene.py"
    spec = importlib.util.spec_from_file_location("redact_scene", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def timed(command: list[str], env: dict[str, str]) -> float:
    """Wall-clock seconds of one command (which must succeed)."""
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{command[0]} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--keep", type=Path, help="keep the clip and both outputs here")
    args = parser.parse_args()

    deface = shutil.which("deface", path=str(BIN)) or shutil.which("deface")
    tainik = shutil.which("tainik", path=str(BIN)) or shutil.which("tainik")
    if deface is None or tainik is None:
        sys.exit("needs both `deface` and `tainik` on PATH (make setup)")
    scene = load_scene()
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")  # CPU only, for both

    work = args.keep or Path(tempfile.mkdtemp(prefix="tainik-bench-redact-"))
    work.mkdir(parents=True, exist_ok=True)
    clip = work / "clip-720p.mp4"
    ours_out, deface_out = work / "tainik.mp4", work / "deface.mp4"
    for stale in (ours_out, deface_out):
        stale.unlink(missing_ok=True)
    made = scene.make_clip(
        clip, width=1280, height=720, frames=args.frames, scale_a=1.3, scale_b=0.8
    )
    print(f"clip: {clip} 1280x720, {args.frames} frames; CPU cores: {os.cpu_count()}")

    ours_s = timed(
        [tainik, "redact", str(clip), "--out", str(ours_out), "--device", "cpu", "--no-report"],
        env,
    )
    deface_s = timed(
        [
            deface,
            str(clip),
            "--output",
            str(deface_out),
            "--replacewith",
            "solid",
            "--execution-provider",
            "CPUExecutionProvider",
        ],
        env,
    )
    ours_exposed = scene.exposed_frames(scene.read_rgb(ours_out), made.boxes)
    deface_exposed = scene.exposed_frames(scene.read_rgb(deface_out), made.boxes)
    ours_fps, deface_fps = args.frames / ours_s, args.frames / deface_s
    print(
        f"tainik redact: {ours_fps:6.2f} frames/s ({ours_s:.1f} s), "
        f"exposed frames: {len(ours_exposed)} {ours_exposed}"
    )
    print(
        f"deface 1.5   : {deface_fps:6.2f} frames/s ({deface_s:.1f} s), "
        f"exposed frames: {len(deface_exposed)} {deface_exposed}"
    )
    print(
        f"speed ratio tainik/deface: {ours_fps / deface_fps:.2f}x (target >= 1.0x); "
        f"exposed frames {len(ours_exposed)} vs {len(deface_exposed)} "
        f"of {args.frames} (target: fewer)"
    )
    if args.keep is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
