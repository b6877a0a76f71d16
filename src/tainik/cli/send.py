"""``tainik send``: the command-line uploader for sources (docs/protocol.md).

What to send is checked, the codename found and the run judged by
:mod:`tainik.sender.command`; this module shows progress and says what happened.
"""

from __future__ import annotations

import argparse

from tainik.cli.context import Context
from tainik.cli.declare import values_of
from tainik.cli.progress import ProgressLine
from tainik.cli.route import Waits, say_route
from tainik.i18n import format_size
from tainik.sender import command
from tainik.sender.command import MESSAGE, PreparedSend, SendOutcome
from tainik.sender.request import SendRequest
from tainik.sender.send import Report

# Without a terminal (a log, a pipe), a progress line this often, not a redraw per slice.
QUIET_PROGRESS_SECONDS = 30.0


def run_send(args: argparse.Namespace, ctx: Context) -> int:
    """Send files and a message; prints what was sent."""
    waits = Waits(ctx)
    prepared = command.prepare(
        SendRequest(
            server=args.server,
            files=args.files,
            codename_file=args.codename_file,
            new_codename_out=args.new_codename_out,
            message=args.message,
            message_file=args.message_file,
            proxy=args.proxy,
            state=args.state,
            forget=args.forget,
            **values_of(SendRequest, args),
        ),
        on_wait=waits,
    )
    say_route(ctx, prepared.settings.server, args.proxy, prepared.settings.proxy)
    codename = command.codename(prepared)
    if prepared.new_codename:
        ctx.say(
            ctx._("Your codename is in {path}. Keep it safe: it is the only way back.").format(
                path=prepared.codename_file
            )
        )
    bars = _Bars(ctx)
    sender = prepared.sender(on_file=bars.start)
    try:
        report = sender.run(codename, prepared.files, prepared.message)
    except KeyboardInterrupt:
        bars.close()
        _say_stopped(ctx, prepared, sender.report)
        _say_left(ctx, prepared)
        raise
    finally:
        bars.close()
    outcome = command.finish(prepared, report)
    _say_outcome(ctx, prepared, outcome)
    _say_left(ctx, prepared)
    return outcome.exit_code


class _Bars:
    """One progress line per item, the previous one closed as the next starts."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._bar: ProgressLine | None = None

    def start(self, label: str, total: int, already: int) -> ProgressLine:
        self.close()
        ctx = self._ctx
        self._bar = ProgressLine(
            ctx.stderr,
            _label(ctx, label),
            total,
            already=already,
            locale=ctx.locale,
            gettext=ctx._,
            interval=QUIET_PROGRESS_SECONDS,
        )
        return self._bar

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _label(ctx: Context, item: str) -> str:
    return ctx._("message") if item == MESSAGE else item


def _say_outcome(ctx: Context, prepared: PreparedSend, outcome: SendOutcome) -> None:
    """What was sent, what was not, and what became of the resume state."""
    report = outcome.report
    for item in report.completed:
        print(item, file=ctx.stdout)
    for item, error in report.failed:
        ctx.say(ctx._("{path}: not sent: {reason}").format(path=item, reason=error.message(ctx._)))
    ctx.say(
        ctx._(
            "Done. Segments sent now: {sent} ({bytes} bytes); already on the server: "
            "{skipped}; items sent by an earlier run: {done}."
        ).format(
            sent=report.sent_segments,
            bytes=report.sent_bytes,
            skipped=report.skipped_segments,
            done=len(report.already_done),
        )
    )
    if report.failed:
        ctx.say(
            ctx._(
                "Not sent: {count} file(s), named above; run the same command again to send them."
            ).format(count=len(report.failed))
        )
    elif outcome.forgotten:
        ctx.say(ctx._("Everything is delivered. The resume state was deleted."))
    elif outcome.delivered:
        ctx.say(
            ctx._(
                "Everything is delivered. The resume state is no longer needed: delete "
                "{path}, or run the same command again with --forget."
            ).format(path=prepared.state_path)
        )
    if prepared.forget and prepared.state_path.exists():
        ctx.say(
            ctx._("The resume state is kept: {count} item(s) are not delivered yet.").format(
                count=outcome.undelivered or len(report.failed)
            )
        )


def _say_stopped(ctx: Context, prepared: PreparedSend, report: Report) -> None:
    """After Ctrl-C: what the server holds, and what the next run will send."""
    ctx.say(ctx._("Stopped. Nothing the server received is lost, and the resume state is saved."))
    if report.current:
        ctx.say(
            ctx._("{item}: {held} of {size} is on the server.").format(
                item=_label(ctx, report.current),
                held=format_size(report.current_held, ctx.locale),
                size=format_size(report.current_size, ctx.locale),
            )
        )
    left = [_label(ctx, item) for item in command.still_to_send(prepared, report)]
    if left:
        ctx.say(
            ctx._(
                "Run the same command again to resume; only what the server lacks is sent. "
                "Still to send: {items}."
            ).format(items=", ".join(left))
        )


def _say_left(ctx: Context, prepared: PreparedSend) -> None:
    """What this command leaves on the source's disk, which a search of it would find."""
    ctx.say(ctx._("Left on this computer by tainik send:"))
    ctx.say(
        ctx._(
            "  {path}: your codename. You need it to read replies; anyone who finds it can "
            "read them too and can tell that you used this drop box. Keep it hidden, or "
            "destroy it when you no longer need it."
        ).format(path=prepared.codename_file)
    )
    if prepared.state_path.exists():
        ctx.say(
            ctx._(
                "  {path}: the resume state (upload ids and keyed fingerprints; no names, "
                "sizes, times or hashes of what you sent, but it shows that you sent something)."
            ).format(path=prepared.state_path)
        )
    ctx.say(
        ctx._(
            "  The files you sent are where they were: tainik made no copy, plain or "
            "encrypted. Your shell's history may hold this command line."
        )
    )
