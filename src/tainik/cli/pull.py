"""``tainik pull``: fetch new sealed files from the newsroom API, resumably (no key needed)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from tainik.cli.context import Context
from tainik.cli.progress import ProgressLine
from tainik.cli.route import Waits, say_route
from tainik.cli.vault_options import actor
from tainik.core.errors import N_, UsageError
from tainik.crypto import Secret
from tainik.workstation.pull import config
from tainik.workstation.pull.client import (
    ApiClient,
    PullSettings,
    check_proxy,
    check_server,
    request_token,
)
from tainik.workstation.pull.events import Downloaded, Entry, Progress, PullObserver, Start
from tainik.workstation.pull.sync import Puller

MAX_TOKEN_FILE = 4096
MAX_LINE = 4096
# What a token's scope means, for people (as the newsroom says it).
SCOPES = {
    "read": N_("Read only: list and download"),
    "full": N_("Full: also reply and delete"),
}


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
    """Pull new sealed files (and import them, with ``--into-vault``)."""
    if args.out is None:
        raise UsageError(N_("Give the pulled folder with --out DIR"))
    if args.identity is not None and args.into_vault is None:
        raise UsageError(N_("--identity goes with --into-vault"))
    saved = None
    if args.server is None or args.token_file is None:
        saved = config.load(args.config or config.default_path())
        if saved is None:
            raise UsageError(
                N_(
                    "No server or token: run 'tainik pull login --server URL --user NAME' "
                    "first, or give --server and --token-file"
                )
            )
    server = args.server or (saved.server if saved else "")
    token = read_token(args.token_file) if args.token_file else None
    if token is None and saved is not None:
        if check_server(saved.server) != check_server(server):
            raise UsageError(
                N_("The saved token is for {saved}, not {server}: give --token-file"),
                saved=saved.server,
                server=server,
            )
        token = saved.token
    assert token is not None
    proxy = args.proxy or (saved.proxy if saved and not args.server else None)
    server = check_server(server)
    used = check_proxy(proxy, server)
    say_route(ctx, server, proxy, used)
    settings = PullSettings(server=server, token=token, proxy=used, on_wait=Waits(ctx))
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
                id=entry.sealed_id, reason=error.message(ctx._)
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
    code = report.failed[0][1].exit_code if report.failed else 0
    if args.into_vault is not None:
        # The vault (SQLAlchemy, BLAKE3) loads only where it is asked for: usually pull runs
        # online, without the key, and the vault lives offline.
        from tainik.cli.vault import import_into  # noqa: PLC0415

        imported = import_into(args.into_vault, [args.out], args.identity, None, actor(args), ctx)
        code = code or imported
    return code


def _ask(args: argparse.Namespace, ctx: Context) -> tuple[Secret, str]:
    """The password and the TOTP code: from the terminal, never echoed, or with
    ``--password-stdin`` from standard input, one per line."""
    if args.password_stdin:
        password = sys.stdin.readline(MAX_LINE).rstrip("\r\n")
        code = sys.stdin.readline(MAX_LINE).strip()
    elif sys.stdin.isatty():
        password = getpass.getpass(ctx._("Password for {user}: ").format(user=args.user))
        code = getpass.getpass(ctx._("Code from the authenticator app: ")).strip()
    else:
        raise UsageError(
            N_(
                "The password and the code are asked in a terminal; in a script, give "
                "--password-stdin and send them on standard input, one per line"
            )
        )
    if not password or not code:
        raise UsageError(N_("The password and the code must not be empty"))
    return Secret(password), code.replace(" ", "")


def run_login(args: argparse.Namespace, ctx: Context) -> int:
    """Get a token and save it in the pull configuration."""
    server = check_server(args.server)
    proxy = check_proxy(args.proxy, server)
    path = args.config or config.default_path()
    password, code = _ask(args, ctx)
    say_route(ctx, server, args.proxy, proxy)
    issued = request_token(server, proxy, args.user, password, code, args.scope)
    config.save(
        path,
        config.PullConfig(
            server=server,
            token=issued.token,
            user=args.user,
            scope=issued.scope,
            expires_at=issued.expires_at,
            proxy=proxy,
        ),
    )
    ctx.say(
        ctx._(
            "Logged in to {server} as {user}. The token ({scope}) is saved in {path} and "
            "lasts until {expires} (UTC)."
        ).format(
            server=server,
            user=args.user,
            scope=ctx._(SCOPES[issued.scope]),
            path=path,
            expires=issued.expires_at,
        )
    )
    return 0
