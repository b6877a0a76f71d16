"""``tainik triage``: find the minutes of video that matter, and report them gently."""

from __future__ import annotations

import argparse

from tainik.cli.context import Context
from tainik.cli.declare import values_of
from tainik.cli.progress import ProgressLine
from tainik.core.errors import N_, UsageError
from tainik.workstation.triage.command import TriageRequest, prepare, run
from tainik.workstation.triage.params import (
    AnalysisParams,
    DetectorSpec,
    SegmentRules,
    TriageParams,
)
from tainik.workstation.triage.report_html import ReportPage
from tainik.workstation.triage.results import Failure, VideoResult
from tainik.workstation.triage.runner import RunEvents


def run_triage(args: argparse.Namespace, ctx: Context) -> int:
    """Triage every input; report failures and go on; exit with the first failure's code."""
    _ = ctx._
    if not args.inputs and args.vault is None:
        raise UsageError(N_("Give video files or folders to triage, or --vault VAULT"))
    request = TriageRequest(
        inputs=args.inputs,
        report_dir=args.out,
        params=TriageParams(
            analysis=AnalysisParams(
                **values_of(AnalysisParams, args), skip_nonref=not args.decode_all
            ),
            rules=SegmentRules(**values_of(SegmentRules, args)),
            clips=not args.no_clips,
            gentle=not args.plain_thumbnails,
            overlay=not args.no_overlay,
        ),
        detector_models=args.detector,
        detector_threshold=values_of(DetectorSpec, args)["threshold"],
        jobs=args.jobs,
        vault=args.vault,
        # The vault (docs/triage.md, "Vault interface") adds its ItemSource here.
    )
    prepared = prepare(request)
    if prepared.collapsed:
        ctx.say(
            ctx.translations.ngettext(
                "{count} near-duplicate in the vault is listed under its original, not analysed.",
                "{count} near-duplicates in the vault are listed under their originals, "
                "not analysed.",
                prepared.collapsed,
            ).format(count=prepared.collapsed)
        )

    def failed(failure: Failure) -> None:
        error = failure.error
        reason = error.message(ctx._)
        ctx.say(_("skipped: {reason}").format(reason=reason))

    # Videos measured by an earlier run start the bar where it was and stay out of the rate
    # (and so of the time left); their bytes, counted again as they pass, are taken back.
    measured = prepared.already_measured()

    def finished(result: VideoResult) -> None:
        if result.cached and result.sha256 in measured:
            bar(-measured.pop(result.sha256))
        for note in result.notes:
            text = note.message(ctx._)
            ctx.say(_("{path}: warning: {note}").format(path=result.path, note=text))

    bar = ProgressLine(
        ctx.stderr, _("triage"), prepared.total_bytes, already=sum(measured.values())
    )
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
