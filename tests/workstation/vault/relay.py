"""A TCP relay on loopback that slows the server's answers down, so a test can interrupt a
download in the middle (a stand-in for a slow Tor circuit)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType


class SlowRelay:
    """Forward 127.0.0.1:PORT to ``target``, answers at about ``rate`` bytes a second (0: as
    fast as they come)."""

    def __init__(self, target: tuple[str, int], rate: int) -> None:
        self.target = target
        self.rate = rate
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> SlowRelay:
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
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, slow: bool) -> None:
        chunk = 16384
        try:
            while data := source.recv(chunk):
                sink.sendall(data)
                if slow and self.rate:  # read each time: a test may lift the limit
                    time.sleep(len(data) / self.rate)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
