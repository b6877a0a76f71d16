"""A TCP forwarder on loopback that slows what clients send: a slow uplink, as through Tor."""

from __future__ import annotations

import socket
import threading

from loopback import LoopbackServer, pipe


class ThrottledForwarder(LoopbackServer):
    """Forward each connection to ``target``, passing the client's bytes on at about
    ``bytes_per_second`` (per connection) and the answers at full speed. Small socket buffers
    keep the client from parking megabytes in the kernel. Use as a context manager."""

    def __init__(self, target: tuple[str, int], bytes_per_second: int) -> None:
        super().__init__()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        self.target = target
        self.rate = bytes_per_second

    @property
    def url(self) -> str:
        """The address to give a client instead of the target's."""
        return f"http://127.0.0.1:{self.port}"

    def handle(self, client: socket.socket) -> None:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream, 16 * 1024, pause=lambda n: n / self.rate)
