"""What the benchmarks share: free ports, resident memory of a process tree, a peak sampler,
test files, a served instance and the stock age CLI's baseline."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

MIB = 1024 * 1024
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss(pid: int) -> int:
    """Resident bytes of one process."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def tree_rss(root: int) -> tuple[int, int, int]:
    """Resident bytes of (``root`` itself, the largest process of its tree, the whole tree)."""
    pids, own, largest, total = [root], 0, 0, 0
    while pids:
        pid = pids.pop()
        try:
            size = rss(pid)
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    pids.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
        own = size if pid == root else own
        largest, total = max(largest, size), total + size
    return own, largest, total


class PeakMemory(threading.Thread):
    """Samples a process tree every 20 ms while in a ``with`` block; keeps the peaks."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.own = self.largest = self.tree = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            own, largest, tree = tree_rss(self.pid)
            self.own = max(self.own, own)
            self.largest = max(self.largest, largest)
            self.tree = max(self.tree, tree)
            time.sleep(0.02)

    def __enter__(self) -> PeakMemory:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._done.set()
        self.join()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a running process (all its threads) has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """User plus system CPU seconds of this process's children that have been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def random_file(path: str | os.PathLike[str], size: int) -> None:
    """``size`` bytes of incompressible data (half of each 16 MiB block freshly random)."""
    block = os.urandom(16 * MIB)
    with open(path, "wb") as handle:
        for _ in range(size // len(block)):
            handle.write(block[: len(block) // 2] + os.urandom(len(block) // 2))
        handle.write(os.urandom(size % len(block)))


def stock_age() -> str:
    """The stock age CLI, or exit with how to get it."""
    age = shutil.which("age")
    if age is None:
        raise SystemExit("the stock age CLI is needed: make setup")
    return age


def age_encrypt_seconds(age: str, recipient: str, source: Path, work: Path, runs: int = 3) -> float:
    """Seconds the stock CLI takes to encrypt ``source``: the best of ``runs`` runs, each after
    a sync with its output removed. The best, because this machine's disk and CPU vary by
    +-30 % from run to run and a slow baseline would flatter the ratio."""
    best = float("inf")
    for _ in range(runs):
        subprocess.run(["sync"], check=True)
        start = time.perf_counter()
        subprocess.run([age, "-r", recipient, "-o", str(work / "a.age"), str(source)], check=True)
        best = min(best, time.perf_counter() - start)
        (work / "a.age").unlink()
    subprocess.run(["sync"], check=True)
    return best


@dataclass
class Served:
    """An instance being served: its organisation recipient, source port and process."""

    recipient: str
    port: int
    process: subprocess.Popen[str]


@contextlib.contextmanager
def served_instance(work: Path) -> Iterator[Served]:
    """A fresh organisation key and instance in ``work``, served until the block ends."""
    tainik = str(BIN / "tainik")
    recipient = subprocess.run(
        [tainik, "keys", "new", "--out", str(work / "org.key"), "--no-passphrase"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    data = str(work / "inst")
    subprocess.run(
        [tainik, "init", "--data", data, "--recipient", recipient], check=True, capture_output=True
    )
    port, newsroom = free_port(), free_port()
    server = subprocess.Popen(
        [
            tainik,
            "serve",
            "--data",
            data,
            "--source-port",
            str(port),
            "--newsroom-port",
            str(newsroom),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        while "newsroom interface" not in (line := server.stdout.readline()):
            if not line:
                raise SystemExit(f"tainik serve exited with {server.wait()}")
        yield Served(recipient, port, server)
    finally:
        # Not reading the rest of its output: threads may still be writing to the pipe.
        server.terminate()
        server.wait(timeout=30)
        if server.stdout:
            server.stdout.close()
