"""The submission form's parts, sealed as they stream in (runs in a worker thread).

Fields, in the order the page sends them: ``csrf`` (must come before any file), ``message``,
``website`` (a honeypot that people never see and bots fill), then ``files``.
"""

from __future__ import annotations

from tainik.core.errors import N_
from tainik.core.manifest import Kind
from tainik.core.upload import MAX_MESSAGE_CHARS
from tainik.sealed.writer import SegmentSealer
from tainik.server.security import CSRF_FIELD, check_csrf
from tainik.service.errors import RequestError
from tainik.service.intake import Intake

HONEYPOT_FIELD = "website"
_FIELD_LIMITS = {CSRF_FIELD: 128, "message": MAX_MESSAGE_CHARS * 4, HONEYPOT_FIELD: 1024}
_OTHER_FIELD_LIMIT = 1024


class MessageTooLongError(RequestError):
    """The message is over the limit."""

    template = N_("The message is longer than {limit} characters")


class FilesReached(Exception):
    """Raised by :class:`FieldsBeforeFiles` at the first file part."""


class FieldsBeforeFiles:
    """A :class:`tainik.server.multipart.PartHandler` that reads the fields sent before the
    files (the token and the message) and raises :class:`FilesReached` at the first file:
    what a refused upload keeps of its form, without reading or sealing a file's bytes."""

    def __init__(self, csrf_cookie: str | None) -> None:
        self._csrf_cookie = csrf_cookie
        self._field: str | None = None
        self._value = bytearray()
        self.csrf_ok = False
        self.message = ""

    def begin(self, name: str, filename: bytes | None) -> None:
        """A part starts: a field is read, a file ends the reading."""
        if filename is not None:
            raise FilesReached()
        self._field = name
        self._value.clear()

    def data(self, chunk: memoryview) -> None:
        """Bytes of a field, within its bound."""
        if self._field is None:
            return
        if len(self._value) + len(chunk) > _FIELD_LIMITS.get(self._field, _OTHER_FIELD_LIMIT):
            raise RequestError()
        self._value += chunk

    def end(self) -> None:
        """A field is complete."""
        text = self._value.decode("utf-8", errors="replace")
        if self._field == CSRF_FIELD:
            check_csrf(self._csrf_cookie, text)
            self.csrf_ok = True
        elif self._field == "message" and len(text) <= MAX_MESSAGE_CHARS:
            self.message = text.replace("\r\n", "\n")
        self._field = None
        self._value.clear()


# The most a form's fields take before its first file part, headers and boundaries included.
MAX_FIELDS_BYTES = sum(_FIELD_LIMITS.values()) + 64 * 1024


class SubmissionForm:
    """A :class:`tainik.server.multipart.PartHandler` feeding an :class:`Intake`."""

    def __init__(self, intake: Intake, csrf_cookie: str | None) -> None:
        self.intake = intake
        self._csrf_cookie = csrf_cookie
        self._csrf_ok = False
        self._field: str | None = None
        self._value = bytearray()
        self._sealer: SegmentSealer | None = None
        self._skip_file = False
        self.message = ""
        self.honeypot = False

    @property
    def csrf_ok(self) -> bool:
        """Whether the form's token has been checked."""
        return self._csrf_ok

    def begin(self, name: str, filename: bytes | None) -> None:
        """A part starts."""
        if filename is None:
            self._field = name
            self._value.clear()
            return
        if not self._csrf_ok:
            check_csrf(self._csrf_cookie, None)  # files before the token: refuse
        # A file input left empty still sends a part with an empty name and no bytes.
        self._skip_file = filename == b"" or name != "files"
        if not self._skip_file:
            self._sealer = self.intake.start(Kind.FILE, filename)

    def data(self, chunk: memoryview) -> None:
        """Bytes of the current part."""
        if self._sealer is not None:
            self._sealer.write(chunk)
        elif self._field is not None:
            limit = _FIELD_LIMITS.get(self._field, _OTHER_FIELD_LIMIT)
            if len(self._value) + len(chunk) > limit:
                if self._field == "message":
                    raise MessageTooLongError(limit=MAX_MESSAGE_CHARS)
                raise RequestError()
            self._value += chunk
        elif not self._skip_file:
            raise RequestError()

    def end(self) -> None:
        """The current part is complete."""
        if self._sealer is not None:
            self.intake.finish_current()
            self._sealer = None
            return
        if self._field is None:
            return
        text = self._value.decode("utf-8", errors="replace")
        if self._field == CSRF_FIELD:
            check_csrf(self._csrf_cookie, text)
            self._csrf_ok = True
        elif self._field == "message":
            if len(text) > MAX_MESSAGE_CHARS:
                raise MessageTooLongError(limit=MAX_MESSAGE_CHARS)
            self.message = text.replace("\r\n", "\n")
        elif self._field == HONEYPOT_FIELD:
            self.honeypot = bool(text.strip())
        self._field = None
        self._value.clear()

    def complete(self) -> None:
        """After the body: check the token was there and seal the message."""
        if not self._csrf_ok:
            check_csrf(self._csrf_cookie, None)
        if self.message.strip():
            self.intake.add_message(self.message)
