"""Starting the server's tor and talking to it over its control port: the only module that
imports ``stem``.

:func:`publish` writes the torrc, starts tor, and returns only once tor has bootstrapped and
uploaded the descriptors of *both* onion services (``HS_DESC UPLOADED``); if tor is missing,
exits, or cannot publish in time, it stops tor and raises :class:`TorError` saying why, so
the server never runs half-published. Tor's notices are passed to our log, never written to
a file. :func:`reload_running` asks a running tor to read its files again (a staff key added
or removed), from the server or from the command line.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from typing import IO, Any

from stem import SocketError
from stem.connection import authenticate
from stem.control import Controller, EventType
from stem.socket import ControlPort

from tainik.core.errors import N_, TorError
from tainik.core.tor_settings import TorSettings
from tainik.sealed import durable
from tainik.tor import access
from tainik.tor.layout import SERVICES, OnionAddresses, TorFiles
from tainik.tor.torrc import torrc_text

log = logging.getLogger("tainik.tor")

STOP_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0
_PORT_LINE = re.compile(r"PORT=([0-9.]+):(\d+)")


class _Output:
    """Tor's standard output, passed line by line to our log; the last lines kept to say why
    tor failed."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.last: collections.deque[str] = collections.deque(maxlen=8)
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip()
            # Drop tor's own timestamp: our log has one.
            line = re.sub(r"^\w{3} \d{2} [\d:.]+ ", "", line)
            self.last.append(line)
            log.info("tor: %s", line)

    def why(self) -> str:
        """Tor's last warnings or errors (else its last lines), for an error message."""
        lines = list(self.last)
        bad = [line for line in lines if "[warn]" in line or "[err]" in line]
        return " / ".join(bad[-3:] or lines[-3:]) or "no message"


class RunningTor:
    """The server's tor, publishing both onion services. Stop it with :meth:`stop`."""

    def __init__(
        self, files: TorFiles, process: subprocess.Popen[bytes], addresses: OnionAddresses
    ) -> None:
        self.files = files
        self.process = process
        self.addresses = addresses
        self.controller: Any = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """Stop tor (SIGTERM, then SIGKILL) and forget its control port."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.controller is not None:
            # stem's close joins its event thread, which can be stuck on a lock close holds
            # (after a SIGHUP notice): close in the background, wait a little, go on.
            closing = threading.Thread(target=self.controller.close, daemon=True)
            closing.start()
            closing.join(2.0)
            self.controller = None
        for path in (self.files.control_port_file, self.files.control_cookie):
            with contextlib.suppress(OSError):
                path.unlink()


def find_tor(binary: str) -> str:
    """The tor program's path, or a :class:`TorError` that says how to get it."""
    # Debian installs tor in /usr/sbin, which a plain user's PATH often lacks.
    found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin")
    if found is None:
        raise TorError(
            N_(
                "Tor is not installed: '{binary}' was not found. Install it "
                "(apt-get install tor) or name the program in [tor] binary in tainik.toml"
            ),
            binary=binary,
        )
    return found


def publish(
    files: TorFiles, settings: TorSettings, targets: Mapping[str, tuple[str, int]]
) -> RunningTor:
    """Start tor and publish both onion services (``targets``: service → listener address).

    Returns once both descriptors are uploaded; otherwise stops tor and raises.
    """
    program = find_tor(settings.binary)
    logging.getLogger("stem").setLevel(logging.WARNING)  # stem logs every command at DEBUG
    addresses = files.prepare()
    access.keep_locked(files)
    text = torrc_text(files, settings, targets, os.getpid())
    durable.replace_file(files.torrc, text.encode("utf-8"))
    empty = files.root / "torrc-defaults"
    if not empty.exists():
        durable.replace_file(empty, b"")
    with contextlib.suppress(FileNotFoundError):
        files.control_port_file.unlink()
    try:
        process = subprocess.Popen(
            [program, "--defaults-torrc", str(empty), "-f", str(files.torrc)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the terminal's Ctrl-C reaches us; we stop tor after
        )
    except OSError as exc:
        raise TorError(
            N_("Tor did not start ({program}): {reason}"),
            program=program,
            reason=exc.strerror or str(exc),
        ) from exc
    assert process.stdout is not None
    output = _Output(process.stdout)
    running = RunningTor(files, process, addresses)
    try:
        _await_publication(running, output, settings.publish_timeout_seconds)
    except BaseException:
        running.stop()
        raise
    return running


def _await_publication(running: RunningTor, output: _Output, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    wanted = {getattr(running.addresses, s).removesuffix(".onion"): s for s in SERVICES}
    uploaded: set[str] = set()
    failed: list[str] = []
    changed = threading.Event()

    def on_hs_desc(event: Any) -> None:
        if event.address in wanted:
            if event.action == "UPLOADED":
                uploaded.add(event.address)
            elif event.action == "FAILED":
                failed.append(str(event.reason or "unknown"))
            changed.set()

    def alive() -> None:
        if running.process.poll() is not None:
            raise TorError(
                N_("Tor stopped while starting (exit status {status}): {why}"),
                status=running.process.returncode,
                why=output.why(),
            )

    port = None
    while port is None:
        alive()
        port = _control_port(running.files)
        if port is None:
            _before(deadline, output)
            time.sleep(0.1)
    controller = Controller.from_port(port[0], port[1])
    running.controller = controller
    controller.authenticate()
    controller.msg("TAKEOWNERSHIP")  # tor exits when this connection closes: when we do
    controller.add_event_listener(on_hs_desc, EventType.HS_DESC)
    while len(uploaded) < len(wanted):
        alive()
        _before(deadline, output, failed)
        changed.wait(0.5)
        changed.clear()
    log.info(
        "onion services published: source %s, newsroom %s",
        running.addresses.source,
        running.addresses.newsroom,
    )


def _before(deadline: float, output: _Output, failed: list[str] | None = None) -> None:
    if time.monotonic() > deadline:
        raise TorError(
            N_(
                "Tor could not publish both onion services in time ([tor] "
                "publish_timeout_seconds): {why}"
            ),
            why=("descriptor uploads failed: " + ", ".join(failed[-3:]))
            if failed
            else output.why(),
        )


def _control_port(files: TorFiles) -> tuple[str, int] | None:
    """The address tor wrote to ``control-port``, or None while there is none."""
    try:
        match = _PORT_LINE.search(files.control_port_file.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError):
        return None
    return (match.group(1), int(match.group(2))) if match else None


def reload_running(files: TorFiles, cut: str | None = None) -> bool:
    """Ask the instance's running tor, if there is one, to read its files again (``SIGNAL
    RELOAD``): a staff key added or removed takes effect at once. Whether one was told.

    With ``cut`` (an onion address), also close that service's rendezvous circuits: tor keeps
    the open connections of a client whose key was just taken back, so every client of the
    service reconnects, and only those whose key still decrypts its new descriptor get back.
    """
    port = _control_port(files)
    if port is None:
        return False
    # A bare control socket, not a Controller: a Controller's event thread answers tor's
    # SIGHUP notice and deadlocks its own close (stem 1.8.2).
    try:
        control = ControlPort(port[0], port[1])
    except (SocketError, OSError) as exc:
        log.info("no running tor to reload (%s)", exc)
        return False
    try:
        authenticate(control)
        _ask(control, "SIGNAL RELOAD")
        if cut is not None:
            query = f"REND_QUERY={cut.removesuffix('.onion')}"
            status = _ask(control, "GETINFO circuit-status")
            for line in status.splitlines():
                words = line.removeprefix("circuit-status=").split()
                if words and "PURPOSE=HS_SERVICE_REND" in words and query in words:
                    _ask(control, f"CLOSECIRCUIT {words[0]}", missing_ok=True)
    except TorError:
        raise
    except Exception as exc:  # stem's authentication errors have no common base with these
        raise TorError(
            N_("The running tor refused to read the staff keys again: {reason}"),
            reason=str(exc),
        ) from exc
    finally:
        control.close()
    return True


def _ask(control: ControlPort, command: str, *, missing_ok: bool = False) -> str:
    control.send(command)
    reply = control.recv()
    # 552: the circuit closed meanwhile.
    if not reply.is_ok() and not (missing_ok and str(reply).startswith("Unknown circuit")):
        raise TorError(
            N_("The running tor refused to read the staff keys again: {reason}"),
            reason=f"{command}: {reply}",
        )
    return str(reply)
