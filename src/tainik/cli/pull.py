"""``tainik pull``: fetch new sealed files from the newsroom API, resumably (no key needed)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tainik.cli.context import Context
from tainik.cli.progress import ProgressLine
from tainik.core.errors import N_, UsageError
from tainik.crypto import Secret
from tainik.workstation.pull.events import Downloaded, Entry, Progress, PullObserver, Start

MAX_TOKEN_FILE = 4096


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], ctx: Context) -> None:
    """Add ``pull``."""
    _ = ctx._
    pull = commands.add_parser(
        "pull",
        help=_("download new sealed files from the newsroom API"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Download every message, file and reply the newsroom lists that DIR does not hold\n"
            "yet, as sealed-file tars with their metadata (docs/workstation.md, 'The pulled\n"
            "folder'). Interrupted downloads resume with HTTP Range requests; a re-run fetches\n"
            "only what is missing. Needs no private key: carry DIR to the offline workstation\n"
            "and run 'tainik vault import' there. The token file holds an API token (POST\n"
            "/api/v1/tokens, see docs/api.md)."
        ),
        epilog=_(
            "examples:\n"
            "  tainik pull --server http://NEWSROOM.onion --token-file token --out pulled/ \\\n"
            "      --proxy socks5h://127.0.0.1:9050\n"
            "  tainik pull --server http://127.0.0.1:8081 --token-file token --out pulled/"
        ),
    )
    pull.add_argument("--server", required=True, metavar="URL", help=_("the newsroom's address"))
    pull.add_argument(
        "--token-file", required=True, type=Path, metavar="FILE", help=_("a file holding the token")
    )
    pull.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help=_("the pulled folder (created)")
    )
    pull.add_argument(
        "--proxy",
        metavar="URL",
        default=None,
        help=_("a SOCKS5 proxy, e.g. Tor's: socks5h://127.0.0.1:9050"),
    )
    pull.add_argument(
        "--since",
        metavar="TIME",
        default=None,
        help=_("only what changed at or after this RFC 3339 time (default: everything)"),
    )
    pull.set_defaults(run=run_pull)


def read_token(path: Path) -> Secret:
    """The token in ``path``: one line, surrounding whitespace ignored."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TOKEN_FILE + 1)
    except OSError as exc:
        raise UsageError(
            N_("Cannot read the token file {path}: {reason}"),
            path=str(path),
            reason=exc.strerror or type(exc).__name__,
        ) from exc
    text = data.decode("ascii", errors="replace").strip()
    if not text or len(data) > MAX_TOKEN_FILE or any(c.isspace() for c in text):
        raise UsageError(N_("{path} does not hold one API token"), path=str(path))
    return Secret(text)


class _Lines(PullObserver):
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._bar: ProgressLine | None = None

    def download(self, entry: Entry, resumed_from: int) -> Start | None:
        def start(kept: int, total: int) -> Progress:
            if kept:
                self._ctx.say(
                    self._ctx._("{id}: resuming at byte {offset} of {total}").format(
                        id=entry.sealed_id, offset=kept, total=total
                    )
                )
            self._bar = ProgressLine(
                self._ctx.stderr, f"{entry.kind.value} {entry.sealed_id}", total
            )
            self._bar(kept)
            return self._bar

        return start

    def download_done(self, entry: Entry, result: Downloaded | None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def run_pull(args: argparse.Namespace, ctx: Context) -> int:
    """Pull."""
    # httpx loads only for this command, so that building the parser stays light.
    from tainik.workstation.pull.client import (  # noqa: PLC0415
        ApiClient,
        PullSettings,
        check_proxy,
        check_server,
    )
    from tainik.workstation.pull.sync import Puller  # noqa: PLC0415

    settings = PullSettings(
        server=check_server(args.server),
        token=read_token(args.token_file),
        proxy=check_proxy(args.proxy),
    )
    client = ApiClient(settings)
    try:
        report = Puller(client, args.out, _Lines(ctx)).run(since=args.since)
    finally:
        client.close()
    for path in report.fetched:
        print(path, file=ctx.stdout)
    for entry, error in report.failed:
        ctx.say(
            ctx._("{id}: not pulled: {reason}").format(
                id=entry.sealed_id, reason=ctx._(error.template).format(**error.params)
            )
        )
    ctx.say(
        ctx._(
            "{fetched} fetched, {present} already here, {waiting} still uploading, {failed} failed"
        ).format(
            fetched=len(report.fetched),
            present=report.present,
            waiting=report.waiting,
            failed=len(report.failed),
        )
    )
    return report.failed[0][1].exit_code if report.failed else 0
