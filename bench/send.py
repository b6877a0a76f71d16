"""Benchmark: `tainik send` of one file over loopback against the stock `age` CLI.

Prints the throughput ratio (target >= 0.5x the stock CLI encrypting the same file) and the
peak RSS of the sender (all its processes) and of the server (targets: under 150 MiB each).
Run: `.venv/bin/python bench/send.py [--size-mib 1024]`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from measure import (
    BIN,
    MIB,
    PeakMemory,
    age_encrypt_seconds,
    children_cpu_seconds,
    cpu_seconds,
    random_file,
    served_instance,
    stock_age,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    age = stock_age()
    with (
        tempfile.TemporaryDirectory(dir=args.dir, prefix="tainik-bench-") as temp,
        served_instance(Path(temp)) as served,
    ):
        work = Path(temp)
        source = work / "trove.bin"
        random_file(source, args.size_mib * MIB)
        size = source.stat().st_size
        port = served.port
        age_seconds = age_encrypt_seconds(age, served.recipient, source, work)
        server_cpu, sender_cpu = cpu_seconds(served.process.pid), children_cpu_seconds()
        with PeakMemory(served.process.pid) as server_peak:
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
            with PeakMemory(sender.pid) as sender_peak:
                _, err = sender.communicate()
                seconds = time.perf_counter() - start
        server_cpu = cpu_seconds(served.process.pid) - server_cpu
        sender_cpu = children_cpu_seconds() - sender_cpu
        if sender.returncode:
            raise SystemExit(err)
        print(f"cores: {len(os.sched_getaffinity(0))}; file {size / MIB:.0f} MiB")
        print(f"age -e       {size / age_seconds / MIB:7.0f} MiB/s ({age_seconds:.2f} s)")
        print(
            f"tainik send  {size / seconds / MIB:7.0f} MiB/s ({seconds:.2f} s)  "
            f"ratio {age_seconds / seconds:.2f}x"
        )
        print(
            f"sender peak RSS {sender_peak.largest / MIB:.0f} MiB per process, "
            f"{sender_peak.tree / MIB:.0f} MiB all processes"
        )
        print(f"server peak RSS {server_peak.largest / MIB:.0f} MiB")
        gib = size / (1024 * MIB)
        print(
            f"CPU per GiB: sender {sender_cpu / gib:.2f} s, server {server_cpu / gib:.2f} s "
            f"(wall {seconds / gib:.2f} s on {len(os.sched_getaffinity(0))} cores)"
        )


if __name__ == "__main__":
    main()
