"""What every sub-command gets: translated text and the standard streams."""

from __future__ import annotations

import gettext
import sys
from dataclasses import dataclass, field
from typing import TextIO


@dataclass(frozen=True)
class Context:
    """Per-invocation state, passed down explicitly (no globals)."""

    translations: gettext.NullTranslations
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)

    def _(self, message: str) -> str:
        """Translate ``message``."""
        return self.translations.gettext(message)

    @property
    def locale(self) -> str:
        """The language of the catalogue in use, for numbers and units ("en", "ru")."""
        return str(self.translations.info().get("language") or "en")

    def say(self, message: str) -> None:
        """A note for the user on standard error (standard output carries results)."""
        print(message, file=self.stderr, flush=True)
