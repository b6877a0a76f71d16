"""Where passphrases come from: ``TAINIK_PASSPHRASE_FILE`` or a prompt, never a flag."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from tainik.core.errors import N_, IdentityError, UsageError
from tainik.crypto import Secret

ENV = "TAINIK_PASSPHRASE_FILE"
MIN_LENGTH = 8


def read_passphrase(prompt: str, confirm_prompt: str | None = None) -> Secret:
    """The passphrase from the file named by ``TAINIK_PASSPHRASE_FILE``, else a prompt.

    With ``confirm_prompt`` the user types it twice (for a new key).
    """
    file_name = os.environ.get(ENV)
    if file_name:
        try:
            text = Path(file_name).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                N_("Cannot read the passphrase file named by {env}: {reason}"),
                env=ENV,
                reason=exc.strerror or str(exc),
            ) from exc
        except UnicodeDecodeError as exc:
            raise UsageError(
                N_("The passphrase file named by {env} is not UTF-8 text"), env=ENV
            ) from exc
        text = text.removesuffix("\n").removesuffix("\r")
    elif sys.stdin.isatty():
        text = getpass.getpass(prompt)
        if confirm_prompt is not None and getpass.getpass(confirm_prompt) != text:
            raise UsageError(N_("The two passphrases differ"))
    else:
        raise IdentityError(
            N_("A passphrase is needed: run in a terminal, or set {env} to a file holding it"),
            env=ENV,
        )
    if not text:
        raise UsageError(N_("The passphrase is empty"))
    if confirm_prompt is not None and len(text) < MIN_LENGTH:
        raise UsageError(N_("The passphrase is shorter than {n} characters"), n=MIN_LENGTH)
    return Secret(text)
