"""A Tainik server reached through the private Tor network (tests/tornet.py): what the
end-to-end tests of the clients share (tests/test_through_tor.py, bench/tor.py).

:func:`enable_tor` turns the instance's ``[tor]`` on, joined to the private network (its
``DirAuthority`` lines in ``torrc_lines``): ``tainik serve`` then starts its own tor and
publishes the source and newsroom listeners as two onion services, the newsroom behind
client authorization, before it serves (tainik/tor, tainik/service/onion.py). Staff keys are
handed out by the service function that ``tainik users add`` calls, and taken back by
``tainik users deactivate``.

Clients are tors of their own with a SOCKS port flagged ``ExtendedErrors``,
so that Tor's onion reply codes reach ``tainik send`` and ``tainik pull``; a staff client holds
``.auth_private`` files in its ``ClientOnionAuthDir``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from live_server import LOOPBACK, LiveServer, free_port
from loopback import LoopbackServer
from tainik.config import load_config
from tainik.service import onion
from tainik.service.instance import Instance
from tainik.service.newsroom import admin
from tainik.socks import OnionUnreachableError, probe
from tornet import TOR, TorNetwork, TorNode

PUBLISH_TIMEOUT_S = 120.0


def enable_tor(data_dir: Path, network: TorNetwork) -> None:
    """Turn the instance's ``[tor]`` on, its tor joined to ``network``."""
    path = data_dir / "tainik.toml"
    doc = tomlkit.parse(path.read_text())
    table = doc["tor"]
    table["enabled"] = True
    table["binary"] = TOR
    table["torrc_lines"] = network.torrc_lines()
    path.write_text(tomlkit.dumps(doc))


@dataclass(frozen=True)
class Onions:
    """The instance's two onion addresses (known before its tor first runs)."""

    source: str
    newsroom: str

    @classmethod
    def of(cls, data_dir: Path) -> Onions:
        found = onion.addresses(load_config(data_dir))
        assert found is not None, "[tor] is not enabled"
        return cls(found.source, found.newsroom)

    @property
    def source_url(self) -> str:
        return f"http://{self.source}"

    @property
    def newsroom_url(self) -> str:
        return f"http://{self.newsroom}"


def _staff_id(instance: Instance, name: str) -> int:
    [account] = [a for a in admin.local_accounts(instance) if a.name == name]
    return account.id


def grant_key(data_dir: Path, name: str) -> str:
    """A new newsroom key for staff member ``name``: the ``.auth_private`` line they get."""
    instance = Instance.open(load_config(data_dir))
    try:
        key = onion.grant(instance, _staff_id(instance, name))
        assert key is not None, "[tor] is not enabled"
        return key.auth_private_line().reveal()
    finally:
        instance.close()


def wait_published(server: LiveServer, timeout: float = PUBLISH_TIMEOUT_S) -> None:
    """Wait until ``tainik serve`` says both onion services are published."""
    deadline = time.monotonic() + timeout
    while "newsroom onion:" not in server.stdout_text():
        assert server.running, server.log_text()
        assert time.monotonic() < deadline, f"not published:\n{server.log_text()}"
        time.sleep(0.2)


def control(node: TorNode, line: str) -> str:
    """One control-port command to ``node`` (cookie authentication), over a plain socket.

    Not stem: tornet's tors name the test process their ``__OwningControllerProcess``, and
    stem, connecting from that process, takes ownership, so that closing its connection
    makes tor exit ("Owning controller connection has closed")."""
    cookie = (node.data_dir / "control_auth_cookie").read_bytes().hex()
    with socket.create_connection((LOOPBACK, node.control_port), timeout=30) as sock:
        sock.sendall(f"AUTHENTICATE {cookie}\r\n{line}\r\nQUIT\r\n".encode())
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    lines = reply.decode("utf-8", "replace").splitlines()
    assert lines, "no answer"
    assert lines[0].startswith("250"), lines  # authenticated
    return "\n".join(lines[1:-1])


def newnym(node: TorNode) -> None:
    """New circuits, and a forgotten onion descriptor cache (``SIGNAL NEWNYM``)."""
    reply = control(node, "SIGNAL NEWNYM")
    assert reply.startswith("250"), reply


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
                newnym(client)
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
