"""What each command runs: one table, command name to ``module:function``.

The entry point imports a command's module only when that command runs, so that ``tainik
--help``, a usage error or ``tainik keys`` never load what ``tainik triage`` needs (OpenCV,
NumPy, PyAV) or what ``tainik send`` needs (httpx). The command modules import what they use at
their top, like any other module. The names are the command paths the declarations in
:mod:`tainik.cli.syntax` give (a test checks that both name the same commands).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import argparse

    from tainik.cli.context import Context

Run = Callable[["argparse.Namespace", "Context"], int]

COMMANDS: Final[Mapping[str, str]] = {
    "keys new": "tainik.cli.keys:run_new",
    "keys show": "tainik.cli.keys:run_show",
    "seal": "tainik.cli.sealing:run_seal",
    "open": "tainik.cli.sealing:run_open",
    "init": "tainik.cli.server:run_init",
    "serve": "tainik.cli.server:run_serve",
    "onion show": "tainik.cli.server:run_onion_show",
    "migrate": "tainik.cli.server:run_migrate",
    "users add": "tainik.cli.users:run_add",
    "users deactivate": "tainik.cli.users:run_deactivate",
    "users list": "tainik.cli.users:run_list",
    "users reset": "tainik.cli.users:run_reset",
    "send": "tainik.cli.send:run_send",
    "vault init": "tainik.cli.vault:run_init",
    "vault import": "tainik.cli.vault:run_import",
    "vault acquire": "tainik.cli.vault_acquire:run_acquire",
    "vault verify": "tainik.cli.vault:run_verify",
    "vault head": "tainik.cli.vault:run_head",
    "vault list": "tainik.cli.vault:run_list",
    "vault info": "tainik.cli.vault_media:run_info",
    "vault scrub": "tainik.cli.vault_media:run_scrub",
    "vault copy": "tainik.cli.vault_media:run_copy",
    "vault duplicates": "tainik.cli.vault_media:run_duplicates",
    "vault export": "tainik.cli.vault_media:run_export",
    "vault check-bag": "tainik.cli.vault_media:run_check_bag",
    "vault show": "tainik.cli.vault_media:run_show",
    "vault migrate": "tainik.cli.vault:run_migrate",
    "pull": "tainik.cli.pull:run_pull",
    "pull login": "tainik.cli.pull:run_login",
    "redact": "tainik.cli.redact:run_redact",
    "triage": "tainik.cli.triage:run_triage",
    "publish": "tainik.cli.publish:run_publish",
    "verify-publication": "tainik.cli.publish:run_verify_publication",
    "open-commitment": "tainik.cli.publish:run_open_commitment",
}


def load(name: str) -> Run:
    """The function that runs command ``name``, its module imported now."""
    module, _, function = COMMANDS[name].partition(":")
    run: Run = getattr(importlib.import_module(module), function)
    return run
