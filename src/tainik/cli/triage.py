"""``tainik triage``: find the minutes of video that matter, and report them gently."""

from __future__ import annotations

import argparse
from pathlib import Path

from tainik.cli.context import Context
from tainik.cli.progress import ProgressLine
from tainik.workstation.triage.params import (
    SUBTRACTORS,
    AnalysisParams,
    SegmentRules,
    TriageParams,
)

_ANALYSIS = AnalysisParams()
_RULES = SegmentRules()


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], ctx: Context) -> None:
    """Add ``triage``."""
    _ = ctx._
    parser = commands.add_parser(
        "triage",
        help=_("find the stretches of video with activity and sound"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Decode each VIDEO at reduced size and frame rate, measure motion (background\n"
            "subtraction) and sound (loudness above the background level), and write to DIR:\n"
            "index.html (a ranked list across all videos and a timeline per video, pictures\n"
            "greyscale and blurred until clicked), report.json, videos/SHA256.json per video,\n"
            "a thumbnail and a clip (cut without re-encoding) per segment. A folder stands\n"
            "for the video files inside it. Files that cannot be analysed are reported and\n"
            "skipped. A re-run with the same DIR reuses the measurements already made.\n"
            "See docs/triage.md."
        ),
        epilog=_(
            "examples:\n"
            "  tainik triage footage/ --out triage-report/\n"
            "  tainik triage cam1.mp4 cam2.mp4 --out report/ --jobs 4 --plain-thumbnails\n"
            "  tainik triage footage/ --out report/ --detector person.onnx"
        ),
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="VIDEO", help=_("video files, or folders of video files")
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help=_("report folder (created if missing)"),
    )
    parser.add_argument(
        "--jobs", type=int, default=None, metavar="N",
        help=_("videos analysed at once (default: one per core)"),
    )  # fmt: skip
    out = parser.add_argument_group(_("report"))
    out.add_argument(
        "--plain-thumbnails", action="store_true",
        help=_("show pictures plainly instead of greyscale and blurred"),
    )  # fmt: skip
    out.add_argument("--no-clips", action="store_true", help=_("do not cut clips"))
    analysis = parser.add_argument_group(_("analysis (changing these re-decodes the videos)"))
    analysis.add_argument(
        "--fps", type=float, default=_ANALYSIS.fps, metavar="RATE",
        help=_("frames analysed per second (default: %(default)s)"),
    )  # fmt: skip
    analysis.add_argument(
        "--width", type=int, default=_ANALYSIS.width, metavar="PIXELS",
        help=_("width of the analysed pictures (default: %(default)s)"),
    )  # fmt: skip
    analysis.add_argument(
        "--subtractor", choices=SUBTRACTORS, default=_ANALYSIS.subtractor,
        help=_("background subtraction method (default: %(default)s)"),
    )  # fmt: skip
    analysis.add_argument(
        "--history", type=float, default=_ANALYSIS.history_s, metavar="SECONDS",
        help=_("how long the background model remembers (default: %(default)s)"),
    )  # fmt: skip
    analysis.add_argument(
        "--sensitivity", type=float, default=_ANALYSIS.sensitivity, metavar="VALUE",
        help=_("background subtraction threshold; lower is more sensitive "
               "(default: %(default)s)"),
    )  # fmt: skip
    analysis.add_argument(
        "--light-jump", type=float, default=_ANALYSIS.light_jump, metavar="LEVELS",
        help=_("a change of the median grey level beyond this between analysed frames is a "
               "light change, not motion (default: %(default)s)"),
    )  # fmt: skip
    analysis.add_argument(
        "--decode-all", action="store_true",
        help=_("decode every frame, even those no other frame refers to"),
    )  # fmt: skip
    analysis.add_argument(
        "--detector", action="append", default=[], type=Path, metavar="MODEL",
        help=_("an ONNX detector model adding its own signal (see docs/triage.md); repeat "
               "for several"),
    )  # fmt: skip
    analysis.add_argument(
        "--detector-rate", type=float, default=_ANALYSIS.detector_rate, metavar="RATE",
        help=_("frames per second shown to detectors (default: %(default)s)"),
    )  # fmt: skip
    segments = parser.add_argument_group(_("segments (cheap to change on a re-run)"))
    segments.add_argument(
        "--detector-threshold", type=float, default=0.5, metavar="SCORE",
        help=_("detector score that counts as a detection (default: %(default)s)"),
    )  # fmt: skip
    segments.add_argument(
        "--motion-threshold", type=float, default=_RULES.motion_threshold, metavar="FRACTION",
        help=_("moving fraction of the picture that counts (default: %(default)s)"),
    )  # fmt: skip
    segments.add_argument(
        "--sound-threshold", type=float, default=_RULES.sound_threshold, metavar="LU",
        help=_("loudness above the background that counts (default: %(default)s)"),
    )  # fmt: skip
    segments.add_argument(
        "--sound-floor", type=float, default=_RULES.sound_floor, metavar="LUFS",
        help=_("quieter sound never counts (default: %(default)s)"),
    )  # fmt: skip
    segments.add_argument(
        "--sound-background", type=float, default=_RULES.background_s, metavar="SECONDS",
        help=_("window for the background sound level (default: %(default)s)"),
    )  # fmt: skip
    segments.add_argument(
        "--leave-ratio", type=float, default=_RULES.leave_ratio, metavar="RATIO",
        help=_("a segment lasts while the evidence stays above this share of its "
               "threshold (default: %(default)s)"),
    )  # fmt: skip
    segments.add_argument(
        "--min-length", type=float, default=_RULES.min_length, metavar="SECONDS",
        help=_("shorter stretches are ignored (default: %(default)s)"),
    )  # fmt: skip
    segments.add_argument(
        "--merge-gap", type=float, default=_RULES.merge_gap, metavar="SECONDS",
        help=_("stretches closer than this become one segment (default: %(default)s)"),
    )  # fmt: skip
    segments.add_argument(
        "--padding", type=float, default=_RULES.padding, metavar="SECONDS",
        help=_("context added before and after each segment for review (default: "
               "%(default)s)"),
    )  # fmt: skip
    parser.set_defaults(run=run_triage)


def run_triage(args: argparse.Namespace, ctx: Context) -> int:
    """Triage every input; report failures and go on; exit with the first failure's code."""
    # Heavy imports (FFmpeg, OpenCV, NumPy) only when the command runs, not for --help.
    from tainik.workstation.triage.command import TriageRequest, prepare, run  # noqa: PLC0415
    from tainik.workstation.triage.report_html import ReportPage  # noqa: PLC0415
    from tainik.workstation.triage.results import Failure, VideoResult  # noqa: PLC0415
    from tainik.workstation.triage.runner import RunEvents  # noqa: PLC0415

    _ = ctx._
    request = TriageRequest(
        inputs=args.inputs,
        report_dir=args.out,
        params=TriageParams(
            analysis=AnalysisParams(
                fps=args.fps,
                width=args.width,
                subtractor=args.subtractor,
                history_s=args.history,
                sensitivity=args.sensitivity,
                light_jump=args.light_jump,
                skip_nonref=not args.decode_all,
                detector_rate=args.detector_rate,
            ),
            rules=SegmentRules(
                motion_threshold=args.motion_threshold,
                sound_threshold=args.sound_threshold,
                sound_floor=args.sound_floor,
                background_s=args.sound_background,
                leave_ratio=args.leave_ratio,
                min_length=args.min_length,
                merge_gap=args.merge_gap,
                padding=args.padding,
            ),
            clips=not args.no_clips,
            gentle=not args.plain_thumbnails,
        ),
        detector_models=args.detector,
        detector_threshold=args.detector_threshold,
        jobs=args.jobs,
        # The vault (docs/triage.md, "Vault interface") adds its ItemSource here.
    )
    prepared = prepare(request)

    def failed(failure: Failure) -> None:
        error = failure.error
        reason = error.message(ctx._)
        ctx.say(_("skipped: {reason}").format(reason=reason))

    def finished(result: VideoResult) -> None:
        for note in result.notes:
            text = note.message(ctx._)
            ctx.say(_("{path}: warning: {note}").format(path=result.path, note=text))

    bar = ProgressLine(ctx.stderr, _("triage"), prepared.total_bytes)
    try:
        outcome = run(
            prepared, RunEvents(progress=bar, finished=finished, failed=failed), ctx.translations
        )
    finally:
        bar.close()
    page = ReportPage(ctx.translations)
    summary = ctx.translations.ngettext(
        "{count} segment: review {review} of {footage} first.",
        "{count} segments: review {review} of {footage} first.",
        outcome.segments,
    )
    ctx.say(
        summary.format(
            count=outcome.segments,
            review=page.duration(outcome.review_seconds),
            footage=page.duration(outcome.footage_seconds),
        )
    )
    print(outcome.index, file=ctx.stdout, flush=True)
    return outcome.exit_code
