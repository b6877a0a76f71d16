"""What the test network helpers share: a server on loopback and a byte pipe between sockets."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self


class LoopbackServer:
    """Accept connections on 127.0.0.1 in a thread until closed, each handled by
    :meth:`handle` in a thread of its own. Use as a context manager."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closed = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(client,), daemon=True).start()

    def handle(self, client: socket.socket) -> None:
        """Serve one connection."""
        raise NotImplementedError


def pipe(
    source: socket.socket,
    sink: socket.socket,
    chunk: int = 65536,
    pause: Callable[[int], float] | None = None,
) -> None:
    """Copy ``source`` to ``sink`` until either closes, sleeping ``pause(bytes)`` seconds after
    each piece; then shut both down."""
    try:
        while data := source.recv(chunk):
            sink.sendall(data)
            if pause is not None:
                time.sleep(pause(len(data)))
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
