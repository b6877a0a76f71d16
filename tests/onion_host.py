"""A Tainik server reached through the private Tor network (tests/tornet.py): what the
end-to-end tests of the clients share (tests/test_through_tor.py, bench/tor.py).

:class:`OnionSite` publishes a :class:`~live_server.LiveServer`'s two listeners as v3 onion
services from a tor joined to the network: the source listener open, the newsroom behind
client authorization, one X25519 key per staff member (``authorized_clients/NAME.auth``, plus
one whose private half is thrown away, so that the newsroom stays closed with no staff). This
is the layout tor reads for ``tainik serve``'s own onion services too (docs/deployment.md).

Clients are tors of their own with a SOCKS port flagged ``ExtendedErrors`` (Tor Browser's is),
so that Tor's onion reply codes reach ``tainik send`` and ``tainik pull``; a staff client holds
``.auth_private`` files in its ``ClientOnionAuthDir``.
"""

from __future__ import annotations

import base64
import contextlib
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from live_server import LOOPBACK, LiveServer, free_port
from loopback import LoopbackServer
from tainik.socks import OnionUnreachableError, probe
from tornet import TorNetwork, TorNode

PUBLISH_TIMEOUT_S = 120.0


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


class ClientKey:
    """One client-authorization key pair (tor's ``x25519`` lines)."""

    def __init__(self) -> None:
        self._key = X25519PrivateKey.generate()

    def public_line(self) -> str:
        """The line of ``authorized_clients/NAME.auth`` (the service's side)."""
        raw = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return f"descriptor:x25519:{_b32(raw)}"

    def private_line(self, onion: str) -> str:
        """The line of ``NAME.auth_private`` (the client's side, Tor Browser's key prompt)."""
        raw = self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return f"{onion.removesuffix('.onion')}:descriptor:x25519:{_b32(raw)}"


def client_tor(network: TorNetwork, name: str, auth_dir: Path | None = None) -> TorNode:
    """A client tor (not started) whose SOCKS port answers Tor's onion reply codes."""
    lines = network.torrc_lines()
    port = free_port()
    lines.append(f"SocksPort {LOOPBACK}:{port} ExtendedErrors")
    if auth_dir is not None:
        auth_dir.mkdir(parents=True, exist_ok=True)
        auth_dir.chmod(0o700)
        lines.append(f"ClientOnionAuthDir {auth_dir}")
    # TorNode's own SocksPort line stays (a second, plain port): "SocksPort 0" would close all.
    node = TorNode(name, network.root / f"{name}-client", lines, socks_port=free_port())
    node.socks_port = port  # the flagged port is the one clients use
    network.nodes.append(node)  # stopped with the network, whatever happens
    return node


class OnionSite:
    """``server``'s listeners as two onion services on ``network``."""

    def __init__(self, network: TorNetwork, server: LiveServer, folder: Path) -> None:
        self.server = server
        self.folder = folder
        self.source_dir = folder / "source"
        self.newsroom_dir = folder / "newsroom"
        for path in (self.source_dir, self.newsroom_dir / "authorized_clients"):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o700)
        self.authorized = self.newsroom_dir / "authorized_clients"
        (self.authorized / "locked.auth").write_text(ClientKey().public_line() + "\n")
        self.tor = TorNode(
            "onionhost",
            folder,
            [
                *network.torrc_lines(),
                f"HiddenServiceDir {self.source_dir}",
                f"HiddenServicePort 80 {LOOPBACK}:{server.source_port}",
                f"HiddenServiceDir {self.newsroom_dir}",
                f"HiddenServicePort 80 {LOOPBACK}:{server.newsroom_port}",
            ],
        )
        network.nodes.append(self.tor)

    @property
    def source_onion(self) -> str:
        return (self.source_dir / "hostname").read_text().strip()

    @property
    def newsroom_onion(self) -> str:
        return (self.newsroom_dir / "hostname").read_text().strip()

    @property
    def source_url(self) -> str:
        return f"http://{self.source_onion}"

    @property
    def newsroom_url(self) -> str:
        return f"http://{self.newsroom_onion}"

    def authorize(self, name: str) -> ClientKey:
        """A new key for staff member ``name`` (tor reads it at start or on a reload)."""
        key = ClientKey()
        (self.authorized / f"{name}.auth").write_text(key.public_line() + "\n")
        return key

    def revoke(self, name: str) -> None:
        """Remove ``name``'s key and make the running tor publish without it (SIGHUP)."""
        (self.authorized / f"{name}.auth").unlink()
        assert self.tor.process is not None
        self.tor.process.send_signal(signal.SIGHUP)


def wait_answering(client: TorNode, onion: str, timeout: float = PUBLISH_TIMEOUT_S) -> float:
    """Connect to ``onion``:80 through ``client`` (NEWNYM between tries) until Tor connects;
    the seconds it took. A fresh onion service answers once its descriptor has spread.

    Tainik's own probe (one SOCKS5 CONNECT, closed at once), not an HTTP client: httpx
    leaves its socket open when Tor answers with an onion reply code."""
    started = time.monotonic()
    while True:
        try:
            probe(client.socks_url, onion, 80, timeout=30.0)
            return time.monotonic() - started
        except OnionUnreachableError:
            if time.monotonic() - started > timeout:
                raise
            with contextlib.suppress(Exception):
                client.newnym()
            time.sleep(1.0)


class CountingRelay(LoopbackServer):
    """A TCP relay in front of a SOCKS port that counts what clients send through it, with
    times, so that a test can tell the bytes sent after a moment (a kill) from the rest."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.target = port
        self._lock = threading.Lock()
        self.sent: list[tuple[float, int]] = []

    @property
    def url(self) -> str:
        return f"socks5h://{LOOPBACK}:{self.port}"

    def sent_since(self, moment: float) -> int:
        """Bytes clients sent at or after ``moment`` (time.monotonic)."""
        with self._lock:
            return sum(size for when, size in self.sent if when >= moment)

    def total(self) -> int:
        with self._lock:
            return sum(size for _, size in self.sent)

    def handle(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection((LOOPBACK, self.target))
        except OSError:
            client.close()  # the tor behind is down: as if nothing listened
            return
        back = threading.Thread(target=self._copy, args=(upstream, client, False), daemon=True)
        back.start()
        self._copy(client, upstream, True)

    def _copy(self, source: socket.socket, sink: socket.socket, count: bool) -> None:
        try:
            while data := source.recv(65536):
                if count:
                    with self._lock:
                        self.sent.append((time.monotonic(), len(data)))
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()


@contextlib.contextmanager
def started(*nodes: TorNode) -> Iterator[None]:
    """Start tors together and wait until each has bootstrapped (in parallel: ~10 s)."""
    for node in nodes:
        node.start()
    try:
        for node in nodes:
            node.wait_bootstrapped()
        yield
    finally:
        for node in nodes:
            node.stop()
