"""``tainik seal`` and ``tainik open``: make and verify sealed files (docs/format.md)."""

from __future__ import annotations

from pathlib import Path

from tainik.cli.declare import Command, arg
from tainik.core.errors import N_
from tainik.core.segments import DEFAULT_SEGMENT_SIZE

JOBS = arg(
    "--jobs",
    type=int,
    default=None,
    metavar="N",
    help=N_("worker threads (default: one per core)"),
)

SEAL = Command(
    "seal",
    help=N_("encrypt files into sealed files"),
    description=N_(
        "Seal each FILE to the recipients: write DIR/ID.sealed/ (an encrypted manifest and\n"
        "segments, see docs/format.md) and print its path, one a line. The original name\n"
        "is kept only inside the encrypted manifest."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik seal video.mp4 --to age1... --out outbox/\n"
        "  tainik seal *.mp4 --to age1one... --to age1two... --out outbox/"
    ),
    args=(
        arg("files", nargs="+", type=Path, metavar="FILE", help=N_("files to seal")),
        arg(
            "--to",
            dest="recipients",
            action="append",
            required=True,
            metavar="RECIPIENT",
            help=N_("an age1... recipient; repeat for several"),
        ),
        arg(
            "--out",
            required=True,
            type=Path,
            metavar="DIR",
            help=N_("directory for the sealed files (created if missing)"),
        ),
        arg(
            "--segment-size",
            type=int,
            default=DEFAULT_SEGMENT_SIZE,
            metavar="BYTES",
            help=N_("segment size, a multiple of 65536 (default: %(default)s)"),
        ),
        JOBS,
    ),
)

OPEN = Command(
    "open",
    help=N_("verify sealed files and write their plaintext"),
    description=N_(
        "Verify every segment and both kinds of hash of each SEALED directory, then write\n"
        "the plaintext into DIR under its original name made safe. Nothing appears in DIR\n"
        "unless verification succeeds, and no existing file is ever replaced: a taken name\n"
        "gets ' (2)', ' (3)'... Prints the path of each file written."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik open inbox/*.sealed --identity org.key --out plain/\n"
        "  TAINIK_PASSPHRASE_FILE=pass.txt tainik open x.sealed --identity org.key --out ."
    ),
    args=(
        arg(
            "sealed",
            nargs="+",
            type=Path,
            metavar="SEALED",
            help=N_("sealed-file directories (ID.sealed), or sealed-file tars as downloaded"),
        ),
        arg("--identity", "-i", required=True, type=Path, metavar="PATH", help=N_("identity file")),
        arg(
            "--out",
            required=True,
            type=Path,
            metavar="DIR",
            help=N_("directory for the plaintext (created if missing)"),
        ),
        JOBS,
    ),
)
