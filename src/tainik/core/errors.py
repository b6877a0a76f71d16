"""The one exception root of Tainik.

Every error a user can see derives from :class:`TainikError`. Messages are English templates
marked for translation with :func:`N_`; the command line (and later the web layer) translates
and formats them in one place, so nothing here touches a catalogue.
"""

from __future__ import annotations

from typing import ClassVar


def N_(message: str) -> str:
    """Mark a string for extraction into the translation catalogue without translating it."""
    return message


class ExitCode:
    """Process exit codes, documented in ``tainik --help`` and the README."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    KEY = 3
    INTEGRITY = 4
    IO = 5
    INTERRUPTED = 130


class TainikError(Exception):
    """Base of every user-facing error.

    ``template`` is an English message with ``{name}`` fields filled from ``params``.
    """

    exit_code: ClassVar[int] = ExitCode.INTERNAL
    template: str = N_("Internal error")

    def __init__(self, template: str | None = None, **params: object) -> None:
        if template is not None:
            self.template = template
        self.params = params
        super().__init__(self.english())

    def english(self) -> str:
        """The message in English, for logs of the developer kind and for tests."""
        return self.template.format(**self.params)


class UsageError(TainikError):
    """The user asked for something malformed (a bad recipient string, a bad option)."""

    exit_code = ExitCode.USAGE


class CodenameError(UsageError):
    """What a source typed is not a codename (docs/codenames.md).

    The message never repeats the text: a mistyped codename is still nearly a secret.
    """

    template = N_("That is not a valid codename: it should be {words} words from the codename list")


class IdentityError(TainikError):
    """A key problem: not a recipient, wrong passphrase, unreadable identity file."""

    exit_code = ExitCode.KEY


class NotARecipientError(IdentityError):
    """None of the given identities can open this ciphertext."""

    template = N_("{what}: none of the given identities is a recipient of it")


class IntegrityError(TainikError):
    """Sealed data is corrupt, tampered with, incomplete, or not in the format."""

    exit_code = ExitCode.INTEGRITY


class FormatError(IntegrityError):
    """A manifest or container that does not follow docs/format.md."""


class StorageError(TainikError):
    """Reading or writing files failed (missing input, permission, full disk)."""

    exit_code = ExitCode.IO


class StorageFullError(StorageError):
    """No space left: the disk (or the quota) is full, or below the level kept for staff."""

    template = N_("No space left on the device")


def _rebuild(cls: type[TainikError], template: str, params: dict[str, object]) -> TainikError:
    return cls(template, **params)


def _reduce(self: TainikError) -> tuple[object, ...]:
    # Errors cross process boundaries (worker pools); keep template and params for translation.
    return (_rebuild, (type(self), self.template, self.params))


TainikError.__reduce__ = _reduce  # type: ignore[method-assign,assignment]
