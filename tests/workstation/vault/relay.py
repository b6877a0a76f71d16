"""A TCP relay on loopback that slows the server's answers down, so a test can interrupt a
download in the middle (a stand-in for a slow Tor circuit)."""

from __future__ import annotations

import socket
import threading

from loopback import LoopbackServer, pipe


class SlowRelay(LoopbackServer):
    """Forward 127.0.0.1:PORT to ``target``, answers at about ``rate`` bytes a second (0: as
    fast as they come)."""

    def __init__(self, target: tuple[str, int], rate: int) -> None:
        super().__init__()
        self.target = target
        self.rate = rate

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.target)
        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        # Read the rate for each piece: a test may lift the limit midway.
        pipe(upstream, client, 16384, lambda size: size / self.rate if self.rate else 0.0)
