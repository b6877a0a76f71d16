"""``tainik send``: the command-line uploader for sources (docs/protocol.md)."""

from __future__ import annotations

from pathlib import Path

from tainik.cli.declare import Command, arg, field_arg, one_of
from tainik.core.errors import N_
from tainik.sender.request import SendRequest

SEND = Command(
    "send",
    help=N_("encrypt files here and upload them, resumably (for sources)"),
    description=N_(
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
        "Ctrl-C stops at once; the same command resumes later.\n"
        "\n"
        "Through Tor Browser: keep it open (connected, with bridges where Tor is blocked)\n"
        "and give --proxy socks5h://127.0.0.1:9150 (docs/sources-censored.md)."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik send --server http://abc...xyz.onion --proxy socks5h://127.0.0.1:9150 \\\n"
        "      --new-codename-out ~/codename.txt --message-file note.txt *.mp4\n"
        "  tainik send --server http://abc...xyz.onion --proxy socks5h://127.0.0.1:9050 \\\n"
        "      --codename-file ~/codename.txt *.mp4     # later, or to resume"
    ),
    args=(
        arg("files", nargs="*", type=Path, metavar="FILE", help=N_("files to send")),
        arg(
            "--server",
            required=True,
            metavar="URL",
            help=N_("the organisation's source address (an .onion URL)"),
        ),
        arg(
            "--proxy",
            metavar="URL",
            help=N_(
                "Tor's SOCKS port: socks5h://127.0.0.1:9150 with Tor Browser open, "
                "socks5h://127.0.0.1:9050 with a system tor; required for an .onion server "
                "(names are resolved by Tor, never here)"
            ),
        ),
        one_of(
            arg("--codename-file", type=Path, metavar="F", help=N_("a file holding your codename")),
            arg(
                "--new-codename-out",
                type=Path,
                metavar="F",
                help=N_("get a new codename and write it to F (never overwritten)"),
            ),
            required=True,
        ),
        one_of(
            arg(
                "--message",
                metavar="TEXT",
                help=N_(
                    "a message to send along (visible to other users in the process list and "
                    "kept in your shell's history: prefer --message-file)"
                ),
            ),
            arg(
                "--message-file",
                type=Path,
                metavar="F",
                help=N_("send the text of file F (UTF-8) as the message; - reads standard input"),
            ),
        ),
        arg(
            "--state",
            type=Path,
            metavar="PATH",
            help=N_("resume state file (default: beside the codename file)"),
        ),
        field_arg(
            SendRequest,
            "jobs",
            "--jobs",
            metavar="N",
            help=N_("segments in flight at once (default: %(default)s)"),
        ),
        field_arg(
            SendRequest,
            "give_up_after",
            "--give-up-after",
            type=float,
            metavar="SECONDS",
            help=N_(
                "stop retrying after this long without reaching the server (default: %(default)s)"
            ),
        ),
        arg(
            "--forget",
            action="store_true",
            help=N_("delete the resume state when everything is delivered"),
        ),
    ),
)
