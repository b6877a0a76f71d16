"""The HTTP/1.1 protocol the server speaks: uvicorn's httptools protocol, with bounded heads.

httptools (llhttp, in C) parses request bodies several times faster than h11, whose pure-Python
buffering copied every byte of an upload twice. But llhttp sets no limit on the size of a
request's head (request line and headers): a client could stream headers for ever and the
parser would keep buffering them. On the open Tor network that is a memory-exhaustion attack.

:class:`BoundedHttpToolsProtocol` counts the bytes of each request until its head is complete
and answers ``431`` and closes the connection once they pass :data:`MAX_HEAD_BYTES`. A head is
checked before each read is parsed, so at most one read (asyncio reads at most 256 KiB) beyond
the limit is ever buffered. Requests whose head fits but whose headers still exceed the
application's own bound get the same answer from :class:`tainik.server.security.SecurityHeaders`.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tainik.server.security import HEADERS, MAX_REQUEST_HEADERS, TOO_LARGE

# The request line and the header block together; headers alone are bounded at 16 KiB.
MAX_HEAD_BYTES = MAX_REQUEST_HEADERS + 8 * 1024


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that refuses request heads over :data:`MAX_HEAD_BYTES`."""

    _head_bytes = 0
    _in_head = True
    _refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse()
                return
            self._head_bytes += len(data)
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # The next request on this connection starts with a fresh count.
        self._in_head = True
        self._head_bytes = 0

    def _refuse(self) -> None:
        head = [b"HTTP/1.1 431 Request Header Fields Too Large\r\n"]
        for name, value in HEADERS.items():
            head.append(f"{name}: {value}\r\n".encode("latin-1"))
        head.append(b"content-type: text/plain; charset=utf-8\r\n")
        head.append(f"content-length: {len(TOO_LARGE)}\r\n".encode("ascii"))
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + TOO_LARGE)
        self.transport.close()
        self._refused = True  # nothing more is parsed from this connection
