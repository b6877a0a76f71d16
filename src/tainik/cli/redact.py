"""``tainik redact``: hide the faces in a video, with a QA report (docs/redaction.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tainik.cli.context import Context
from tainik.cli.progress import ProgressLine
from tainik.cli.vault_options import actor, add_actor_argument, say_head, unlock
from tainik.core.errors import N_, UsageError
from tainik.workstation.redact.audio import AudioMode
from tainik.workstation.redact.records import RedactionRecord, RenderMode
from tainik.workstation.redact.regions import parse_region

# The redaction pipeline loads PyAV, OpenCV, NumPy and ONNX Runtime, and the vault SQLAlchemy:
# run_redact imports them, so that building the parser (every tainik command) stays light.
# What the parser needs from them is repeated here; tests/cli/test_redact_options.py checks
# it against RedactOptions.

RECORD_SUFFIX = ".redaction.json"
REPORT_SUFFIX = ".qa.html"

#: The values of RenderMode, the first the default.
RENDER_MODES = tuple(m.value for m in RenderMode)
#: RedactOptions' defaults (tainik.workstation.redact.pipeline).
DEFAULT_THRESHOLD = 0.2
DEFAULT_MARGIN = 0.3
DEFAULT_DETECT_SCALE = 1.0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], ctx: Context) -> None:
    """Add ``redact``."""
    _ = ctx._
    parser = commands.add_parser(
        "redact",
        help=_("hide faces in a video (detect, track, cover, re-encode)"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Detect faces on every frame of VIDEO, track them, and cover each track from a\n"
            "few frames before it is first seen to a few after it is last seen, and through\n"
            "short gaps. Manual regions cover what detection misses. The output is fully\n"
            "re-encoded with no metadata. Also writes OUT.redaction.json (what was derived\n"
            "from what, and how) and a QA report, OUT.qa.html, listing the frames to check."
        ),
        epilog=_(
            "examples:\n"
            "  tainik redact cam3.mp4 --out cam3-redacted.mp4\n"
            "  tainik redact cam3.mp4 --out public.mp4 --region 1040,20,220,40@0-95.5 \\\n"
            "      --audio pitch --boxes-out boxes.json"
        ),
    )
    parser.add_argument("video", type=Path, metavar="VIDEO", help=_("the original video"))
    parser.add_argument(
        "--out", required=True, type=Path, metavar="OUT", help=_("the redacted video (MP4)")
    )
    parser.add_argument(
        "--mode",
        choices=list(RENDER_MODES),
        default=RENDER_MODES[0],
        help=_("how covered areas look (default: %(default)s; blur and mosaic are weaker)"),
    )
    parser.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="X,Y,W,H@T0-T1",
        help=_("also cover this rectangle (pixels) from T0 to T1 seconds; repeatable"),
    )
    parser.add_argument(
        "--audio",
        choices=[m.value for m in AudioMode],
        default=AudioMode.KEEP.value,
        help=_("keep the sound, drop it, or shift voices down (default: %(default)s)"),
    )
    parser.add_argument(
        "--boxes-out", type=Path, metavar="JSON", help=_("write every covered box as JSON")
    )
    parser.add_argument(
        "--report", type=Path, metavar="HTML", help=_("QA report path (default: OUT.qa.html)")
    )
    parser.add_argument("--no-report", action="store_true", help=_("do not write a QA report"))
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        metavar="SCORE",
        help=_("detection score that starts a track, 0..1 (default: %(default)s)"),
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=DEFAULT_MARGIN,
        metavar="FRACTION",
        help=_("grow each face box by this much of its size on every side (default: %(default)s)"),
    )
    parser.add_argument(
        "--detect-scale",
        type=float,
        default=DEFAULT_DETECT_SCALE,
        metavar="FACTOR",
        help=_("detect on frames scaled by this factor; below 1 is faster, misses small faces"),
    )
    parser.add_argument(
        "--device",
        choices=["auto", "cpu"],
        default="auto",
        help=_("where the detector runs: a GPU when onnxruntime has one, or the CPU"),
    )
    parser.add_argument(
        "--vault",
        type=Path,
        metavar="VAULT",
        help=_("store the output in this vault as derived from VIDEO's stored original"),
    )
    add_actor_argument(parser, ctx)
    parser.set_defaults(run=run_redact)


def _check_new(path: Path) -> None:
    if path.exists():
        raise UsageError(
            N_("{path}: already exists; Tainik does not replace files"), path=str(path)
        )


def _store_in_vault(
    args: argparse.Namespace, ctx: Context, record: RedactionRecord, out: Path
) -> None:
    from tainik.workstation.publish.vaultlink import store_redacted  # noqa: PLC0415 - heavy
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415 - heavy

    with Vault.open(args.vault) as vault:
        key = unlock(vault, ctx)
        with vault.writer(key, actor(args)) as writer:
            ref = store_redacted(writer, record.original.sha256, out, record.to_json())
        say_head(vault, ctx)
    ctx.say(ctx._("stored in the vault as {sha}").format(sha=ref.sha256[:16]))


def run_redact(args: argparse.Namespace, ctx: Context) -> int:
    """Redact one video; print the output path."""
    # PyAV, OpenCV, NumPy, ONNX Runtime and SQLAlchemy load only for this command.
    from tainik.workstation.redact.detector import FaceDetector  # noqa: PLC0415
    from tainik.workstation.redact.pipeline import (  # noqa: PLC0415
        RedactOptions,
        redact,
        write_record,
        write_text,
    )
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415

    if not args.video.is_file():
        raise UsageError(N_("{path}: not a regular file"), path=str(args.video))
    if not 0 < args.threshold < 1:
        raise UsageError(N_("--threshold must be between 0 and 1"))
    if not 0 <= args.margin <= 2:
        raise UsageError(N_("--margin must be between 0 and 2"))
    if not 0.1 <= args.detect_scale <= 1:
        raise UsageError(N_("--detect-scale must be between 0.1 and 1"))
    out: Path = args.out
    if out.resolve() == args.video.resolve():
        raise UsageError(N_("{path}: the output must not be the original"), path=str(out))
    if not out.parent.is_dir():
        raise UsageError(N_("{path}: not a directory"), path=str(out.parent))
    record = out.with_name(out.name + RECORD_SUFFIX)
    report = None if args.no_report else (args.report or out.with_name(out.name + REPORT_SUFFIX))
    for path in (out, record, report, args.boxes_out):
        if path is not None:
            _check_new(path)
    if args.vault is not None:
        Vault.open(args.vault).close()  # fail now, not after an hour of work
    options = RedactOptions(
        mode=RenderMode(args.mode),
        regions=tuple(parse_region(text) for text in args.region),
        audio=AudioMode(args.audio),
        threshold=args.threshold,
        margin=args.margin,
        detect_scale=args.detect_scale,
    )
    detector = FaceDetector(providers=["CPUExecutionProvider"] if args.device == "cpu" else None)
    bar = ProgressLine(ctx.stderr, args.video.name, 2 * args.video.stat().st_size)
    try:
        result = redact(args.video, out, options, progress=bar, detector=detector)
    finally:
        bar.close()
    write_record(record, result.record)
    if args.boxes_out is not None:
        write_record(args.boxes_out, result.boxes)
    if report is not None:
        write_text(report, result.report_html)
    if args.vault is not None:
        _store_in_vault(args, ctx, result.record, out)
    events = result.plan.events
    ctx.say(
        ctx._("{frames} frames, {tracks} face tracks; to check: {events} events{where}").format(
            frames=result.frames,
            tracks=len(result.plan.tracks),
            events=len(events),
            where=f" ({report})" if report is not None and events else "",
        )
    )
    print(out, file=ctx.stdout, flush=True)
    return 0
