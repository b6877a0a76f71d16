"""``tainik triage``: find the minutes of video that matter, and report them gently.

The analysis and segment options set the fields of
:class:`~tainik.workstation.triage.params.AnalysisParams` and
:class:`~tainik.workstation.triage.params.SegmentRules`, whose defaults they show.
"""

from __future__ import annotations

from pathlib import Path

from tainik.cli.declare import Command, arg, field_arg, group
from tainik.core.errors import N_
from tainik.workstation.triage.params import (
    SUBTRACTORS,
    AnalysisParams,
    DetectorSpec,
    SegmentRules,
)

A, R = AnalysisParams, SegmentRules

TRIAGE = Command(
    "triage",
    help=N_("find the stretches of video with activity and sound"),
    description=N_(
        "Decode each VIDEO at reduced size and frame rate, measure motion (background\n"
        "subtraction) and sound (loudness above the background level), and write to DIR:\n"
        "index.html (a ranked list across all videos and a timeline per video, pictures\n"
        "greyscale and blurred until clicked), report.json, videos/SHA256.json per video,\n"
        "a thumbnail and a clip (cut without re-encoding) per segment. A folder stands\n"
        "for the video files inside it. Files that cannot be analysed are reported and\n"
        "skipped. A re-run with the same DIR reuses the measurements already made.\n"
        "See docs/triage.md."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik triage footage/ --out triage-report/\n"
        "  tainik triage cam1.mp4 cam2.mp4 --out report/ --jobs 4 --plain-thumbnails\n"
        "  tainik triage footage/ --out report/ --detector person.onnx\n"
        "  tainik triage --vault vault/ --out trove-report/"
    ),
    args=(
        arg("inputs", nargs="*", metavar="VIDEO",
            help=N_("video files, or folders of video files")),
        arg("--vault", type=Path, metavar="VAULT",
            help=N_("also triage every video item of this vault (near-duplicates collapsed)")),
        arg(
            "--out",
            required=True,
            type=Path,
            metavar="DIR",
            help=N_("report folder (created if missing)"),
        ),
        arg(
            "--jobs",
            type=int,
            default=None,
            metavar="N",
            help=N_("videos analysed at once (default: one per core)"),
        ),
        group(
            N_("report"),
            arg(
                "--plain-thumbnails",
                action="store_true",
                help=N_("show pictures plainly instead of greyscale and blurred"),
            ),
            arg("--no-clips", action="store_true", help=N_("do not cut clips")),
            arg("--no-overlay", action="store_true",
                help=N_("do not read the burned-in camera name and clock (Tesseract)")),
        ),
        group(
            N_("analysis (changing these re-decodes the videos)"),
            field_arg(A, "fps", "--fps", metavar="RATE",
                      help=N_("frames analysed per second (default: %(default)s)")),
            field_arg(A, "width", "--width", metavar="PIXELS",
                      help=N_("width of the analysed pictures (default: %(default)s)")),
            field_arg(A, "subtractor", "--subtractor", choices=SUBTRACTORS,
                      help=N_("background subtraction method (default: %(default)s)")),
            field_arg(A, "history_s", "--history", metavar="SECONDS",
                      help=N_("how long the background model remembers (default: %(default)s)")),
            field_arg(A, "sensitivity", "--sensitivity", metavar="VALUE",
                      help=N_("background subtraction threshold; lower is more sensitive "
                              "(default: %(default)s)")),
            field_arg(A, "light_jump", "--light-jump", metavar="LEVELS",
                      help=N_("a change of the median grey level beyond this between analysed "
                              "frames is a light change, not motion (default: %(default)s)")),
            arg("--decode-all", action="store_true",
                help=N_("decode every frame, even those no other frame refers to")),
            arg("--detector", action="append", default=[], type=Path, metavar="MODEL",
                help=N_("an ONNX detector model adding its own signal (see docs/triage.md); "
                        "repeat for several")),
            field_arg(A, "detector_rate", "--detector-rate", metavar="RATE",
                      help=N_("frames per second shown to detectors (default: %(default)s)")),
        ),
        group(
            N_("segments (cheap to change on a re-run)"),
            field_arg(DetectorSpec, "threshold", "--detector-threshold", metavar="SCORE",
                      help=N_("detector score that counts as a detection (default: %(default)s)")),
            field_arg(R, "motion_threshold", "--motion-threshold", metavar="FRACTION",
                      help=N_("moving fraction of the picture that counts (default: %(default)s)")),
            field_arg(R, "sound_threshold", "--sound-threshold", metavar="LU",
                      help=N_("loudness above the background that counts (default: %(default)s)")),
            field_arg(R, "sound_floor", "--sound-floor", metavar="LUFS",
                      help=N_("quieter sound never counts (default: %(default)s)")),
            field_arg(R, "background_s", "--sound-background", metavar="SECONDS",
                      help=N_("window for the background sound level (default: %(default)s)")),
            field_arg(R, "leave_ratio", "--leave-ratio", metavar="RATIO",
                      help=N_("a segment lasts while the evidence stays above this share of its "
                              "threshold (default: %(default)s)")),
            field_arg(R, "min_length", "--min-length", metavar="SECONDS",
                      help=N_("shorter stretches are ignored (default: %(default)s)")),
            field_arg(R, "merge_gap", "--merge-gap", metavar="SECONDS",
                      help=N_("stretches closer than this become one segment (default: "
                              "%(default)s)")),
            field_arg(R, "padding", "--padding", metavar="SECONDS",
                      help=N_("context added before and after each segment for review (default: "
                              "%(default)s)")),
        ),
    ),
)  # fmt: skip
