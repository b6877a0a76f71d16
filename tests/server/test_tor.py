"""`tainik serve` publishes its own onion services, through a real tor on the private Tor
network of the tests (tests/tornet.py), and the newsroom's answers only to staff keys (issue
17). One server for the module; the private network is the session's."""

from __future__ import annotations

import os
import re
import secrets
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import run_cli
from live_server import LiveServer, free_port, make_instance, port_open, tainik_cli
from tornet import TorNetwork, TorNode, get_through_tor, join_instance, published_onions

# Sent with every request through Tor: must appear in no file of the server afterwards.
CANARY_AGENT = f"canary-agent-{secrets.token_hex(8)}"


@dataclass
class OnionServer:
    server: LiveServer
    data_dir: Path
    source: str
    newsroom: str
    keys: dict[str, str]  # staff name -> .auth_private line


def _add_staff(data_dir: Path, name: str) -> str:
    made = run_cli(["users", "add", name, "--data", str(data_dir)])
    assert made.code == 0, made.stderr
    line = re.search(r"^\.auth_private line:\s+(\S+)$", made.stdout, re.MULTILINE)
    assert line is not None, made.stdout
    return line.group(1)


@pytest.fixture(scope="module")
def onion_server(
    tor_network: TorNetwork, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OnionServer]:
    root = tmp_path_factory.mktemp("onion-server")
    data_dir, _identity, _recipient = make_instance(root)
    join_instance(data_dir, tor_network)
    keys = {name: _add_staff(data_dir, name) for name in ("alice", "bob")}
    server = LiveServer(data_dir, root / "logs", start_timeout=60.0)
    server.start()
    try:
        source, newsroom = published_onions(server.stdout_text, lambda: server.running)
        yield OnionServer(server, data_dir, source, newsroom, keys)
    finally:
        server.stop()


def _staff_client(network: TorNetwork, tmp_path: Path, who: OnionServer, name: str) -> TorNode:
    folder = tmp_path / f"{name}-keys"
    folder.mkdir()
    (folder / f"{name}.auth_private").write_text(who.keys[name] + "\n")
    return network.start_client(name, auth_dir=folder, wait=False)


# 0xF4: the onion needs client authorization and this tor has no key for it; 0xF5: this
# tor's key is not among the authorized ones.
CLIENT_AUTH_REFUSED = {0xF4, 0xF5}


def _shut_out(client: TorNode, onion_url: str, tries: int = 5) -> list[int]:
    """The SOCKS replies of attempts to reach the onion of ``onion_url`` (each after NEWNYM,
    which also forgets cached descriptors, once tor performs it), until tor says the client
    key is missing or refused; a 0 among them means the onion was reached."""
    host = onion_url.removeprefix("http://").split("/")[0]
    replies = []
    for _ in range(tries):
        client.newnym()
        replies.append(client.socks_reply(host))
        if replies[-1] in CLIENT_AUTH_REFUSED:
            break
        time.sleep(2.0)
    return replies


def test_source_onion_answers_through_tor(
    tor_network: TorNetwork, onion_server: OnionServer
) -> None:
    page = get_through_tor(
        tor_network.client, onion_server.source + "/", headers={"User-Agent": CANARY_AGENT}
    )
    assert page.status_code == 200
    assert 'name="codename"' in page.text or "codename" in page.text.lower()
    assert onion_server.source != onion_server.newsroom


def test_newsroom_onion_needs_the_staff_members_own_key_and_not_after_deactivation(
    tor_network: TorNetwork, onion_server: OnionServer, tmp_path: Path
) -> None:
    login = onion_server.newsroom + "/login"
    # Without a key: the client cannot even decrypt the descriptor (SOCKS error 0xF4).
    assert _shut_out(tor_network.client, login) == [0xF4]
    # Added while the server runs: the running tor reloads the keys and lets carol in.
    onion_server.keys["carol"] = _add_staff(onion_server.data_dir, "carol")
    with (
        _staff_client(tor_network, tmp_path, onion_server, "alice") as alice,
        _staff_client(tor_network, tmp_path, onion_server, "bob") as bob,
        _staff_client(tor_network, tmp_path, onion_server, "carol") as carol,
    ):
        for client in (alice, bob, carol):
            client.wait_bootstrapped()
        answer = get_through_tor(alice, login, headers={"User-Agent": CANARY_AGENT})
        assert answer.status_code == 200
        assert get_through_tor(bob, login).status_code == 200
        assert get_through_tor(carol, login).status_code == 200
        # Deactivated from the command line while the server runs: its tor reloads the keys.
        done = subprocess.run(
            tainik_cli("users", "deactivate", "alice", "--data", str(onion_server.data_dir)),
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        # Her open circuits are cut too: not one more connection, then tor says her key is
        # refused (0xF5) once it holds the new descriptor.
        replies = _shut_out(alice, login)
        assert 0 not in replies
        assert replies[-1] in CLIENT_AUTH_REFUSED, replies
        # Bob's key still opens it: the reload took one key back, not the service.
        bob.newnym()
        assert get_through_tor(bob, login).status_code == 200


def test_the_servers_tor_keeps_nothing_of_clients(onion_server: OnionServer) -> None:
    files = onion_server.data_dir / "tor"
    torrc = (files / "torrc").read_text()
    assert "SafeLogging 1" in torrc
    assert re.search(r"^SafeLogging 0", torrc, re.M) is None
    logs = [line for line in torrc.splitlines() if line.startswith("Log ")]
    assert logs == ["Log notice stdout"]  # notices to our log only; no file, no info/debug
    on_disk = [p for p in onion_server.data_dir.rglob("*") if p.is_file()]
    assert not [p for p in on_disk if p.suffix == ".log"]
    everything = b"".join(p.read_bytes() for p in on_disk) + onion_server.server.log_text().encode()
    assert CANARY_AGENT.encode() not in everything
    # Every address in what the server logged is loopback (the whole network runs there).
    # (Tor's version, 0.4.9.x, looks like one and is no client's.)
    found = set(re.findall(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", onion_server.server.log_text()))
    assert {ip for ip in found if not ip.startswith("0.")} <= {"127.0.0.1"}, found
    for service in ("source", "newsroom"):
        secret = files / service / "hs_ed25519_secret_key"
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert stat.S_IMODE((files / service).stat().st_mode) == 0o700


def test_addresses_survive_a_restart_and_tor_stops_with_the_server(
    tor_network: TorNetwork, onion_server: OnionServer
) -> None:
    server = onion_server.server
    tor_pid = int((onion_server.data_dir / "tor" / "tor.pid").read_text())
    printed = len(server.stdout_text())
    server.kill(signal.SIGKILL)  # no goodbye: tor must notice its owner is gone
    deadline = time.monotonic() + 20
    while _running(tor_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _running(tor_pid), "the server's tor outlived the server"
    server.start()
    again = published_onions(server.stdout_text, lambda: server.running, after=printed)
    assert again == (onion_server.source, onion_server.newsroom)
    shown = subprocess.run(
        tainik_cli("onion", "show", "--data", str(onion_server.data_dir)),
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"{onion_server.source}/" in shown.stdout
    assert f"{onion_server.newsroom}/" in shown.stdout
    assert get_through_tor(tor_network.client, onion_server.source + "/").status_code == 200
    # Stopped in order (SIGTERM, as systemd does): the server takes its tor down with it.
    tor_pid = int((onion_server.data_dir / "tor" / "tor.pid").read_text())
    assert _running(tor_pid)
    server.stop()
    assert not _running(tor_pid)
    assert not (onion_server.data_dir / "tor" / "control-port").exists()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose (its parent, the killed server, is gone too).
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def tor_less_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance whose [tor] each test below rewrites (not joined to any network: tor never
    gets as far as needing one)."""
    data_dir, _identity, _recipient = make_instance(tmp_path_factory.mktemp("tor-less"))
    return data_dir


@pytest.mark.parametrize(
    ("tor", "said"),
    [
        ({"binary": "/nonexistent/tor"}, "Tor is not installed: '/nonexistent/tor' was not found"),
        ({"torrc_lines": ["NoSuchTorOption 1"]}, "Tor stopped while starting"),
        ({"torrc_lines": ["SafeLogging 0"]}, "SafeLogging must stay 1"),
    ],
    ids=["missing-binary", "bad-torrc", "refused-torrc"],
)
def test_no_tor_means_nothing_served_and_a_reason(
    tor_less_instance: Path, tor: dict[str, object], said: str
) -> None:
    from tainik.config import CONFIG_NAME, set_key

    path = tor_less_instance / CONFIG_NAME
    text = set_key(path.read_text(), "tor", "enabled", True)
    text = set_key(text, "tor", "binary", "/usr/sbin/tor")
    text = set_key(text, "tor", "torrc_lines", [])
    for key, value in tor.items():
        text = set_key(text, "tor", key, value)  # type: ignore[arg-type]
    path.write_text(text)
    ports = free_port(), free_port()
    served = subprocess.run(
        tainik_cli(
            "serve",
            "--data",
            str(tor_less_instance),
            "--source-port",
            str(ports[0]),
            "--newsroom-port",
            str(ports[1]),
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert served.returncode == 5, served.stderr  # ExitCode.IO
    assert said in served.stderr
    if "NoSuchTorOption" in str(tor):
        assert "NoSuchTorOption" in served.stderr  # tor's own words on what is wrong
    assert "onion:" not in served.stdout
    assert "interface:" not in served.stdout
    assert not port_open("127.0.0.1", ports[0])
    assert not port_open("127.0.0.1", ports[1])
