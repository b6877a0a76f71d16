"""A private Tor network on loopback for the tests: nothing from outside, nothing to outside.

The network is three directory authorities (keys made with ``tor-gencert``), three relays
(two of them exits) and one client tor with a SOCKS port, all Debian's ``tor`` 0.4.9 with
``TestingTorNetwork 1`` and the same ``DirAuthority`` lines. Any other tor joins it by adding
:meth:`TorNetwork.torrc_lines` to its configuration: that is how ``tainik serve`` is given
the network (through its ``[tor] torrc_lines`` setting) and how extra clients are started.

Use the session fixture ``tor_network`` (``tests/conftest.py``), which builds the network
once per test session, lazily, the first time a test asks for it, and stops every tor by its
PID at the end of the session (also when a test fails)::

    def test_onion(tor_network: TorNetwork) -> None:
        lines = tor_network.torrc_lines()          # give these to the tor that must join
        proxy = tor_network.client.socks_url       # "socks5h://127.0.0.1:PORT"
        tor_network.client.newnym()                # fresh circuits between retries
        with tor_network.start_client("staff", auth_dir=folder) as staff:
            httpx.get(url, proxy=staff.socks_url)  # a client holding .auth_private keys

What mattered to make it work (DESIGN.md, field notes): ``Address 127.0.0.1`` and
``AssumeReachable 1``; the fast voting options; ``TestingDirAuthVoteHSDir *`` so that every
relay stores onion descriptors; exits with ``ExitPolicy accept *:*`` because clients ignore
exits that only accept private addresses (tor bug #11264). An onion service is reachable once
its descriptor is uploaded (``HS_DESC UPLOADED``); a client that failed should ask for new
circuits (``SIGNAL NEWNYM``) before it tries again.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest

from live_server import LOOPBACK, free_port

TOR = shutil.which("tor") or "/usr/sbin/tor"
TOR_GENCERT = shutil.which("tor-gencert") or "/usr/bin/tor-gencert"
BOOTSTRAP_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 10.0

# Every node: a test network, quick to vote, tolerant of everything being on one address.
_COMMON = (
    "TestingTorNetwork 1",
    "AssumeReachable 1",
    "TestingDirAuthVoteHSDir *",
    "TestingDirAuthVoteGuard *",
    "TestingV3AuthInitialVotingInterval 5",
    "TestingV3AuthInitialVoteDelay 2",
    "TestingV3AuthInitialDistDelay 2",
    "V3AuthVotingInterval 10",
    "V3AuthVoteDelay 2",
    "V3AuthDistDelay 2",
    # Stop at once on SIGTERM (a relay would keep its circuits open for 30 s).
    "ShutdownWaitLength 0",
)


def _empty_file(folder: Path) -> Path:
    """An empty torrc (tor refuses /dev/null as a configuration file)."""
    path = folder / "empty-torrc"
    path.touch()
    return path


class TorNode:
    """One tor process of the network (or joined to it): its ports, data folder and PID."""

    def __init__(self, name: str, folder: Path, torrc: Sequence[str], socks_port: int = 0):
        self.name = name
        self.folder = folder
        self.data_dir = folder / "data"
        self.socks_port = socks_port
        self.control_port = free_port()
        self.log = folder / "notice.log"
        self.torrc = folder / "torrc"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        lines = [
            f"DataDirectory {self.data_dir}",
            f"Nickname {name}",
            f"ControlPort {LOOPBACK}:{self.control_port}",
            "CookieAuthentication 1",
            f"Log notice file {self.log}",
            # Exit when the test process does, even killed (no teardown): no stray tors.
            f"__OwningControllerProcess {os.getpid()}",
            # ExtendedErrors: SOCKS replies that say why an onion failed (0xF4, 0xF5: client
            # authorization missing or wrong).
            f"SocksPort {LOOPBACK}:{socks_port} ExtendedErrors" if socks_port else "SocksPort 0",
            *torrc,
        ]
        self.torrc.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The tor's process id while it runs."""
        return self.process.pid if self.process is not None else None

    @property
    def socks_url(self) -> str:
        """The proxy URL for a client that lets tor resolve names (``socks5h``)."""
        return f"socks5h://{LOOPBACK}:{self.socks_port}"

    def start(self) -> None:
        """Start tor in the background (it reads only this node's torrc)."""
        with (self.folder / "stdout.log").open("ab") as out:
            self.process = subprocess.Popen(
                [TOR, "--defaults-torrc", str(_empty_file(self.folder)), "-f", str(self.torrc)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def stop(self) -> None:
        """Stop tor by its PID: SIGTERM, then SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """Kill tor at once (SIGKILL), as a crash or a pulled plug would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def command(self, line: str) -> str:
        """Send one control-port command (e.g. ``"GETINFO version"``) and return the reply.

        A bare control socket, not a ``stem.control.Controller``: a Controller that finds
        ``__OwningControllerProcess`` naming its own process takes ownership of tor, which
        then exits when that Controller closes.
        """
        from stem.connection import authenticate
        from stem.socket import ControlPort

        control = ControlPort(LOOPBACK, self.control_port)
        try:
            authenticate(control)
            control.send(line)
            return str(control.recv())
        finally:
            control.close()

    def wait_bootstrapped(self, timeout: float = BOOTSTRAP_TIMEOUT_S) -> float:
        """Wait until tor says ``Bootstrapped 100%``; return the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"tor {self.name} exited:\n{self.tail()}")
            if self.log.exists() and "Bootstrapped 100%" in self.log.read_text(errors="replace"):
                return time.monotonic() - started
            time.sleep(0.2)
        raise TimeoutError(f"tor {self.name} did not bootstrap in {timeout:.0f} s:\n{self.tail()}")

    def newnym(self) -> None:
        """Ask for new circuits (``SIGNAL NEWNYM``), e.g. between retries of an onion fetch."""
        reply = self.command("SIGNAL NEWNYM")
        if not reply.startswith("OK"):
            raise RuntimeError(f"tor {self.name} refused NEWNYM: {reply}")

    def socks_reply(self, host: str, port: int = 80, timeout: float = 60.0) -> int:
        """Ask this tor's SOCKS port to connect to ``host:port`` (by name, as ``socks5h``
        does) and return the SOCKS5 reply code: 0 connected, 0xF4 an onion needs a client
        key this tor lacks, 0xF5 the key it has is refused, 0xF0 no descriptor found…"""
        for attempt in range(3):
            try:
                return self._socks_reply(host, port, timeout)
            except ConnectionError:  # a reset at the greeting, seen on a loaded machine
                if attempt == 2:
                    raise
                time.sleep(1.0)
        raise AssertionError("unreachable")

    def _socks_reply(self, host: str, port: int, timeout: float) -> int:
        with socket.create_connection((LOOPBACK, self.socks_port), timeout=timeout) as sock:
            sock.sendall(b"\x05\x01\x00")
            if sock.recv(2) != b"\x05\x00":
                raise RuntimeError(f"tor {self.name}: unexpected SOCKS greeting")
            name = host.encode("ascii")
            sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + port.to_bytes(2, "big"))
            reply = sock.recv(4)
            if len(reply) < 2:
                raise RuntimeError(f"tor {self.name}: SOCKS connection closed")
            return reply[1]

    def tail(self, lines: int = 30) -> str:
        """The last lines of this tor's log and stdout, for failure messages."""
        text = ""
        for path in (self.log, self.folder / "stdout.log"):
            if path.exists():
                text += "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text

    def __enter__(self) -> TorNode:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class TorNetwork:
    """Three authorities, three relays (two exits) and one client tor, under ``root``."""

    def __init__(self, root: Path):
        self.root = root
        self.nodes: list[TorNode] = []
        self._dir_authorities: list[str] = []
        self._extra = 0
        self.ready_s = 0.0
        self.client: TorNode

    def torrc_lines(self) -> list[str]:
        """The torrc lines a tor must have to join this network (client or onion host)."""
        return [
            "TestingTorNetwork 1",
            "TestingDirAuthVoteHSDir *",
            *self._dir_authorities,
        ]

    def start(self) -> float:
        """Make keys, start every node, wait for the client to bootstrap; return the seconds."""
        started = time.monotonic()
        authorities = [self._authority(f"auth{i}") for i in range(3)]
        # The DirAuthority lines are known only once every authority has its keys.
        for authority, ports in authorities:
            lines = [
                *_COMMON,
                *self._dir_authorities,
                "Address 127.0.0.1",
                f"ORPort {LOOPBACK}:{ports[0]}",
                f"DirPort {LOOPBACK}:{ports[1]}",
                "AuthoritativeDirectory 1",
                "V3AuthoritativeDirectory 1",
                "ContactInfo tainik-tests@localhost",
                "ExitPolicy reject *:*",
            ]
            self.nodes.append(TorNode(authority.name, authority, lines))
        for i in range(3):
            exit_policy = "ExitPolicy accept *:*" if i < 2 else "ExitPolicy reject *:*"
            lines = [
                *_COMMON,
                *self._dir_authorities,
                "Address 127.0.0.1",
                f"ORPort {LOOPBACK}:{free_port()}",
                exit_policy,
                "ExitRelay 1" if i < 2 else "ExitRelay 0",
                "ContactInfo tainik-tests@localhost",
            ]
            self.nodes.append(TorNode(f"relay{i}", self.root / f"relay{i}", lines))
        self.client = TorNode(
            "client", self.root / "client", self.torrc_lines(), socks_port=free_port()
        )
        self.nodes.append(self.client)
        try:
            for node in self.nodes:
                node.start()
            self.client.wait_bootstrapped()
        except BaseException:
            self.stop()
            raise
        self.ready_s = time.monotonic() - started
        return self.ready_s

    def _authority(self, name: str) -> tuple[Path, tuple[int, int]]:
        """Make an authority's v3 keys and relay identity; add its ``DirAuthority`` line."""
        folder = self.root / name
        keys = folder / "data" / "keys"
        keys.mkdir(parents=True)
        (folder / "data").chmod(0o700)
        or_port, dir_port = free_port(), free_port()
        subprocess.run(
            [
                TOR_GENCERT,
                "--create-identity-key",
                "-m",
                "12",
                "-a",
                f"{LOOPBACK}:{dir_port}",
                "-i",
                str(keys / "authority_identity_key"),
                "-s",
                str(keys / "authority_signing_key"),
                "-c",
                str(keys / "authority_certificate"),
                "--passphrase-fd",
                "0",
            ],
            input=b"\n",
            capture_output=True,
            check=True,
        )
        certificate = (keys / "authority_certificate").read_text()
        v3ident = re.search(r"^fingerprint (\w+)", certificate, re.MULTILINE)
        assert v3ident is not None, certificate
        # The relay identity key (and its fingerprint) is made by tor itself.
        listed = subprocess.run(
            [
                TOR,
                "--defaults-torrc",
                str(_empty_file(folder)),
                "-f",
                str(_empty_file(folder)),
                "--list-fingerprint",
                "--DataDirectory",
                str(folder / "data"),
                "--ORPort",
                str(or_port),
                "--DirAuthority",
                f"placeholder 127.0.0.1:1 {'0' * 40}",
                "--TestingTorNetwork",
                "1",
                "--Log",
                "err stderr",
            ],
            capture_output=True,
            check=True,
            text=True,
        )
        fingerprint = (folder / "data" / "fingerprint").read_text().split()[1]
        assert re.fullmatch(r"[0-9A-F]{40}", fingerprint), listed.stdout + listed.stderr
        self._dir_authorities.append(
            f"DirAuthority {name} orport={or_port} no-v2 v3ident={v3ident.group(1)} "
            f"{LOOPBACK}:{dir_port} {fingerprint}"
        )
        return folder, (or_port, dir_port)

    def start_client(
        self, name: str | None = None, auth_dir: Path | None = None, *, wait: bool = True
    ) -> TorNode:
        """Start one more client tor with its own SOCKS port, bootstrapped when returned
        (unless ``wait`` is false: then call its ``wait_bootstrapped`` yourself, e.g. after
        starting several at once).

        ``auth_dir`` becomes its ``ClientOnionAuthDir``: a folder of ``*.auth_private`` files
        (``<address without .onion>:descriptor:x25519:<key>``), the keys that let it reach
        onion services behind client authorization. Use it as a context manager (stops it).
        """
        self._extra += 1
        name = name or f"extra{self._extra}"
        lines = self.torrc_lines()
        if auth_dir is not None:
            auth_dir.chmod(0o700)
            lines.append(f"ClientOnionAuthDir {auth_dir}")
        node = TorNode(name, self.root / f"{name}-{self._extra}", lines, socks_port=free_port())
        self.nodes.append(node)
        node.start()
        if wait:
            try:
                node.wait_bootstrapped()
            except BaseException:
                node.stop()
                raise
        return node

    def pids(self) -> list[int]:
        """PIDs of the tors still running."""
        return [node.pid for node in self.nodes if node.pid is not None]

    def stop(self) -> None:
        """Stop every tor of the network by its PID (the extra clients too)."""
        for node in reversed(self.nodes):
            with contextlib.suppress(OSError):
                node.stop()


@contextlib.contextmanager
def running_network(root: Path) -> Iterator[TorNetwork]:
    """A started :class:`TorNetwork` under ``root``, stopped on the way out."""
    network = TorNetwork(root)
    try:
        network.start()
        yield network
    finally:
        network.stop()


@pytest.fixture(scope="session")
def tor_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TorNetwork]:
    """The private Tor network of this test session: built on first use, stopped at the end.

    Building it takes about 15 s (its client is bootstrapped when the fixture returns); an onion
    service published on it answers some seconds after its descriptor is uploaded.
    """
    if not (Path(TOR).exists() and Path(TOR_GENCERT).exists()):
        pytest.fail("tor or tor-gencert is missing: run 'make setup' (Debian packages tor)")
    with running_network(tmp_path_factory.mktemp("tornet")) as network:
        yield network


def get_through_tor(
    client: TorNode, url: str, timeout: float = 60.0, **kwargs: Any
) -> httpx.Response:
    """GET ``url`` through ``client``'s SOCKS port, retrying with NEWNYM until it answers.

    An onion service's first fetches can fail while its descriptor spreads and circuits are
    built. Each try first asks tor for the connection itself (:meth:`TorNode.socks_reply`),
    so that httpx only runs once tor can reach the host (httpx leaves its socket unclosed
    when a SOCKS handshake fails). Raises after ``timeout`` with the last SOCKS reply.
    """
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "", parts.port or 80
    deadline = time.monotonic() + timeout
    while True:
        reply = client.socks_reply(host, port)
        if reply == 0:
            try:
                return httpx.get(url, proxy=client.socks_url, timeout=30.0, **kwargs)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            finally:
                _forget_leaked_sockets()
        elif time.monotonic() > deadline:
            raise TimeoutError(f"{host}:{port} unreachable through tor {client.name}: "
                               f"SOCKS reply {reply:#04x}")  # fmt: skip
        client.newnym()
        time.sleep(1.0)


def _forget_leaked_sockets() -> None:
    """Collect sockets a failed httpx SOCKS handshake left open, without the ResourceWarning
    (its bug, not the code under test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def join_instance(data_dir: Path, network: TorNetwork, **tor: object) -> None:
    """Turn on ``[tor]`` in a Tainik instance's ``tainik.toml`` so that ``tainik serve``
    publishes its onion services on ``network`` (its ``torrc_lines``); ``tor`` sets more keys
    of ``[tor]`` (e.g. ``binary``)."""
    from tainik.config import CONFIG_NAME, set_key

    path = data_dir / CONFIG_NAME
    text = set_key(path.read_text(encoding="utf-8"), "tor", "enabled", True)
    text = set_key(text, "tor", "binary", TOR)
    text = set_key(text, "tor", "torrc_lines", network.torrc_lines())
    for key, value in tor.items():
        text = set_key(text, "tor", key, value)  # type: ignore[arg-type]
    path.write_text(text, encoding="utf-8")


def published_onions(
    stdout: Callable[[], str], alive: Callable[[], bool], timeout: float = 120.0, after: int = 0
) -> tuple[str, str]:
    """Wait for ``tainik serve`` to print its two onion addresses; ``(source, newsroom)`` as
    ``http://ADDRESS.onion`` (no trailing slash). ``stdout`` reads what the server printed so
    far (only the part after ``after`` characters counts: a restart appends)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = stdout()[after:]
        found = dict(re.findall(r"^(source|newsroom) onion:\s+(http://[a-z2-7]{56}\.onion)/$",
                                text, re.MULTILINE))  # fmt: skip
        if len(found) == 2:
            return found["source"], found["newsroom"]
        if not alive():
            raise RuntimeError(f"tainik serve exited before publishing:\n{text}")
        time.sleep(0.2)
    raise TimeoutError(f"tainik serve did not publish in {timeout:.0f} s:\n{stdout()[after:]}")
