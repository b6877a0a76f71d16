"""``tainik redact``: hide the faces in a video, with a QA report (docs/redaction.md).

The defaults are :class:`~tainik.workstation.redact.options.RedactOptions`' own.
"""

from __future__ import annotations

from pathlib import Path

from tainik.cli.declare import Command, arg, field_arg
from tainik.cli.syntax.vault import ACTOR
from tainik.core.errors import N_
from tainik.workstation.redact.audio import AudioMode
from tainik.workstation.redact.options import RedactOptions
from tainik.workstation.redact.records import RenderMode

REDACT = Command(
    "redact",
    help=N_("hide faces in a video (detect, track, cover, re-encode)"),
    description=N_(
        "Detect faces on every frame of VIDEO, track them, and cover each track from a\n"
        "few frames before it is first seen to a few after it is last seen, and through\n"
        "short gaps. Manual regions cover what detection misses. The output is fully\n"
        "re-encoded with no metadata. Also writes OUT.redaction.json (what was derived\n"
        "from what, and how) and a QA report, OUT.qa.html, listing the frames to check."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik redact cam3.mp4 --out cam3-redacted.mp4\n"
        "  tainik redact cam3.mp4 --out public.mp4 --region 1040,20,220,40@0-95.5 \\\n"
        "      --audio pitch --boxes-out boxes.json"
    ),
    args=(
        arg("video", type=Path, metavar="VIDEO", help=N_("the original video")),
        arg("--out", required=True, type=Path, metavar="OUT", help=N_("the redacted video (MP4)")),
        field_arg(
            RedactOptions,
            "mode",
            "--mode",
            choices=[m.value for m in RenderMode],
            help=N_("how covered areas look (default: %(default)s; blur and mosaic are weaker)"),
        ),
        arg(
            "--region",
            action="append",
            default=[],
            metavar="X,Y,W,H@T0-T1",
            help=N_("also cover this rectangle (pixels) from T0 to T1 seconds; repeatable"),
        ),
        field_arg(
            RedactOptions,
            "audio",
            "--audio",
            choices=[m.value for m in AudioMode],
            help=N_("keep the sound, drop it, or shift voices down (default: %(default)s)"),
        ),
        arg("--boxes-out", type=Path, metavar="JSON", help=N_("write every covered box as JSON")),
        arg(
            "--report",
            type=Path,
            metavar="HTML",
            help=N_("QA report path (default: OUT.qa.html)"),
        ),
        arg("--no-report", action="store_true", help=N_("do not write a QA report")),
        field_arg(
            RedactOptions,
            "threshold",
            "--threshold",
            metavar="SCORE",
            help=N_("detection score that starts a track, 0..1 (default: %(default)s)"),
        ),
        field_arg(
            RedactOptions,
            "margin",
            "--margin",
            metavar="FRACTION",
            help=N_(
                "grow each face box by this much of its size on every side (default: %(default)s)"
            ),
        ),
        field_arg(
            RedactOptions,
            "detect_scale",
            "--detect-scale",
            metavar="FACTOR",
            help=N_(
                "detect on frames scaled by this factor; below 1 is faster, misses small faces"
            ),
        ),
        arg(
            "--device",
            choices=["auto", "cpu"],
            default="auto",
            help=N_("where the detector runs: a GPU when onnxruntime has one, or the CPU"),
        ),
        arg(
            "--vault",
            type=Path,
            metavar="VAULT",
            help=N_("store the output in this vault as derived from VIDEO's stored original"),
        ),
        ACTOR,
    ),
)
