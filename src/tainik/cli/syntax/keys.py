"""``tainik keys``: make and inspect the organisation's identity files."""

from __future__ import annotations

from pathlib import Path

from tainik.cli.declare import Command, arg
from tainik.core.errors import N_

KEYS = Command(
    "keys",
    help=N_("make and inspect identity files (private keys)"),
    description=N_("Make and inspect age identity files (the organisation's private keys)."),
    epilog=N_("examples:\n  tainik keys new --out org.key > org.pub\n  tainik keys show org.key"),
    subcommands=(
        Command(
            "new",
            help=N_("make a new identity file and print its recipient"),
            description=N_(
                "Make a new X25519 identity, write it to PATH (mode 0600, never overwriting) and\n"
                "print its recipient (age1...) on standard output. The file is protected with a\n"
                "passphrase unless --no-passphrase is given; the passphrase is read from the file\n"
                "named by TAINIK_PASSPHRASE_FILE, or asked for twice at the terminal. The file is\n"
                "a standard age identity: 'age -d -i PATH' reads it too."
            ),
            epilog=N_(
                "examples:\n"
                "  tainik keys new --out org.key > org.pub\n"
                "  tainik keys new --out test.key --no-passphrase"
            ),
            args=(
                arg(
                    "--out",
                    required=True,
                    type=Path,
                    metavar="PATH",
                    help=N_("where to write the identity file"),
                ),
                arg(
                    "--no-passphrase",
                    action="store_true",
                    help=N_("write the key unprotected (only for tests and disposable keys)"),
                ),
            ),
        ),
        Command(
            "show",
            help=N_("print the recipient of an identity file"),
            description=N_(
                "Print the recipient (public key) of each identity in PATH, or with --fingerprint\n"
                "its fingerprint: the first 24 hex digits of SHA-256 over the recipient's text,\n"
                "in groups of four."
            ),
            epilog=N_(
                "examples:\n  tainik keys show org.key\n  tainik keys show --fingerprint org.key"
            ),
            args=(
                arg("path", type=Path, metavar="PATH", help=N_("an identity file")),
                arg(
                    "--fingerprint",
                    action="store_true",
                    help=N_(
                        "print each recipient's fingerprint instead (the newsroom asks for it when "
                        "the key is added to the server)"
                    ),
                ),
            ),
        ),
    ),
)
