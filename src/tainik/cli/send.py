"""``tainik send``: the command-line uploader for sources (docs/protocol.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tainik.cli.context import Context
from tainik.cli.progress import ProgressLine, format_size
from tainik.core.codename import normalize
from tainik.core.errors import N_, UsageError
from tainik.core.upload import MAX_MESSAGE_CHARS
from tainik.crypto import Secret

if TYPE_CHECKING:
    from tainik.sender.send import Report


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], ctx: Context) -> None:
    """Add ``send``."""
    _ = ctx._
    send = commands.add_parser(
        "send",
        help=_("encrypt files here and upload them, resumably (for sources)"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Seal each FILE on this computer (the server never sees its content or name) and\n"
            "upload it segment by segment. If the connection drops, it retries with backoff;\n"
            "if it stops, run the same command again: only what the server lacks is sent.\n"
            "\n"
            "Resume state (which upload each file became and whether it was delivered: upload\n"
            "ids and keyed fingerprints, no names, sizes, times or hashes of what you send) is\n"
            "kept in the --state file, by default beside the codename file as\n"
            "CODENAME_FILE.state.json. A state file belongs to one codename. Once everything\n"
            "is delivered it is no longer needed: --forget deletes it then.\n"
            "\n"
            "Ctrl-C stops at once; the same command resumes later."
        ),
        epilog=_(
            "examples:\n"
            "  tainik send --server http://abc...xyz.onion --proxy socks5h://127.0.0.1:9050 \\\n"
            "      --new-codename-out ~/codename.txt --message-file note.txt *.mp4\n"
            "  tainik send --server http://abc...xyz.onion --proxy socks5h://127.0.0.1:9050 \\\n"
            "      --codename-file ~/codename.txt *.mp4     # later, or to resume"
        ),
    )
    send.add_argument("files", nargs="*", type=Path, metavar="FILE", help=_("files to send"))
    send.add_argument(
        "--server",
        required=True,
        metavar="URL",
        help=_("the organisation's source address (an .onion URL)"),
    )
    send.add_argument(
        "--proxy",
        metavar="URL",
        help=_(
            "a SOCKS5 proxy, e.g. socks5h://127.0.0.1:9050 for Tor (socks5h "
            "resolves names through the proxy)"
        ),
    )
    who = send.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--codename-file", type=Path, metavar="F", help=_("a file holding your codename")
    )
    who.add_argument(
        "--new-codename-out",
        type=Path,
        metavar="F",
        help=_("get a new codename and write it to F (never overwritten)"),
    )
    said = send.add_mutually_exclusive_group()
    said.add_argument(
        "--message",
        metavar="TEXT",
        help=_(
            "a message to send along (visible to other users in the process list and kept "
            "in your shell's history: prefer --message-file)"
        ),
    )
    said.add_argument(
        "--message-file",
        type=Path,
        metavar="F",
        help=_("send the text of file F (UTF-8) as the message; - reads standard input"),
    )
    send.add_argument(
        "--state",
        type=Path,
        metavar="PATH",
        help=_("resume state file (default: beside the codename file)"),
    )
    send.add_argument(
        "--jobs",
        type=int,
        default=4,
        metavar="N",
        help=_("segments in flight at once (default: %(default)s)"),
    )
    send.add_argument(
        "--give-up-after",
        type=float,
        default=1800,
        metavar="SECONDS",
        help=_("stop retrying after this long without reaching the server (default: %(default)s)"),
    )
    send.add_argument(
        "--forget",
        action="store_true",
        help=_("delete the resume state when everything is delivered"),
    )
    send.set_defaults(run=run_send)


# Without a terminal (a log, a pipe), a progress line this often, not a redraw per slice.
QUIET_PROGRESS_SECONDS = 30.0


def run_send(args: argparse.Namespace, ctx: Context) -> int:
    """Send files and a message; prints what was sent."""
    # httpx and the sender load only for this command (see tests/cli/test_cli_startup.py).
    from tainik.sender.client import ClientSettings  # noqa: PLC0415
    from tainik.sender.send import Sender, new_source  # noqa: PLC0415
    from tainik.sender.state import SendState  # noqa: PLC0415
    from tainik.transport import check_proxy, check_server  # noqa: PLC0415

    message = args.message if args.message_file is None else _read_message(args.message_file)
    if not args.files and not message:
        raise UsageError(N_("Nothing to send: name files, or give --message"))
    if message and len(message) > MAX_MESSAGE_CHARS:
        raise UsageError(
            N_("The message is longer than {limit} characters: send long texts as files"),
            limit=MAX_MESSAGE_CHARS,
        )
    for path in args.files:
        if not path.is_file():
            raise UsageError(N_("{path}: not a regular file"), path=str(path))
    if args.jobs < 1:
        raise UsageError(N_("--jobs must be at least 1"))
    server = check_server(args.server)
    settings = ClientSettings(
        server=server, proxy=check_proxy(args.proxy, server), give_up_after=args.give_up_after
    )
    codename_file = args.new_codename_out or args.codename_file
    state_path = args.state or codename_file.with_name(codename_file.name + ".state.json")
    state = SendState.load(state_path)
    if args.new_codename_out:
        if not state.is_empty():
            # Checked before the server is asked for a codename: nothing to undo.
            raise UsageError(
                N_(
                    "{path} already holds resume state, which cannot be a new codename's; "
                    "give --state another path, or use --codename-file with the codename "
                    "it belongs to"
                ),
                path=str(state_path),
            )
        codename = new_source(settings, codename_file)
        # Until its first upload is accepted the server knows nothing of this codename: a
        # later run must say so when it logs in (and not take it for a typo).
        state.claim(codename)
        state.unconfirmed = True
        state.save()
        ctx.say(
            ctx._("Your codename is in {path}. Keep it safe: it is the only way back.").format(
                path=codename_file
            )
        )
    else:
        try:
            codename = Secret(normalize(codename_file.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                N_("{path}: cannot read the codename file"), path=str(codename_file)
            ) from exc
    state.claim(codename)
    bars: list[ProgressLine] = []

    def on_file(label: str, total: int, already: int) -> ProgressLine:
        if bars:
            bars[-1].close()
        if label == "message":
            label = ctx._("message")
        bars.append(
            ProgressLine(
                ctx.stderr,
                label,
                total,
                already=already,
                locale=ctx.locale,
                gettext=ctx._,
                interval=QUIET_PROGRESS_SECONDS,
            )
        )
        return bars[-1]

    sender = Sender(settings, state, jobs=args.jobs, on_file=on_file)
    try:
        report = sender.run(codename, args.files, message)
    except KeyboardInterrupt:
        if bars:
            bars[-1].close()
        _say_stopped(ctx, sender.report, args.files, message)
        _say_left(ctx, codename_file, state_path)
        raise
    finally:
        if bars:
            bars[-1].close()
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
    elif state.undelivered() == 0:
        if args.forget:
            state.forget()
            ctx.say(ctx._("Everything is delivered. The resume state was deleted."))
        else:
            ctx.say(
                ctx._(
                    "Everything is delivered. The resume state is no longer needed: delete "
                    "{path}, or run the same command again with --forget."
                ).format(path=state_path)
            )
    if args.forget and state_path.exists():
        ctx.say(
            ctx._("The resume state is kept: {count} item(s) are not delivered yet.").format(
                count=state.undelivered() or len(report.failed)
            )
        )
    _say_left(ctx, codename_file, state_path)
    return report.failed[0][1].exit_code if report.failed else 0


def _say_stopped(ctx: Context, report: Report, files: list[Path], message: str | None) -> None:
    """After Ctrl-C: what the server holds, and what the next run will send."""
    ctx.say(ctx._("Stopped. Nothing the server received is lost, and the resume state is saved."))
    if report.current:
        label = ctx._("message") if report.current == "message" else report.current
        ctx.say(
            ctx._("{item}: {held} of {size} is on the server.").format(
                item=label,
                held=format_size(report.current_held, ctx.locale),
                size=format_size(report.current_size, ctx.locale),
            )
        )
    finished = {*report.completed, *report.already_done}
    left = [str(p) for p in files if str(p) not in finished and p.name != report.current]
    if message and "message" not in finished:
        left.insert(0, ctx._("message"))
    if report.current and report.current != "message":
        left.insert(0, report.current)
    if left:
        ctx.say(
            ctx._(
                "Run the same command again to resume; only what the server lacks is sent. "
                "Still to send: {items}."
            ).format(items=", ".join(left))
        )


def _say_left(ctx: Context, codename_file: Path, state_path: Path) -> None:
    """What this command leaves on the source's disk, which a search of it would find."""
    ctx.say(ctx._("Left on this computer by tainik send:"))
    ctx.say(
        ctx._(
            "  {path}: your codename. You need it to read replies; anyone who finds it can "
            "read them too and can tell that you used this drop box. Keep it hidden, or "
            "destroy it when you no longer need it."
        ).format(path=codename_file)
    )
    if state_path.exists():
        ctx.say(
            ctx._(
                "  {path}: the resume state (upload ids and keyed fingerprints; no names, "
                "sizes, times or hashes of what you sent, but it shows that you sent something)."
            ).format(path=state_path)
        )
    ctx.say(
        ctx._(
            "  The files you sent are where they were: tainik made no copy, plain or "
            "encrypted. Your shell's history may hold this command line."
        )
    )


def _read_message(path: Path) -> str:
    """The message in ``path`` (``-``: standard input), as UTF-8 text."""
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
        return raw.decode("utf-8")
    except OSError as exc:
        raise UsageError(
            N_("{path}: cannot read the message ({reason})"),
            path=str(path),
            reason=exc.strerror or str(exc),
        ) from exc
    except UnicodeDecodeError as exc:
        raise UsageError(N_("{path}: the message is not UTF-8 text"), path=str(path)) from exc
