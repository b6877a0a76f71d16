"""``tainik redact``: hide the faces in a video, with a QA report (docs/redaction.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tainik.cli.context import Context
from tainik.cli.declare import values_of
from tainik.cli.progress import ProgressLine
from tainik.cli.vault import say_head, unlock
from tainik.cli.vault_options import actor
from tainik.core.errors import N_, UsageError
from tainik.workstation.publish.vaultlink import store_redacted
from tainik.workstation.redact.detector import FaceDetector
from tainik.workstation.redact.options import RedactOptions
from tainik.workstation.redact.pipeline import redact, write_record, write_text
from tainik.workstation.redact.records import RedactionRecord
from tainik.workstation.redact.regions import parse_region
from tainik.workstation.vault.vault import Vault

RECORD_SUFFIX = ".redaction.json"
REPORT_SUFFIX = ".qa.html"


def _check_new(path: Path) -> None:
    if path.exists():
        raise UsageError(
            N_("{path}: already exists; Tainik does not replace files"), path=str(path)
        )


def _store_in_vault(
    args: argparse.Namespace, ctx: Context, record: RedactionRecord, out: Path
) -> None:
    with Vault.open(args.vault) as vault:
        key = unlock(vault, ctx)
        with vault.writer(key, actor(args)) as writer:
            ref = store_redacted(writer, record.original.sha256, out, record.to_json())
        say_head(vault, ctx)
    ctx.say(ctx._("stored in the vault as {sha}").format(sha=ref.sha256[:16]))


def run_redact(args: argparse.Namespace, ctx: Context) -> int:
    """Redact one video; print the output path."""
    if not args.video.is_file():
        raise UsageError(N_("{path}: not a regular file"), path=str(args.video))
    options = RedactOptions(
        **values_of(RedactOptions, args),
        regions=tuple(parse_region(text) for text in args.region),
    )
    options.check()
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
