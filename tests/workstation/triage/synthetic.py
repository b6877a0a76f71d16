"""Synthetic CCTV footage with a known ground truth, made by ffmpeg at test time.

The scene (320x240, 10 fps, 90 s, H.264 + AAC) is a static, grainy room: a grey wall, two
fixed boxes, and temporal noise (``noise=alls=14:allf=t``) under compression, as CCTV looks.

- ``MOTION``: a pale box crosses the room left to right (8-24 s); a dark box falls through
  it top to bottom (45-57 s);
- ``SOUND``: an 880 Hz tone rises ~30 LU above a pink-noise room tone (32-37 s, 64-69 s);
- ``SLOW_LIGHT``: the room darkens by ~25 grey levels over four seconds (26-30 s): no motion;
- ``TRAP``: at 78 s the whole picture jumps ~64 grey levels brighter and its contrast up by
  a third, and stays so, as when a camera switches to infrared: no motion, and it must
  produce no segment.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tainik.workstation.triage.segmentation import Span

WIDTH, HEIGHT, FPS = 320, 240, 10
DURATION = 90.0
MOTION = (Span(8.0, 24.0), Span(45.0, 57.0))
SOUND = (Span(32.0, 37.0), Span(64.0, 69.0))
SLOW_LIGHT = Span(26.0, 30.0)
TRAP = 78.0


def ffmpeg() -> str:
    """The ffmpeg program (Debian package ``ffmpeg``, installed by ``make setup``)."""
    path = shutil.which("ffmpeg")
    if path is None:
        raise RuntimeError("ffmpeg is missing: run 'make setup' (Debian package 'ffmpeg')")
    return path


def _between(spans: tuple[Span, ...]) -> str:
    return "+".join(f"between(t,{s.start},{s.end})" for s in spans)


def make_scene(
    path: Path,
    duration: float = DURATION,
    faststart: bool = False,
    gop: int | None = None,
    late: float = 0.0,
) -> Path:
    """Write the scene described in the module docstring to ``path``: keyframes every 5 s
    (x264's choice within ``-g 50``), or exactly every ``gop`` frames. With ``late``, the
    pictures start that many seconds after the sound (frames off the 0.1 s grid) and the
    trap springs one frame after a keyframe."""
    pale, dark = MOTION
    trap = TRAP + late
    light = (
        f"brightness='if(gte(t,{trap}),0.15,"
        f"-0.1*clip((t-{SLOW_LIGHT.start})/{SLOW_LIGHT.duration},0,1))':"
        f"contrast='if(gte(t,{trap}),1.33,1)'"
    )
    graph = (
        "[0:v]drawbox=x=40:y=150:w=80:h=60:c=0x303030:t=fill,"
        "drawbox=x=200:y=30:w=60:h=120:c=0x909090:t=fill[room];"
        f"[room][1:v]overlay=x='(t-{pale.start})/{pale.duration}*(W+40)-40':y=100:"
        f"enable='between(t,{pale.start},{pale.end})'[one];"
        f"[one][2:v]overlay=x=150:y='(t-{dark.start})/{dark.duration}*(H+50)-50':"
        f"enable='between(t,{dark.start},{dark.end})',"
        f"noise=alls=14:allf=t,eq=eval=frame:{light},format=yuv420p[v];"
        f"[4:a]volume=eval=frame:volume='if({_between(SOUND)},0.5,0)'[tone];"
        "[3:a][tone]amix=inputs=2:normalize=0[a]"
    )
    size = f"{WIDTH}x{HEIGHT}"
    argv = [
        ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"color=c=0x606060:s={size}:r={FPS}:d={duration}",
        "-f", "lavfi", "-i", f"color=c=0xd0d0d0:s=40x60:r={FPS}:d={duration}",
        "-f", "lavfi", "-i", f"color=c=0x202020:s=50x50:r={FPS}:d={duration}",
        "-f", "lavfi", "-i", f"anoisesrc=a=0.02:c=pink:r=16000:d={duration}:seed=7",
        "-f", "lavfi", "-i", f"sine=f=880:r=16000:d={duration}",
        "-filter_complex", graph, "-map", "[v]", "-map", "[a]",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30",
        *(["-g", "50"] if gop is None else _fixed_gop(gop)),
        "-c:a", "aac", "-b:a", "48k",
        *(["-movflags", "+faststart"] if faststart else []),
        str(path),
    ]  # fmt: skip
    subprocess.run(argv, check=True)
    if late:  # the same pictures, shifted against the sound without re-encoding
        early = path.with_suffix(".early.mp4")
        path.replace(early)
        subprocess.run(
            [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
             "-i", str(early), "-itsoffset", str(late), "-i", str(early),
             "-map", "1:v", "-map", "0:a", "-c", "copy", str(path)],
            check=True,
        )  # fmt: skip
        early.unlink()
    return path


def _fixed_gop(frames: int) -> list[str]:
    return ["-g", str(frames), "-keyint_min", str(frames), "-sc_threshold", "0"]


#: :func:`make_between`: keyframes every 2 s (10 fps, GOP 20); each box is seen for 2.0 s
#: (20 frames) with a keyframe only at its last frame (10.0 s) or its first (20.0 s).
BETWEEN_GOP = 20
BETWEEN = (Span(8.1, 10.1), Span(20.0, 22.0))
BETWEEN_DURATION = 30.0


def make_between(path: Path) -> Path:
    """A still, noisy room (no sound) where a box walks across for 2 s, twice, placed
    against the keyframes as :data:`BETWEEN` says."""
    first, second = BETWEEN
    graph = (
        f"[0:v][1:v]overlay=x='40+(t-{first.start})*60':y=90:"
        f"enable='between(t,{first.start - 0.05},{first.end - 0.05})'[one];"
        f"[one][1:v]overlay=x='40+(t-{second.start})*60':y=90:"
        f"enable='between(t,{second.start - 0.05},{second.end - 0.05})',"
        "noise=alls=14:allf=t,format=yuv420p[v]"
    )
    argv = [
        ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi",
        "-i", f"color=c=0x606060:s={WIDTH}x{HEIGHT}:r={FPS}:d={BETWEEN_DURATION}",
        "-f", "lavfi", "-i", f"color=c=0xd0d0d0:s=40x60:r={FPS}:d={BETWEEN_DURATION}",
        "-filter_complex", graph, "-map", "[v]",
        "-an", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30",
        *_fixed_gop(BETWEEN_GOP), str(path),
    ]  # fmt: skip
    subprocess.run(argv, check=True)
    return path


def make_bright_box(path: Path, duration: float, box: Span) -> Path:
    """A still, noisy grey scene where a pure white box stands still during ``box``: motion
    only at its edges in time, but a detector for "very bright" sees it throughout."""
    argv = [
        ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"color=c=0x707070:s={WIDTH}x{HEIGHT}:r={FPS}:d={duration}",
        "-vf",
        f"drawbox=x=120:y=80:w=60:h=60:c=white:t=fill:enable='between(t,{box.start},{box.end})',"
        "noise=alls=8:allf=t,format=yuv420p",
        "-an", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", str(path),
    ]  # fmt: skip
    subprocess.run(argv, check=True)
    return path


def truncate(source: Path, target: Path, fraction: float) -> Path:
    """The first ``fraction`` of ``source``'s bytes, as a cut-off download would leave."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target
