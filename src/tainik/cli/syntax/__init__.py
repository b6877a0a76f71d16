"""Every command of ``tainik``, declared as data, in the order the help lists them.

These modules only declare (names, options, help texts as msgids): building the parser from
them loads no command's code, so ``tainik --help`` and a usage error stay fast and light. What
each command runs is named in :mod:`tainik.cli.commands`.
"""

from __future__ import annotations

from tainik.cli.declare import Command
from tainik.cli.syntax import (
    keys,
    publish,
    pull,
    redact,
    sealing,
    send,
    server,
    triage,
    users,
    vault,
)

COMMANDS: tuple[Command, ...] = (
    keys.KEYS,
    sealing.SEAL,
    sealing.OPEN,
    server.INIT,
    server.SERVE,
    server.ONION,
    server.MIGRATE,
    users.USERS,
    send.SEND,
    vault.VAULT_COMMAND,
    pull.PULL,
    redact.REDACT,
    triage.TRIAGE,
    publish.PUBLISH,
    publish.VERIFY_PUBLICATION,
    publish.OPEN_COMMITMENT,
)
