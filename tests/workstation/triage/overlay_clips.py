"""CCTV-like clips with a burned-in overlay, drawn by ffmpeg's ``drawtext`` (DejaVu Sans Mono
or Sans, which have Cyrillic): a running clock and a camera name, over a grey room where a
figure may walk past.

The clock is ffmpeg's ``%{pts:gmtime:EPOCH:FORMAT}``: it shows EPOCH plus the frame's time,
as a recorder burns its own clock in. A clip with a cut is two clips whose clocks disagree,
joined without re-encoding.
"""

from __future__ import annotations

import datetime
import subprocess
from dataclasses import dataclass
from pathlib import Path

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
PROPORTIONAL = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
UTC = datetime.UTC


@dataclass(frozen=True)
class Clock:
    """A burned-in clock: where it starts and how it is written (strftime, ``%%`` for %)."""

    start: datetime.datetime
    layout: str = "%d-%m-%Y Пн %H:%M:%S"


def _escape(text: str) -> str:
    """Text for drawtext's ``text=`` inside a filtergraph (colons and quotes escaped)."""
    return text.replace("\\", "\\\\\\\\").replace(":", "\\\\\\:").replace("'", "\\\\\\'")


def _clock_text(clock: Clock) -> str:
    epoch = int(clock.start.replace(tzinfo=UTC).timestamp())
    layout = clock.layout.replace(":", "\\\\\\:")
    return f"%{{pts\\:gmtime\\:{epoch}\\:{layout}}}"


def make_clip(
    target: Path,
    duration: float,
    clock: Clock | None,
    camera: str | None,
    gop: int = 50,
    rate: int = 25,
    size: str = "640x360",
    seed: int = 0,
    clock_at: str = "top",
    walk: tuple[float, float] | None = None,
    font: str = FONT,
    ground: str = "0x5a5a5a",
) -> Path:
    """An H.264 clip with the overlay asked for (none when both are None); during ``walk``
    (seconds) a pale figure crosses the room. ``clock_at`` is ``top`` or ``bottom`` (the
    camera's name at the other edge) or ``top-right`` (the name at the top left)."""
    top, bottom = "x=12:y=10", "x=12:y=h-th-12"
    places = {"top": (top, bottom), "bottom": (bottom, top), "top-right": ("x=w-tw-16:y=10", top)}
    clock_place, camera_place = places[clock_at]
    a, b = walk if walk is not None else (-2.0, -1.0)
    filters = [
        f"[0:v]drawbox=x={30 + seed % 7 * 20}:y=90:w=60:h=50:c=0x383838:t=fill[room]",
        f"[room][1:v]overlay=x='(t-{a})/{b - a}*(W-50)':y={100 + seed % 5 * 6}:"
        f"enable='between(t,{a},{b})'",
        "noise=alls=6:allf=t",
    ]
    if clock is not None:
        filters.append(
            f"drawtext=fontfile={font}:fontsize=20:fontcolor=white:borderw=2:"
            f"bordercolor=black:{clock_place}:text='{_clock_text(clock)}'"
        )
    if camera is not None:
        filters.append(
            f"drawtext=fontfile={font}:fontsize=20:fontcolor=white:borderw=2:"
            f"bordercolor=black:{camera_place}:text='{_escape(camera)}'"
        )
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-hide_banner", "-loglevel", "error",
         "-f", "lavfi", "-i", f"color=c={ground}:s={size}:r={rate}:d={duration}",
         "-f", "lavfi", "-i", f"color=c=0xd0d0d0:s=50x100:r={rate}:d={duration}",
         "-filter_complex", ",".join(filters),
         "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", str(gop),
         "-keyint_min", str(gop), "-sc_threshold", "0", "-pix_fmt", "yuv420p",
         "-threads", "1", str(target)],
        check=True,
    )  # fmt: skip
    return target


def join(parts: list[Path], target: Path) -> Path:
    """``parts`` one after the other, without re-encoding (ffmpeg's concat demuxer)."""
    listing = target.with_suffix(".txt")
    listing.write_text("".join(f"file '{p.resolve()}'\n" for p in parts), encoding="utf-8")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-hide_banner", "-loglevel", "error", "-f", "concat",
         "-safe", "0", "-i", str(listing), "-c", "copy", str(target)],
        check=True,
    )  # fmt: skip
    listing.unlink()
    return target
