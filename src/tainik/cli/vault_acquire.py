"""``tainik vault acquire``: a drive's files, or its image, into the vault (docs/workstation.md,
"Acquiring a drive")."""

from __future__ import annotations

import argparse

from tainik.cli.context import Context
from tainik.cli.progress import ProgressLine
from tainik.cli.vault import say_head, unlock
from tainik.cli.vault_options import actor, printable
from tainik.core.errors import N_, ExitCode, TainikError, UsageError
from tainik.i18n import format_size
from tainik.workstation.vault.acquire import AcquireObserver, Acquirer
from tainik.workstation.vault.canonical import JsonObject
from tainik.workstation.vault.vault import Vault

MAX_TEXT = 2000


class _AcquireLines(AcquireObserver):
    """A progress line with a time estimate; each problem on a line of its own."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._bar: ProgressLine | None = None
        self.problems = 0

    def begin(self, files: int, total: int, already: int) -> None:
        ctx = self._ctx
        label = ctx._("{count} files").format(count=files)
        if already:
            ctx.say(
                ctx._("{size} already stored by an interrupted run: not read again").format(
                    size=format_size(already, ctx.locale)
                )
            )
        self._bar = ProgressLine(
            ctx.stderr, label, total, already=already, locale=ctx.locale, gettext=ctx._
        )

    def progress(self, count: int) -> None:
        if self._bar is not None and count:
            self._bar(count)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def warning(self, warning: TainikError) -> None:
        self.finish_line()
        ctx = self._ctx
        ctx.say(ctx._("warning: {message}").format(message=warning.message(ctx._)))

    def problem(self, entry: JsonObject) -> None:
        self.finish_line()
        self.problems += 1
        ctx = self._ctx
        path = printable(str(entry.get("path", "")))
        error = printable(str(entry.get("error", "")))
        template = (
            ctx._("{path}: changed while it was read, not stored: {error}")
            if entry.get("status") == "changed"
            else ctx._("{path}: unreadable, listed in the manifest: {error}")
        )
        ctx.say(template.format(path=path, error=error))

    def finish_line(self) -> None:
        """End a progress line drawn in place before printing a line under it."""
        if self._bar is not None and self._ctx.stderr.isatty():
            self._ctx.stderr.write("\n")


def run_acquire(args: argparse.Namespace, ctx: Context) -> int:
    """Acquire a medium."""

    from_text = args.from_text.strip()
    if not from_text or len(from_text) > MAX_TEXT or len(args.note) > MAX_TEXT:
        raise UsageError(
            N_(
                "--from must say who handed the medium over; --from and --note are at most "
                "{n} characters"
            ),
            n=MAX_TEXT,
        )
    who = actor(args)
    with Vault.open(args.vault) as vault:
        key = unlock(vault, ctx)
        lines = _AcquireLines(ctx)
        with vault.writer(key, who) as writer:
            try:
                result = Acquirer(writer, lines).run(args.path, from_text, args.note.strip())
            finally:
                lines.finish()
        say_head(vault, ctx)
    counts = result.counts
    if result.already:
        ctx.say(
            ctx._(
                "This acquisition was already complete (custody record {seq}); nothing to do"
            ).format(seq=result.seq)
        )
    print(
        ctx._(
            "Acquired {stored} of {files} files ({size}) into the thread {source}; "
            "{unreadable} unreadable, {changed} changed while read; manifest {manifest}; "
            "custody record {seq}"
        ).format(
            stored=counts.get("stored", 0),
            files=counts.get("files", 0),
            size=format_size(int(str(counts.get("bytes", 0))), ctx.locale),
            source=result.source_key[:28],
            unreadable=counts.get("unreadable", 0),
            changed=counts.get("changed", 0),
            manifest=result.manifest.sha256,
            seq=result.seq,
        ),
        file=ctx.stdout,
        flush=True,
    )
    problems = int(str(counts.get("unreadable", 0))) + int(str(counts.get("changed", 0)))
    return ExitCode.IO if problems else ExitCode.OK
