"""``tainik users``: staff accounts of a server instance, from the server's own shell."""

from __future__ import annotations

import argparse
from pathlib import Path

from tainik.cli.context import Context
from tainik.config import load_config
from tainik.service.instance import Instance
from tainik.service.newsroom import admin
from tainik.service.newsroom.admin import NewSecrets


def _instance(data: Path) -> Instance:
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
    if secrets.newsroom_key is not None:
        key = secrets.newsroom_key
        print(_("newsroom onion:     http://{address}/").format(address=key.address), file=out)
        print(_("onion key:          {key}").format(key=key.private_key.reveal()), file=out)
        print(
            _(".auth_private line: {line}").format(line=key.auth_private_line().reveal()),
            file=out,
        )
    out.flush()
    ctx.say(
        _(
            "These are shown once. Hand them over in private; the account chooses its own "
            "password at its first login."
        )
    )


def run_add(args: argparse.Namespace, ctx: Context) -> int:
    """Create the account and show its secrets."""
    instance = _instance(args.data)
    try:
        made = admin.add_account_locally(instance, args.name, args.admin)
    finally:
        instance.close()
    _show(made, ctx)
    return 0


def run_deactivate(args: argparse.Namespace, ctx: Context) -> int:
    """Deactivate an account and take back its newsroom onion key."""
    instance = _instance(args.data)
    try:
        admin.deactivate_locally(instance, args.name)
    finally:
        instance.close()
    ctx.say(
        ctx._("Deactivated {name}: its sessions ended and its onion key no longer works.").format(
            name=args.name
        )
    )
    return 0


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    """Print the accounts, one a line."""
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
    instance = _instance(args.data)
    try:
        made = admin.reset_account_locally(instance, args.name)
    finally:
        instance.close()
    _show(made, ctx)
    return 0
