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


def clear(path: Path) -> None:
    """Remove a file or folder left by an earlier run."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def best_of(
    runs: int, argv: list[str], source: Path, output: Path, *, fsync: bool = False
) -> tuple[float, float, int, int]:
    """Run ``argv`` ``runs`` times, each with its input cached and its output removed first;
    returns (best seconds, best seconds with an fsync of the output added, largest peak RSS
    of one process, of the tree). The best of several for every command alike: this
    machine's disk and CPU vary by a third from run to run."""
    best = best_durable = float("inf")
    one = tree = 0
    for _ in range(runs):
        clear(output)
        warm(source)
        seconds, largest, total = timed(argv)
        best = min(best, seconds)
        best_durable = min(best_durable, seconds + (flush(output) if fsync else 0.0))
        one, tree = max(one, largest), max(tree, total)
    return best, best_durable, one, tree


def run(size: int, work: Path, age: str, runs: int) -> None:
    for path in work.iterdir():
        clear(path)
    source, key = work / "source.bin", work / "org.key"
    random_file(source, size)
    tainik = str(BIN / "tainik")
    recipient = subprocess.run(
        [tainik, "keys", "new", "--out", str(key), "--no-passphrase"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    a_age, a_out, sealed, opened_dir = work / "a.age", work / "a.out", work / "s", work / "o"
    age_enc, age_enc_durable, _, _ = best_of(
        runs, [age, "-r", recipient, "-o", str(a_age), str(source)], source, a_age, fsync=True
    )
    seal, _, seal_one, seal_tree = best_of(
        runs, [tainik, "seal", str(source), "--to", recipient, "--out", str(sealed)], source, sealed
    )
    age_dec, age_dec_durable, _, _ = best_of(
        runs, [age, "-d", "-i", str(key), "-o", str(a_out), str(a_age)], a_age, a_out, fsync=True
    )
    clear(a_out)
    [container] = sealed.iterdir()
    opened, _, open_one, open_tree = best_of(
        runs,
        [tainik, "open", str(container), "-i", str(key), "--out", str(opened_dir)],
        container,
        opened_dir,
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
    parser.add_argument("--runs", type=int, default=3, help="runs of each command (best kept)")
    args = parser.parse_args()
    age = stock_age()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="tainik-bench-") as temp:
        print(
            f"cores: {len(os.sched_getaffinity(0))}; files in {temp}; "
            f"best of {args.runs} runs of each command"
        )
        for gib in args.sizes_gib:
            run(int(gib * 1024**3), Path(temp), age, args.runs)


if __name__ == "__main__":
    main()
