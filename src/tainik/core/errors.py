"""The one exception root of Tainik.

Every error a user can see derives from :class:`TainikError`. Messages are English templates
marked for translation with :func:`N_`; :meth:`TainikError.message` translates and formats
them with the catalogue it is given (the command line's, or a request's), so nothing here
touches a catalogue.

An error also says how it ends a request: its HTTP ``status`` and its API ``code`` (one
vocabulary for both listeners' APIs, docs/protocol.md and docs/api.md), and may carry a
``hint``, what the person can do about it. ``tainik.server.exception_handlers`` turns them into the
response; a test checks that every error the server can raise declares both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

# A gettext function: a catalogue's ``gettext``, or :func:`english`.
Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Mark a string for extraction into the translation catalogue without translating it."""
    return message


def english(message: str) -> str:
    """The identity "translation": English, the source language."""
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

    ``template`` is an English message with ``{name}`` fields filled from ``params``;
    ``hint`` (optional, English, no fields) says what to do about it. ``status`` and ``code``
    are the HTTP status and API code the server answers it with; the root's are the server's
    own failure, for an error that never declared its own (a test forbids that).
    """

    exit_code: ClassVar[int] = ExitCode.INTERNAL
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    hint: ClassVar[str | None] = None
    template: str = N_("Internal error")

    def __init__(self, template: str | None = None, **params: object) -> None:
        if template is not None:
            self.template = template
        self.params = params
        super().__init__(self.english())

    def message(self, gettext: Gettext = english) -> str:
        """The message in the language of ``gettext`` (a catalogue's), English by default; a
        parameter that is itself an error (the reason for this one) is put in that language
        too."""
        params = {
            name: value.message(gettext) if isinstance(value, TainikError) else value
            for name, value in self.params.items()
        }
        return gettext(self.template).format(**params)

    def advice(self, gettext: Gettext = english) -> str | None:
        """The hint in the language of ``gettext``, or None when the error has none."""
        return gettext(self.hint) if self.hint is not None else None

    def english(self) -> str:
        """The message in English, for logs of the developer kind and for tests."""
        return self.message()


class UsageError(TainikError):
    """The user asked for something malformed (a bad recipient string, a bad option)."""

    exit_code = ExitCode.USAGE
    status = 400
    code = "bad_request"


class CodenameError(UsageError):
    """What a source typed is not a codename (docs/codenames.md).

    The message never repeats the text: a mistyped codename is still nearly a secret.
    """

    code = "bad_codename"
    template = N_("That is not a valid codename: it should be {words} words from the codename list")


class IdentityError(TainikError):
    """A key problem: not a recipient, wrong passphrase, unreadable identity file."""

    exit_code = ExitCode.KEY
    status = 400
    code = "bad_request"


class NotARecipientError(IdentityError):
    """None of the given identities can open this ciphertext."""

    template = N_("{what}: none of the given identities is a recipient of it")


class IntegrityError(TainikError):
    """Sealed data is corrupt, tampered with, incomplete, or not in the format."""

    exit_code = ExitCode.INTEGRITY
    status = 400
    code = "bad_request"


class FormatError(IntegrityError):
    """A manifest or container that does not follow docs/format.md."""


class StorageError(TainikError):
    """Reading or writing files failed (missing input, permission, full disk).

    On the server it is the server's failure: the answer never repeats the message, which
    may name server paths (``tainik.server.exception_handlers``)."""

    exit_code = ExitCode.IO
    status = 500
    code = "internal"


class StorageFullError(StorageError):
    """No space left: the disk (or the quota) is full, or below the level kept for staff."""

    status = 507
    code = "storage_full"
    template = N_("No space left on the device")


class StorageUnavailableError(StorageError):
    """The database or the object store did not answer (restarting, unreachable): nothing of
    the request was kept, and the same request may be tried again shortly."""

    status = 503
    code = "unavailable"
    template = N_("The server's storage is not reachable at the moment")


class TorError(TainikError):
    """The server's own tor is missing, failed to start, or could not publish an onion
    service; or a tor setting is refused. The server then serves nothing."""

    exit_code = ExitCode.IO
    # In a request (a staff key handed out or taken back), the server's own failure.
    status = 500
    code = "internal"


def _rebuild(cls: type[TainikError], template: str, params: dict[str, object]) -> TainikError:
    return cls(template, **params)


def _reduce(self: TainikError) -> tuple[object, ...]:
    # Errors cross process boundaries (worker pools); keep template and params for translation.
    return (_rebuild, (type(self), self.template, self.params))


TainikError.__reduce__ = _reduce  # type: ignore[method-assign,assignment]
