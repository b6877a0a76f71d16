"""A real ``tainik serve`` process for end-to-end tests (browser and HTTP alike).

Import it as ``from live_server import LiveServer, make_instance`` (``tests/`` is on
``sys.path`` the same way ``from conftest import run_cli`` works).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import pytest

import backends

LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether a TCP connection to ``host:port`` is accepted."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tainik_cli(*args: str) -> list[str]:
    """The argv that runs ``tainik ARGS`` with this interpreter, as a separate process."""
    return [sys.executable, "-m", "tainik", *args]


def make_instance(
    tmp_path: Path, name: str = "instance", backend: str | None = None
) -> tuple[Path, Path, str]:
    """Make an organisation key and a server instance under ``tmp_path``.

    Runs ``tainik keys new --no-passphrase`` and ``tainik init --data DIR --recipient R``
    as subprocesses, then points the instance at ``backend`` (default: the ``--backend``
    option; ``pg`` is PostgreSQL + SeaweedFS, tests/backends.py). Returns
    ``(data_dir, identity_file, recipient)``.
    """
    identity_file = tmp_path / f"{name}.key"
    data_dir = tmp_path / name
    keys = subprocess.run(
        tainik_cli("keys", "new", "--out", str(identity_file), "--no-passphrase"),
        capture_output=True,
        text=True,
        check=False,
    )
    if keys.returncode != 0:
        pytest.fail(f"tainik keys new failed ({keys.returncode}):\n{keys.stderr}")
    recipient = keys.stdout.strip()
    init = subprocess.run(
        tainik_cli("init", "--data", str(data_dir), "--recipient", recipient),
        capture_output=True,
        text=True,
        check=False,
    )
    if init.returncode != 0:
        pytest.fail(f"tainik init failed ({init.returncode}):\n{init.stdout}{init.stderr}")
    backends.use_backend(data_dir, backend)
    return data_dir, identity_file, recipient


class LiveServer:
    """``tainik serve --data DIR`` on two free loopback ports, logs captured to files.

    The process's stdout and stderr go to ``LOG_DIR/server.stdout.log`` and
    ``LOG_DIR/server.stderr.log`` (appended across restarts), so that tests can check what the
    server logs (no IP address, user agent or codename). The ports stay the same across
    :meth:`restart`. Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        data_dir: Path,
        log_dir: Path,
        *,
        host: str = LOOPBACK,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        start_timeout: float = START_TIMEOUT_S,
    ) -> None:
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.host = host
        self.extra_args = tuple(extra_args)
        self.env = dict(env) if env is not None else None
        self.start_timeout = start_timeout
        self.source_port = free_port(host)
        self.newsroom_port = free_port(host)
        while self.newsroom_port == self.source_port:
            self.newsroom_port = free_port(host)
        self.stdout_path = log_dir / "server.stdout.log"
        self.stderr_path = log_dir / "server.stderr.log"
        self.process: subprocess.Popen[bytes] | None = None

    # -- addresses and logs -------------------------------------------------------------

    @property
    def source_url(self) -> str:
        """Base URL of the source interface, without a trailing slash."""
        return f"http://{self.host}:{self.source_port}"

    @property
    def newsroom_url(self) -> str:
        """Base URL of the newsroom interface, without a trailing slash."""
        return f"http://{self.host}:{self.newsroom_port}"

    def argv(self) -> list[str]:
        """The command line of the server process."""
        return tainik_cli(
            "serve",
            "--data",
            str(self.data_dir),
            "--host",
            self.host,
            "--source-port",
            str(self.source_port),
            "--newsroom-port",
            str(self.newsroom_port),
            *self.extra_args,
        )

    def stdout_text(self) -> str:
        """Everything the server wrote to stdout so far (all runs)."""
        return _read(self.stdout_path)

    def stderr_text(self) -> str:
        """Everything the server wrote to stderr so far (all runs)."""
        return _read(self.stderr_path)

    def log_text(self) -> str:
        """Everything the server wrote to stdout and then stderr so far (all runs)."""
        return self.stdout_text() + self.stderr_text()

    # -- life cycle -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the server process exists and has not exited."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> LiveServer:
        """Start the process and wait until both ports accept connections."""
        if self.running:
            raise RuntimeError("the server is already running")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.process = subprocess.Popen(
                self.argv(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                start_new_session=True,  # its own process group: kill() reaches any workers
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        pending = {self.source_port, self.newsroom_port}
        while pending:
            code = self.process.poll()
            if code is not None:
                pytest.fail(
                    f"tainik serve exited with {code} before listening\n"
                    f"argv: {self.argv()}\n--- log ---\n{self.log_text()}"
                )
            pending = {port for port in pending if not port_open(self.host, port)}
            if not pending:
                return
            if time.monotonic() > deadline:
                self.kill(signal.SIGKILL)
                pytest.fail(
                    f"tainik serve did not listen on port(s) {sorted(pending)} within "
                    f"{self.start_timeout:.0f} s\n--- log ---\n{self.log_text()}"
                )
            time.sleep(0.05)

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> int | None:
        """Send ``sig`` to the server's process group and wait for it to exit.

        Returns the exit status (negative for a signal, as in :mod:`subprocess`), or ``None``
        when nothing was running.
        """
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                return process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                pytest.fail(
                    f"tainik serve ignored {sig.name} for {STOP_TIMEOUT_S:.0f} s\n"
                    f"--- log ---\n{self.log_text()}"
                )
        return process.returncode

    def stop(self) -> int | None:
        """Stop the server gracefully (SIGTERM, then wait); returns its exit status."""
        return self.kill(signal.SIGTERM)

    def restart(self, sig: signal.Signals = signal.SIGTERM) -> LiveServer:
        """Stop the server with ``sig`` (if running) and start it again on the same ports."""
        self.kill(sig)
        return self.start()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill(signal.SIGTERM)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
