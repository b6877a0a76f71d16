"""A minimal SOCKS5 proxy (RFC 1928, no authentication, CONNECT only) for tests, on loopback.

It records each CONNECT target so a test can prove a client used it, and whether the client
sent a host name (``socks5h``: the name is resolved by the proxy, as Tor does). Given a reply
code, it answers every CONNECT with it, as Tor does when it cannot reach an onion service.
"""

from __future__ import annotations

import socket
import struct
import threading

from loopback import LoopbackServer, pipe


class Socks5Proxy(LoopbackServer):
    """Serve SOCKS5 on 127.0.0.1 until closed. Use as a context manager."""

    def __init__(self, reply: int = 0) -> None:
        super().__init__()
        self.requests: list[tuple[str, int, bool]] = []  # (host, port, was a name)
        # A reply code other than 0 answers every CONNECT so, as Tor does for an onion service
        # it cannot reach (0xF0-0xF7 on a SocksPort with ExtendedErrors), and closes.
        self.reply = reply

    @property
    def url(self) -> str:
        """The proxy URL for clients that resolve names through it."""
        return f"socks5h://127.0.0.1:{self.port}"

    def handle(self, client: socket.socket) -> None:
        try:
            version, count = _recv(client, 2)
            if version != 5:
                client.close()
                return
            _recv(client, count)
            client.sendall(b"\x05\x00")
            _ver, command, _rsv, kind = _recv(client, 4)
            if kind == 1:
                host, is_name = socket.inet_ntoa(_recv(client, 4)), False
            elif kind == 3:
                host, is_name = _recv(client, _recv(client, 1)[0]).decode(), True
            else:
                host, is_name = socket.inet_ntop(socket.AF_INET6, _recv(client, 16)), False
            (port,) = struct.unpack("!H", _recv(client, 2))
            if command != 1:
                client.sendall(b"\x05\x07\x00\x01" + bytes(6))
                client.close()
                return
            self.requests.append((host, port, is_name))
            if self.reply:
                client.sendall(bytes([5, self.reply, 0, 1]) + bytes(6))
                client.close()
                return
        except (OSError, ValueError):
            client.close()
            return
        try:
            upstream = socket.create_connection((host, port))
        except OSError:
            # As Tor does: a reply saying the connection was refused, then close.
            client.sendall(b"\x05\x05\x00\x01" + bytes(6))
            client.close()
            return
        client.sendall(b"\x05\x00\x00\x01" + bytes(6))
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)


def _recv(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ValueError("closed")
        data += chunk
    return data
