"""A streaming multipart/form-data reader: parts arrive as events, nothing is spooled.

Starlette's ``request.form()`` writes file parts over 1 MB to a temporary file: plaintext on
disk. This feeds python-multipart's callback parser directly instead and hands every part's
bytes to a :class:`PartHandler` as they come.
"""

from __future__ import annotations

from typing import Protocol

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from tainik.service.errors import RequestError

MAX_PART_HEADERS = 16 * 1024
MAX_BOUNDARY = 200


class PartHandler(Protocol):
    """Receives the parts of a form."""

    def begin(self, name: str, filename: bytes | None) -> None:
        """A part starts; ``filename`` is None for plain fields."""

    def data(self, chunk: memoryview) -> None:
        """Bytes of the current part (valid only during the call: copy what you keep)."""

    def end(self) -> None:
        """The current part is complete."""


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a multipart/form-data body, or :class:`RequestError`."""
    if not content_type:
        raise RequestError()
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary or len(boundary) > MAX_BOUNDARY:
        raise RequestError()
    return boundary


class FormReader:
    """Feed the body with :meth:`write`, then call :meth:`close`."""

    def __init__(self, boundary: bytes, handler: PartHandler) -> None:
        self._handler = handler
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._header_bytes = 0
        self._in_part = False
        self._ended = False
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field_data,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    def write(self, chunk: bytes) -> None:
        """Parse more of the body."""
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise RequestError() from exc

    def write_all(self, chunks: list[bytes]) -> None:
        """Parse several pieces of the body, in order (no joining copy)."""
        for chunk in chunks:
            self.write(chunk)

    def close(self) -> None:
        """The body is complete: it must have ended with the closing boundary."""
        try:
            self._parser.finalize()
        except MultipartParseError as exc:
            raise RequestError() from exc
        if not self._ended or self._in_part:
            raise RequestError()

    def _part_begin(self) -> None:
        self._headers = {}
        self._header_bytes = 0

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_PART_HEADERS:
            raise RequestError()

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition")
        if disposition is None:
            raise RequestError()
        kind, params = parse_options_header(disposition)
        name = params.get(b"name")
        if kind != b"form-data" or name is None:
            raise RequestError()
        self._in_part = True
        self._handler.begin(name.decode("utf-8", errors="replace"), params.get(b"filename"))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if start < end:
            # A view, not a slice: the handler copies what it keeps (a sealer copies into its
            # segment buffer), so a file's bytes are copied once here, not twice.
            self._handler.data(memoryview(data)[start:end])

    def _part_end(self) -> None:
        if self._in_part:
            self._in_part = False
            self._handler.end()

    def _end(self) -> None:
        self._ended = True
