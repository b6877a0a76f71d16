"""``tainik pull`` and ``tainik pull login``: fetch new sealed files from the newsroom API."""

from __future__ import annotations

from pathlib import Path

from tainik.cli.declare import Command, arg
from tainik.cli.syntax.vault import ACTOR
from tainik.core.errors import N_

CONFIG = arg(
    "--config",
    type=Path,
    metavar="FILE",
    default=None,
    help=N_("the pull configuration file (default: ~/.config/tainik/pull.json)"),
)
PROXY = arg(
    "--proxy",
    metavar="URL",
    default=None,
    help=N_(
        "Tor's SOCKS port, e.g. socks5h://127.0.0.1:9050 (a system tor) or :9150 (Tor "
        "Browser); required for an .onion server. Tor must hold your client-authorization key "
        "for the newsroom (docs/workstation.md, 'Through Tor')"
    ),
)

LOGIN = Command(
    "login",
    help=N_("get a read-only token and save it for 'tainik pull'"),
    description=N_(
        "Ask for the account's password and the code of its authenticator app (in the\n"
        "terminal, never on the command line), get an API token from the newsroom, and\n"
        "save server, token and proxy in the pull configuration file (mode 0600), for\n"
        "'tainik pull' to use. The token may only list and download (scope 'read'): one\n"
        "stolen from this machine cannot delete or reply. It lasts 8 hours."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik pull login --server http://NEWSROOM.onion --user jo \\\n"
        "      --proxy socks5h://127.0.0.1:9050\n"
        '  printf \'%s\\n%s\\n\' "$PASSWORD" "$CODE" | tainik pull login --server URL \\\n'
        "      --user jo --password-stdin"
    ),
    args=(
        arg("--server", required=True, metavar="URL", help=N_("the newsroom's address")),
        arg("--user", required=True, metavar="NAME", help=N_("the staff account")),
        CONFIG,
        PROXY,
        arg(
            "--scope",
            choices=("read", "full"),
            default="read",
            help=N_(
                "what the token may do: 'read' (default) lists and downloads; 'full' may also "
                "reply and delete"
            ),
        ),
        arg(
            "--password-stdin",
            action="store_true",
            help=N_(
                "read the password and the code from standard input, one per line (for scripts)"
            ),
        ),
    ),
)

PULL = Command(
    "pull",
    help=N_("download new sealed files from the newsroom API"),
    description=N_(
        "Download every message, file and reply the newsroom lists that DIR does not hold\n"
        "yet, as sealed-file tars with their metadata (docs/workstation.md, 'The pulled\n"
        "folder'). Interrupted downloads resume with HTTP Range requests; a re-run fetches\n"
        "only what is missing. Needs no private key: carry DIR to the offline workstation\n"
        "and run 'tainik vault import' there. The server and a read-only token come from\n"
        "'tainik pull login' (or --server and --token-file)."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik pull login --server http://NEWSROOM.onion --user jo \\\n"
        "      --proxy socks5h://127.0.0.1:9050\n"
        "  tainik pull --out pulled/\n"
        "  tainik pull --server http://127.0.0.1:8081 --token-file token --out pulled/\n"
        "  tainik pull --out pulled/ --into-vault evidence   # only where the key may be"
    ),
    args=(
        arg(
            "--server",
            metavar="URL",
            default=None,
            help=N_("the newsroom's address (default: the one 'tainik pull login' saved)"),
        ),
        arg(
            "--token-file",
            type=Path,
            metavar="FILE",
            default=None,
            help=N_("a file holding the token (default: the one 'tainik pull login' saved)"),
        ),
        CONFIG,
        arg("--out", type=Path, metavar="DIR", help=N_("the pulled folder (created; required)")),
        PROXY,
        arg(
            "--since",
            metavar="TIME",
            default=None,
            help=N_("only what changed at or after this RFC 3339 time (default: everything)"),
        ),
        arg(
            "--into-vault",
            type=Path,
            metavar="VAULT",
            default=None,
            help=N_(
                "then import the pulled folder into this vault, keeping each item's source (as "
                "'tainik vault import VAULT DIR'; needs the organisation's key on this machine)"
            ),
        ),
        arg(
            "--identity",
            "-i",
            type=Path,
            default=None,
            metavar="PATH",
            help=N_("with --into-vault: identity file (default: the one given to 'vault init')"),
        ),
        ACTOR,
    ),
    subcommands=(LOGIN,),
    sub_metavar="login",
    sub_required=False,
)
