"""``tainik users``: staff accounts of a server instance, from the server's own shell."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from tainik.cli.context import Context
from tainik.instance import load_config

if TYPE_CHECKING:
    from tainik.service.instance import Instance
    from tainik.service.newsroom.admin import NewSecrets


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], ctx: Context) -> None:
    """Add ``users add``, ``users list`` and ``users reset``."""
    _ = ctx._
    users = commands.add_parser(
        "users",
        help=_("manage the newsroom's staff accounts"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Staff accounts of the newsroom interface. Each account logs in with a password\n"
            "and a TOTP code from an authenticator app; administrators also manage accounts\n"
            "and settings in the web interface."
        ),
        epilog=_(
            "examples:\n"
            "  tainik users add alice --admin --data /srv/tainik\n"
            "  tainik users list --data /srv/tainik"
        ),
    )
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help=_("create a staff account"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Create a staff account and print its one-time password, its TOTP provisioning\n"
            "URI and the same URI as a QR code, once. Hand them to the person in private: they\n"
            "scan the code with an authenticator app, log in, and choose their own password."
        ),
        epilog=_(
            "examples:\n  tainik users add alice --data /srv/tainik\n"
            "  tainik users add bob --admin --data /srv/tainik"
        ),
    )
    add.add_argument("name", metavar="NAME", help=_("account name (lowercase a-z, 0-9, . _ -)"))
    add.add_argument(
        "--admin", action="store_true", help=_("an administrator (manages accounts, settings)")
    )
    add.add_argument(
        "--data", required=True, type=Path, metavar="DIR", help=_("the instance folder")
    )
    add.set_defaults(run=run_add)
    listing = actions.add_parser(
        "list",
        help=_("list the staff accounts"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_("List the staff accounts: name, role, state and last login."),
        epilog=_("example:\n  tainik users list --data /srv/tainik"),
    )
    listing.add_argument(
        "--data", required=True, type=Path, metavar="DIR", help=_("the instance folder")
    )
    listing.set_defaults(run=run_list)
    reset = actions.add_parser(
        "reset",
        help=_("give an account a new one-time password and TOTP secret"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Give an account a new one-time password and a new TOTP secret, reactivate it, and\n"
            "end its sessions and tokens: the way back for a locked-out administrator."
        ),
        epilog=_("example:\n  tainik users reset alice --data /srv/tainik"),
    )
    reset.add_argument("name", metavar="NAME", help=_("account name"))
    reset.add_argument(
        "--data", required=True, type=Path, metavar="DIR", help=_("the instance folder")
    )
    reset.set_defaults(run=run_reset)


def _instance(data: Path) -> Instance:
    from tainik.service.instance import Instance  # noqa: PLC0415 - heavy imports, only here

    return Instance.open(load_config(data))


def _show(secrets: NewSecrets, ctx: Context) -> None:
    _ = ctx._
    out = ctx.stdout
    print(_("account:            {name}").format(name=secrets.name), file=out)
    if secrets.password is not None:
        print(
            _("one-time password:  {password}").format(password=secrets.password.reveal()), file=out
        )
    if secrets.totp is not None:
        print(
            _("TOTP secret:        {secret}").format(secret=secrets.totp.secret.reveal()), file=out
        )
        print(_("provisioning URI:   {uri}").format(uri=secrets.totp.uri.reveal()), file=out)
        print(file=out)
        print(secrets.totp.terminal_qr(), file=out, end="")
    out.flush()
    ctx.say(
        _(
            "These are shown once. Hand them over in private; the account chooses its own "
            "password at its first login."
        )
    )


def run_add(args: argparse.Namespace, ctx: Context) -> int:
    """Create the account and show its secrets."""
    from tainik.service.newsroom import admin  # noqa: PLC0415 - heavy imports, only here

    instance = _instance(args.data)
    try:
        made = admin.add_account_locally(instance, args.name, args.admin)
    finally:
        instance.close()
    _show(made, ctx)
    return 0


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    """Print the accounts, one a line."""
    from tainik.service.newsroom import admin  # noqa: PLC0415

    instance = _instance(args.data)
    try:
        accounts = admin.local_accounts(instance)
    finally:
        instance.close()
    _ = ctx._
    for account in accounts:
        role = _("administrator") if account.is_admin else _("journalist")
        state = _(account.state_label)
        last = account.last_login_at.strftime("%Y-%m-%d %H:%M") if account.last_login_at else "-"
        print(f"{account.name}\t{role}\t{state}\t{last}", file=ctx.stdout)
    return 0


def run_reset(args: argparse.Namespace, ctx: Context) -> int:
    """Reset both factors of an account."""
    from tainik.service.newsroom import admin  # noqa: PLC0415

    instance = _instance(args.data)
    try:
        made = admin.reset_account_locally(instance, args.name)
    finally:
        instance.close()
    _show(made, ctx)
    return 0
