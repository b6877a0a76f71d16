"""``tainik serve --workers N``: N processes serving the same two listening sockets.

The parent binds the two sockets, runs recovery and housekeeping (cli/server.py), and starts
N workers: each a fresh ``python -m tainik serve`` that inherits the two sockets (their
descriptors named in :data:`WORKER_ENV`) and serves them as a single-process server would
(server/serving.py), its own threads, loops, pools and caps included. The kernel hands each new
connection to whichever worker accepts it first.

No state that matters lives in a worker: sessions, throttles, upload states and the keys of new
sources' cookies are in the database, parts of uploads in the store. So any request may land on
any worker, a worker may be killed at any moment, and the parent starts another in its place
(after :data:`RESTART_PAUSE`, so that one that cannot start does not spin). SIGTERM or SIGINT
to the parent stops every worker gracefully, then the parent; a worker whose parent has gone
stops too.

Workers are started afresh rather than forked, so that none inherits another thread's locks
(the parent's housekeeping thread, the database pool's) in whatever state they were.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from tainik.server.serving import GRACEFUL_SHUTDOWN

log = logging.getLogger("tainik.server")

MAX_WORKERS = 64
WORKER_ENV = "TAINIK_WORKER"  # "SOURCE_FD,NEWSROOM_FD,SEALING_JOBS,PARENT_PID"
RESTART_PAUSE = 1.0  # seconds between a worker's start and its replacement's
POLL = 0.2  # seconds between looks at the workers
STOP_MARGIN = 5.0  # seconds past the graceful shutdown before a worker is killed


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process was given by its parent."""

    source_socket: socket.socket
    newsroom_socket: socket.socket
    sealing_jobs: int
    parent: int

    def orphaned(self) -> bool:
        """True once the parent has gone (the worker is then reparented)."""
        return os.getppid() != self.parent


def inherited() -> WorkerSetup | None:
    """The setup of this process if a ``tainik serve --workers`` parent started it."""
    value = os.environ.pop(WORKER_ENV, None)
    if value is None:
        return None
    source_fd, newsroom_fd, jobs, parent = (int(part) for part in value.split(","))
    return WorkerSetup(
        socket.socket(fileno=source_fd), socket.socket(fileno=newsroom_fd), jobs, parent
    )


class Supervisor:
    """Keep ``count`` workers serving ``sockets`` until SIGTERM or SIGINT."""

    def __init__(
        self, data_dir: Path, sockets: tuple[socket.socket, socket.socket], count: int, jobs: int
    ) -> None:
        self.data_dir = data_dir
        self.sockets = sockets
        self.count = count
        self.jobs = jobs
        self.workers: list[subprocess.Popen[bytes] | None] = [None] * count
        self.started: list[float] = [0.0] * count
        self._stop = threading.Event()

    def _start(self, slot: int) -> None:
        fds = [s.fileno() for s in self.sockets]
        env = dict(os.environ)
        env[WORKER_ENV] = f"{fds[0]},{fds[1]},{self.jobs},{os.getpid()}"
        argv = [sys.executable, "-m", "tainik", "serve", "--data", str(self.data_dir)]
        self.workers[slot] = subprocess.Popen(argv, pass_fds=fds, env=env, stdin=subprocess.DEVNULL)
        self.started[slot] = time.monotonic()
        log.info("worker %d started (pid %d)", slot + 1, self.workers[slot].pid)  # type: ignore[union-attr]

    def _signal(self, _signum: int, _frame: FrameType | None) -> None:
        self._stop.set()

    def run(self) -> None:
        """Start the workers, replace any that exits, and stop them all at a signal."""
        previous = {s: signal.signal(s, self._signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            for slot in range(self.count):
                self._start(slot)
            while not self._stop.wait(POLL):
                self._replace_exited()
        finally:
            self._stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _replace_exited(self) -> None:
        for slot, process in enumerate(self.workers):
            if process is None or process.poll() is None:
                continue
            code = process.returncode
            how = f"signal {-code}" if code < 0 else f"status {code}"
            log.warning(
                "worker %d (pid %d) exited with %s; starting another", slot + 1, process.pid, how
            )
            wait = self.started[slot] + RESTART_PAUSE - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            self._start(slot)

    def _stop_all(self) -> None:
        running = [p for p in self.workers if p is not None and p.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACEFUL_SHUTDOWN + STOP_MARGIN
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker (pid %d) did not stop in time: killed", process.pid)
                process.kill()
                process.wait()
