"""``tainik seal`` and ``tainik open``: make and verify sealed files (docs/format.md)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from tainik.cli.context import Context
from tainik.cli.keys import load_identities
from tainik.cli.progress import ProgressLine
from tainik.core.errors import N_, TainikError, UsageError
from tainik.core.manifest import Manifest
from tainik.crypto import Recipient
from tainik.sealed import tarball
from tainik.sealed.files import FileSealer
from tainik.sealed.reader import SealedOpener


def _out_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            N_("{path}: cannot use as output directory ({reason})"),
            path=str(path),
            reason=exc.strerror or str(exc),
        ) from exc
    if not path.is_dir():
        raise UsageError(N_("{path}: not a directory"), path=str(path))
    return path


def _jobs(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise UsageError(N_("--jobs must be at least 1"))
    return value


def run_seal(args: argparse.Namespace, ctx: Context) -> int:
    """Seal each file; print each sealed path."""
    recipients = [Recipient.parse(text) for text in args.recipients]
    out = _out_dir(args.out)
    with FileSealer(recipients, segment_size=args.segment_size, jobs=_jobs(args.jobs)) as sealer:
        for source in args.files:
            if not source.is_file():
                raise UsageError(N_("{path}: not a regular file"), path=str(source))
            bar = ProgressLine(ctx.stderr, str(source.name), source.stat().st_size)
            try:
                sealed = sealer.seal(source, out, progress=bar)
            finally:
                bar.close()
            print(sealed, file=ctx.stdout, flush=True)
    return 0


def run_open(args: argparse.Namespace, ctx: Context) -> int:
    """Open each sealed file; on failure go on with the others, exit with the first error."""
    identities = load_identities(args.identity, ctx)
    out = _out_dir(args.out)
    opener = SealedOpener(identities, jobs=_jobs(args.jobs))
    first_error: TainikError | None = None
    for argument in args.sealed:
        try:
            # A sealed-file tar (or a selection of them) is unpacked, ciphertext only, into a
            # hidden folder inside the output directory, removed afterwards.
            with tarball.unpacked(argument, out, identities) as containers:
                for item in containers:
                    container = item.container
                    shown = container if container == argument else f"{argument}: {container.name}"
                    if item.error is not None:
                        _not_opened(ctx, shown, item.error)
                        error: TainikError | None = item.error
                    else:
                        error = _open_one(opener, container, out, ctx, shown)
                    first_error = first_error or error
        except TainikError as error:
            _not_opened(ctx, argument, error)
            first_error = first_error or error
    if first_error is not None:
        return first_error.exit_code
    return 0


def _not_opened(ctx: Context, shown: object, error: TainikError) -> None:
    ctx.say(ctx._("{path}: not opened: {reason}").format(path=shown, reason=error.message(ctx._)))


def _open_one(
    opener: SealedOpener, container: Path, out: Path, ctx: Context, shown: object
) -> TainikError | None:
    """Open one container and print where its plaintext went; returns the error, if any."""
    bars: list[ProgressLine] = []
    try:
        try:
            opened = opener.open(container, out, progress=_bar_factory(ctx, container, bars))
        finally:
            for bar in bars:
                bar.close()
    except TainikError as error:
        _not_opened(ctx, shown, error)
        return error
    print(opened.path, file=ctx.stdout, flush=True)
    return None


def _bar_factory(
    ctx: Context, container: Path, bars: list[ProgressLine]
) -> Callable[[Manifest], ProgressLine]:
    def start(manifest: Manifest) -> ProgressLine:
        bars.append(ProgressLine(ctx.stderr, container.name, manifest.size))
        return bars[-1]

    return start
