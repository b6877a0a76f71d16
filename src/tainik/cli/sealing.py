"""``tainik seal`` and ``tainik open``: make and verify sealed files (docs/format.md)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tainik.cli.context import Context
from tainik.cli.keys import load_identities
from tainik.cli.progress import ProgressLine
from tainik.core.errors import N_, TainikError, UsageError
from tainik.core.manifest import Manifest
from tainik.core.segments import DEFAULT_SEGMENT_SIZE
from tainik.crypto import Recipient

if TYPE_CHECKING:
    from tainik.sealed.reader import SealedOpener


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], ctx: Context) -> None:
    """Add ``seal`` and ``open``."""
    _ = ctx._
    seal = commands.add_parser(
        "seal",
        help=_("encrypt files into sealed files"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Seal each FILE to the recipients: write DIR/ID.sealed/ (an encrypted manifest and\n"
            "segments, see docs/format.md) and print its path, one a line. The original name\n"
            "is kept only inside the encrypted manifest."
        ),
        epilog=_(
            "examples:\n"
            "  tainik seal video.mp4 --to age1... --out outbox/\n"
            "  tainik seal *.mp4 --to age1one... --to age1two... --out outbox/"
        ),
    )
    seal.add_argument("files", nargs="+", type=Path, metavar="FILE", help=_("files to seal"))
    seal.add_argument(
        "--to",
        dest="recipients",
        action="append",
        required=True,
        metavar="RECIPIENT",
        help=_("an age1... recipient; repeat for several"),
    )
    seal.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help=_("directory for the sealed files (created if missing)"),
    )
    seal.add_argument(
        "--segment-size",
        type=int,
        default=DEFAULT_SEGMENT_SIZE,
        metavar="BYTES",
        help=_("segment size, a multiple of 65536 (default: %(default)s)"),
    )
    seal.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help=_("worker threads (default: one per core)"),
    )
    seal.set_defaults(run=run_seal)

    opener = commands.add_parser(
        "open",
        help=_("verify sealed files and write their plaintext"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Verify every segment and both kinds of hash of each SEALED directory, then write\n"
            "the plaintext into DIR under its original name made safe. Nothing appears in DIR\n"
            "unless verification succeeds, and no existing file is ever replaced: a taken name\n"
            "gets ' (2)', ' (3)'... Prints the path of each file written."
        ),
        epilog=_(
            "examples:\n"
            "  tainik open inbox/*.sealed --identity org.key --out plain/\n"
            "  TAINIK_PASSPHRASE_FILE=pass.txt tainik open x.sealed --identity org.key --out ."
        ),
    )
    opener.add_argument(
        "sealed",
        nargs="+",
        type=Path,
        metavar="SEALED",
        help=_("sealed-file directories (ID.sealed), or sealed-file tars as downloaded"),
    )
    opener.add_argument(
        "--identity", "-i", required=True, type=Path, metavar="PATH", help=_("identity file")
    )
    opener.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help=_("directory for the plaintext (created if missing)"),
    )
    opener.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help=_("worker threads (default: one per core)"),
    )
    opener.set_defaults(run=run_open)


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
    from tainik.sealed.files import FileSealer  # noqa: PLC0415 - only for this command

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
    from tainik.sealed import tarball  # noqa: PLC0415 - only for this command
    from tainik.sealed.reader import SealedOpener  # noqa: PLC0415

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
