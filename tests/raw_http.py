"""Raw HTTP on sockets for tests of what a connection may hold: settings of the instance's
``[connections]`` section, a stalled request body, and reading until the server closes.

Import it as ``from raw_http import stalled_body`` (``tests/`` is on ``sys.path``).
"""

from __future__ import annotations

import socket
from pathlib import Path

from tainik.config import CONFIG_NAME, set_key


def set_connections(data_dir: Path, **values: float) -> None:
    """Set settings of the instance's ``[connections]`` section (adding it if missing)."""
    config = data_dir / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    for name, value in values.items():
        text = set_key(text, "connections", name, value)
    config.write_text(text, encoding="utf-8")


CSRF = b"t" * 43


def stalled_body(port: int) -> socket.socket:
    """A connection whose codename login (a body the server reads) announced 10 kB and sent
    one byte of it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Cookie: tainik_csrf=" + CSRF + b"\r\nX-CSRF-Token: " + CSRF + b"\r\n"
        b"Content-Length: 10000\r\n\r\n{"
    )
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or a timeout error)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data
