"""Benchmark: `tainik send` of one file over loopback against the stock `age` CLI.

Prints the throughput ratio (target >= 0.5x the stock CLI encrypting the same file) and the
peak RSS of the sender (all its processes) and of the server (targets: under 150 MiB each).
Run: `.venv/bin/python bench/send.py [--size-mib 1024]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MIB = 1024 * 1024
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_rss(root: int) -> tuple[int, int]:
    """(largest process, whole tree) resident bytes."""
    pids, largest, total = [root], 0, 0
    while pids:
        pid = pids.pop()
        try:
            with open(f"/proc/{pid}/statm") as statm:
                rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    pids.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
        largest, total = max(largest, rss), total + rss
    return largest, total


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = (0, 0)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            one, tree = tree_rss(self.pid)
            self.peak = (max(self.peak[0], one), max(self.peak[1], tree))
            time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    age = shutil.which("age")
    if age is None:
        raise SystemExit("the stock age CLI is needed: make setup")
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="tainik-bench-") as temp:
        work = Path(temp)
        source = work / "trove.bin"
        with open(source, "wb") as handle:
            for _ in range(args.size_mib // 16):
                handle.write(os.urandom(16 * MIB))
        size = source.stat().st_size
        recipient = subprocess.run(
            [str(BIN / "tainik"), "keys", "new", "--out", str(work / "org.key"), "--no-passphrase"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        subprocess.run(
            [str(BIN / "tainik"), "init", "--data", str(work / "inst"), "--recipient", recipient],
            check=True,
            capture_output=True,
        )
        port = free_port()
        server = subprocess.Popen(
            [
                str(BIN / "tainik"),
                "serve",
                "--data",
                str(work / "inst"),
                "--source-port",
                str(port),
                "--newsroom-port",
                str(free_port()),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert server.stdout is not None
            while "newsroom interface" not in server.stdout.readline():
                pass
            subprocess.run(["sync"], check=True)
            start = time.perf_counter()
            subprocess.run(
                [age, "-r", recipient, "-o", str(work / "a.age"), str(source)], check=True
            )
            age_seconds = time.perf_counter() - start
            (work / "a.age").unlink()
            subprocess.run(["sync"], check=True)
            server_sampler = Sampler(server.pid)
            server_sampler.start()
            start = time.perf_counter()
            sender = subprocess.Popen(
                [
                    str(BIN / "tainik"),
                    "send",
                    "--server",
                    f"http://127.0.0.1:{port}",
                    "--new-codename-out",
                    str(work / "codename.txt"),
                    str(source),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            sender_sampler = Sampler(sender.pid)
            sender_sampler.start()
            _, err = sender.communicate()
            seconds = time.perf_counter() - start
            sender_sampler.done.set()
            server_sampler.done.set()
            if sender.returncode:
                raise SystemExit(err)
            print(f"cores: {len(os.sched_getaffinity(0))}; file {size / MIB:.0f} MiB")
            print(f"age -e       {size / age_seconds / MIB:7.0f} MiB/s ({age_seconds:.2f} s)")
            print(
                f"tainik send  {size / seconds / MIB:7.0f} MiB/s ({seconds:.2f} s)  "
                f"ratio {age_seconds / seconds:.2f}x"
            )
            print(
                f"sender peak RSS {sender_sampler.peak[0] / MIB:.0f} MiB per process, "
                f"{sender_sampler.peak[1] / MIB:.0f} MiB all processes"
            )
            print(f"server peak RSS {server_sampler.peak[0] / MIB:.0f} MiB")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
