"""What the benchmarks share: free ports, resident memory of a process tree, a peak sampler."""

from __future__ import annotations

import os
import socket
import threading
import time
from types import TracebackType

MIB = 1024 * 1024


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


def random_file(path: str | os.PathLike[str], size: int) -> None:
    """``size`` bytes of incompressible data (half of each 16 MiB block freshly random)."""
    block = os.urandom(16 * MIB)
    with open(path, "wb") as handle:
        for _ in range(size // len(block)):
            handle.write(block[: len(block) // 2] + os.urandom(len(block) // 2))
        handle.write(os.urandom(size % len(block)))
