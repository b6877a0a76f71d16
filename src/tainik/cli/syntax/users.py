"""``tainik users``: staff accounts of a server instance, from the server's own shell."""

from __future__ import annotations

from pathlib import Path

from tainik.cli.declare import Command, arg
from tainik.core.errors import N_

DATA = arg("--data", required=True, type=Path, metavar="DIR", help=N_("the instance folder"))

USERS = Command(
    "users",
    help=N_("manage the newsroom's staff accounts"),
    description=N_(
        "Staff accounts of the newsroom interface. Each account logs in with a password\n"
        "and a TOTP code from an authenticator app; administrators also manage accounts\n"
        "and settings in the web interface."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik users add alice --admin --data /srv/tainik\n"
        "  tainik users list --data /srv/tainik"
    ),
    sub_metavar="ACTION",
    subcommands=(
        Command(
            "add",
            help=N_("create a staff account"),
            description=N_(
                "Create a staff account and print its one-time password, its TOTP provisioning\n"
                "URI and the same URI as a QR code, once; with [tor] enabled, also its own key\n"
                "to the newsroom onion. Hand them to the person in private: they scan the code\n"
                "with an authenticator app, log in, and choose their own password."
            ),
            epilog=N_(
                "examples:\n  tainik users add alice --data /srv/tainik\n"
                "  tainik users add bob --admin --data /srv/tainik"
            ),
            args=(
                arg("name", metavar="NAME", help=N_("account name (lowercase a-z, 0-9, . _ -)")),
                arg(
                    "--admin",
                    action="store_true",
                    help=N_("an administrator (manages accounts, settings)"),
                ),
                DATA,
            ),
        ),
        Command(
            "list",
            help=N_("list the staff accounts"),
            description=N_("List the staff accounts: name, role, state and last login."),
            epilog=N_("example:\n  tainik users list --data /srv/tainik"),
            args=(DATA,),
        ),
        Command(
            "deactivate",
            help=N_("deactivate an account and take back its onion key"),
            description=N_(
                "Deactivate an account: end its sessions and tokens and take back its key to\n"
                "the newsroom onion, at once, also in a running server's tor. 'tainik users\n"
                "reset' reactivates it with new secrets."
            ),
            epilog=N_("example:\n  tainik users deactivate alice --data /srv/tainik"),
            args=(arg("name", metavar="NAME", help=N_("account name")), DATA),
        ),
        Command(
            "reset",
            help=N_("give an account a new one-time password and TOTP secret"),
            description=N_(
                "Give an account a new one-time password, a new TOTP secret and (with [tor]\n"
                "enabled) a new onion key, reactivate it, and end its sessions and tokens: the\n"
                "way back for a locked-out administrator."
            ),
            epilog=N_("example:\n  tainik users reset alice --data /srv/tainik"),
            args=(arg("name", metavar="NAME", help=N_("account name")), DATA),
        ),
    ),
)
