"""``tainik send`` and ``tainik pull`` and Tor, without a Tor network (tests/tor: with one).

An ``.onion`` server without ``--proxy`` is refused before any name is looked up or any
connection tried; a Tor proxy that is not running, or that cannot reach the onion service, is
said so in words, quickly, instead of half an hour of silent retries. The proxy that answers as
Tor does (its onion reply codes) is tests/socks5.py's: the one thing these tests fake is Tor.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from socks5 import Socks5Proxy
from tainik.socks import (
    OnionRefusedError,
    OnionUnreachableError,
    ProxyDownError,
    probe,
)

ONION = "http://" + "a" * 56 + ".onion"
CODENAME = "acorn blade cider dune ember fable gusto\n"

# Runs tainik with an audit hook that records every name lookup and connection the process
# makes (Python's socket module raises these events for getaddrinfo, gethostbyname and
# connect, whichever library calls them), printed on standard output at exit.
WATCHED = textwrap.dedent(
    """
    import atexit, sys
    seen = []
    EVENTS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
              "socket.connect"}
    def hook(event, args):
        if event in EVENTS:
            seen.append(event + " " + repr(args[1] if event == "socket.connect" else args[0]))
    sys.addaudithook(hook)
    atexit.register(lambda: print("NETWORK:", seen))
    from tainik.cli.main import main
    sys.exit(main(sys.argv[1:]))
    """
)


def closed_port() -> int:
    """A loopback port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def command(kind: str, tmp_path: Path, server: str, *extra: str) -> list[str]:
    """``tainik send`` or ``tainik pull`` of something small to ``server``."""
    (tmp_path / "note.txt").write_text("x")
    (tmp_path / "codename.txt").write_text(CODENAME)
    (tmp_path / "token").write_text("t" * 43 + "\n")
    tail = (
        ["--codename-file", "codename.txt", "note.txt"]
        if kind == "send"
        else ["--token-file", "token", "--out", "pulled"]
    )
    return [kind, "--server", server, *tail, *extra]


def run(
    argv: list[str], tmp_path: Path, language: str = "en", timeout: float = 60
) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "LANGUAGE": language, "LC_ALL": "C.UTF-8"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", WATCHED, *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
        env=env,
    )
    return done, time.monotonic() - started


@pytest.mark.parametrize("kind", ["send", "pull"])
@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_onion_without_a_proxy_is_refused_before_any_lookup(
    kind: str, language: str, tmp_path: Path
) -> None:
    """Before: ``send`` asked the system's DNS for the .onion name, then retried in silence
    for 30 minutes."""
    done, seconds = run(command(kind, tmp_path, ONION), tmp_path, language)
    assert done.returncode == 2, done.stderr
    assert "NETWORK: []" in done.stdout, done.stdout  # no lookup, no connection at all
    assert seconds < 20
    assert "socks5h://127.0.0.1:9150" in done.stderr
    assert "socks5h://127.0.0.1:9050" in done.stderr
    if language == "ru":
        assert "только через Tor" in done.stderr, done.stderr
    else:
        assert "is an onion service: it is reached only through Tor" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_saved_pull_login_without_a_proxy_is_refused_too(tmp_path: Path) -> None:
    """``pull login`` checks the route before it asks for the password."""
    done, _ = run(
        ["pull", "login", "--server", ONION, "--user", "jo", "--password-stdin"], tmp_path
    )
    assert done.returncode == 2, done.stderr
    assert "NETWORK: []" in done.stdout
    assert "reached only through Tor" in done.stderr


@pytest.mark.parametrize("kind", ["send", "pull"])
def test_a_tor_proxy_that_is_not_running_is_said_at_once(kind: str, tmp_path: Path) -> None:
    """Before: ``send`` retried a refused proxy for 30 minutes, ``pull`` 8 times (minutes),
    each saying only 'ConnectError'."""
    port = closed_port()
    done, seconds = run(
        command(kind, tmp_path, ONION, "--proxy", f"socks5h://127.0.0.1:{port}"), tmp_path
    )
    assert done.returncode == 5, done.stderr
    assert seconds < 20
    assert f"The Tor proxy at 127.0.0.1:{port} does not answer (connection refused)" in (
        done.stderr
    )
    assert "Start Tor Browser" in done.stderr
    assert ".onion" not in done.stdout  # the name was not looked up here: Tor would have


def test_pull_without_the_client_authorization_key_says_so_at_once(tmp_path: Path) -> None:
    """Tor answers 0xF4 when the onion service wants a key it lacks: retrying will not help."""
    with Socks5Proxy(reply=0xF4) as tor:
        done, seconds = run(command("pull", tmp_path, ONION, "--proxy", tor.url), tmp_path)
    assert done.returncode == 2, done.stderr
    assert seconds < 20
    assert "requires client authorization, and this Tor holds no key for it" in done.stderr
    assert ".auth_private" in done.stderr
    assert tor.requests[0] == ("a" * 56 + ".onion", 80, True)  # the name went to Tor


def test_an_onion_tor_cannot_find_is_retried_aloud_then_given_up(tmp_path: Path) -> None:
    """0xF0 (no descriptor) may change: the run says what is wrong before each pause, and
    gives up when --give-up-after is spent."""
    with Socks5Proxy(reply=0xF0) as tor:
        done, seconds = run(
            command("send", tmp_path, ONION, "--proxy", tor.url, "--give-up-after", "4"),
            tmp_path,
        )
    assert done.returncode == 5, done.stderr
    assert seconds < 30
    assert "its descriptor was not found" in done.stderr
    assert "Trying again in" in done.stderr
    assert "run the same command again later" in done.stderr
    assert len(tor.requests) >= 2


def test_russian_messages_for_tor_failures(tmp_path: Path) -> None:
    with Socks5Proxy(reply=0xF5) as tor:
        done, _ = run(command("pull", tmp_path, ONION, "--proxy", tor.url), tmp_path, "ru")
    assert done.returncode == 2, done.stderr
    assert "ключ" in done.stderr, done.stderr
    assert "client authorization" not in done.stderr


def test_probe_reads_tors_reply_codes() -> None:
    name = "b" * 56 + ".onion"
    with Socks5Proxy(reply=0xF4) as tor, pytest.raises(OnionRefusedError) as refused:
        probe(tor.url, name, 80)
    assert "no key" in refused.value.english()
    with Socks5Proxy(reply=0xF7) as tor, pytest.raises(OnionUnreachableError) as waited:
        probe(tor.url, name, 80)
    assert not isinstance(waited.value, OnionRefusedError)
    with pytest.raises(ProxyDownError):
        probe(f"socks5h://127.0.0.1:{closed_port()}", name, 80)
