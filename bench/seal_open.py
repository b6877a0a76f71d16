"""Benchmark: `tainik seal` / `tainik open` against the stock `age` CLI on the same file.

Prints throughput ratios (target: >= 0.9x the stock CLI for both) and peak resident memory
(target: under 150 MiB for 1 GiB and for 4 GiB alike). Run with `make bench` or
`.venv/bin/python bench/seal_open.py [--sizes-gib 1 4]`. Not a test: it only measures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import BIN, MIB, PeakMemory, random_file, stock_age


def timed(argv: list[str]) -> tuple[float, int, int]:
    """Run argv; returns (seconds, peak RSS of one process, peak RSS of the tree)."""
    subprocess.run(["sync"], check=True)
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    with PeakMemory(process.pid) as peak:
        code = process.wait()
        elapsed = time.perf_counter() - start
    if code:
        raise SystemExit(f"{argv[0]} failed with {code}")
    return elapsed, peak.largest, peak.tree


def warm(path: Path) -> None:
    """Read ``path`` (a file, or every file under a folder) into the page cache.

    Every timed run starts with its input cached, as it is for age, whose input was just
    written through the cache: Tainik writes sealed files with O_DIRECT, so
    without this `tainik open` would read from the disk what `age -d` reads from memory."""
    for item in sorted(path.rglob("*")) if path.is_dir() else [path]:
        if item.is_file():
            with open(item, "rb") as handle:
                while handle.read(16 * MIB):
                    pass


def flush(path: Path) -> float:
    """Seconds to fsync ``path`` (what age leaves to the kernel and Tainik does not)."""
    start = time.perf_counter()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return time.perf_counter() - start


def run(size: int, work: Path, age: str) -> None:
    for path in work.iterdir():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    source, key = work / "source.bin", work / "org.key"
    random_file(source, size)
    recipient = subprocess.run(
        [str(BIN / "tainik"), "keys", "new", "--out", str(key), "--no-passphrase"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    warm(source)
    age_enc, _, _ = timed([age, "-r", recipient, "-o", str(work / "a.age"), str(source)])
    age_enc_durable = age_enc + flush(work / "a.age")
    warm(source)
    seal, seal_one, seal_tree = timed(
        [str(BIN / "tainik"), "seal", str(source), "--to", recipient, "--out", str(work / "s")]
    )
    warm(work / "a.age")
    age_dec, _, _ = timed(
        [age, "-d", "-i", str(key), "-o", str(work / "a.out"), str(work / "a.age")]
    )
    age_dec_durable = age_dec + flush(work / "a.out")
    (work / "a.out").unlink()
    [container] = (work / "s").iterdir()
    warm(container)
    opened, open_one, open_tree = timed(
        [str(BIN / "tainik"), "open", str(container), "-i", str(key), "--out", str(work / "o")]
    )
    gib = size / 1024**3
    print(f"--- {gib:g} GiB ---")
    # Tainik fsyncs what it writes before it reports success; age leaves that to the kernel.
    # The second baseline adds the fsync, to show what durability itself costs on this disk.
    print(f"age -e          {size / age_enc / MIB:8.0f} MiB/s  ({age_enc:.2f} s)")
    print(f"age -e + fsync  {size / age_enc_durable / MIB:8.0f} MiB/s  ({age_enc_durable:.2f} s)")
    print(
        f"seal            {size / seal / MIB:8.0f} MiB/s  ({seal:.2f} s)  "
        f"ratio {age_enc / seal:.2f}x (vs age -e + fsync {age_enc_durable / seal:.2f}x)  "
        f"peak RSS {seal_one / MIB:.0f} MiB per process, {seal_tree / MIB:.0f} MiB all processes"
    )
    print(f"age -d          {size / age_dec / MIB:8.0f} MiB/s  ({age_dec:.2f} s)")
    print(f"age -d + fsync  {size / age_dec_durable / MIB:8.0f} MiB/s  ({age_dec_durable:.2f} s)")
    print(
        f"open            {size / opened / MIB:8.0f} MiB/s  ({opened:.2f} s)  "
        f"ratio {age_dec / opened:.2f}x (vs age -d + fsync {age_dec_durable / opened:.2f}x)  "
        f"peak RSS {open_one / MIB:.0f} MiB per process, {open_tree / MIB:.0f} MiB all processes"
    )
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes-gib", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument("--dir", type=Path, default=None, help="scratch directory")
    args = parser.parse_args()
    age = stock_age()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="tainik-bench-") as temp:
        print(f"cores: {len(os.sched_getaffinity(0))}; files in {temp}")
        for gib in args.sizes_gib:
            run(int(gib * 1024**3), Path(temp), age)


if __name__ == "__main__":
    main()
