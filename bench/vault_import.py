"""Benchmark: ``tainik vault import`` against the stock ``age -d`` plus ``sha256sum``.

Two workloads, each measured against its baseline in the same run, on the same sealed files:

1. Large files (2 GiB in all by default, in 256 MiB video-sized files): ``vault import``
   (verify every segment and both hashes, store the plaintext read-only, BLAKE3, catalogue,
   signed custody record) versus, per sealed file, ``age -d`` of every segment into a file
   followed by ``sha256sum`` of that file: the least a person must do with stock tools to
   open the same files and get their evidence hash. The baseline runs one file at a time
   (as typed at a shell) and, as a second baseline, one file per core with ``xargs -P``.
2. Many small files (1,000 by default, 2 KiB each, as messages are): the same comparison,
   reported as the time per file.

The plaintext is random bytes: compressed video is high-entropy too, and neither age nor the
hashes look at content. Every input is read once before each timed step, so all steps start
from a warm page cache. Prints throughputs and ratios (higher is better for tainik; the
target for the large files is at least 0.8 of the sequential baseline).

    .venv/bin/python bench/vault_import.py [--gib 2] [--small 1000] [--workdir DIR]
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

FILE_BYTES = 256 * 1024 * 1024
SMALL_BYTES = 2048
MiB = 1024 * 1024


def tainik(*args: str) -> list[str]:
    return [sys.executable, "-m", "tainik", *args]


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload,no-any-return]


def timed(argv: list[str], **kwargs: object) -> float:
    start = time.perf_counter()
    run(argv, **kwargs)
    return time.perf_counter() - start


def warm(folder: Path) -> None:
    """Read every file once so that each measurement starts from the page cache."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                while handle.read(8 * MiB):
                    pass


def make_inputs(work: Path, gib: float, small: int, recipient: str) -> tuple[Path, Path, int]:
    plain_big, plain_small = work / "plain-big", work / "plain-small"
    plain_big.mkdir()
    plain_small.mkdir()
    total = int(gib * 1024 * MiB)
    count = max(1, total // FILE_BYTES)
    for n in range(count):
        with (plain_big / f"clip-{n:03d}.mp4").open("wb") as out:
            left = min(FILE_BYTES, total - n * FILE_BYTES) if n == count - 1 else FILE_BYTES
            while left:
                chunk = os.urandom(min(16 * MiB, left))
                out.write(chunk)
                left -= len(chunk)
    for n in range(small):
        (plain_small / f"message-{n:04d}.txt").write_bytes(os.urandom(SMALL_BYTES))
    sealed_big, sealed_small = work / "sealed-big", work / "sealed-small"
    for source, target in ((plain_big, sealed_big), (plain_small, sealed_small)):
        files = sorted(str(p) for p in source.iterdir())
        for start in range(0, len(files), 200):  # keep argv short
            run(
                tainik("seal", *files[start : start + 200], "--to", recipient, "--out", str(target))
            )
        shutil.rmtree(source)
    return sealed_big, sealed_small, total


BASELINE = """
set -e
key="$1"; out="$2"; shift 2
for sealed in "$@"; do
    name=$(basename "$sealed")
    for segment in "$sealed"/segment-*.age; do age -d -i "$key" "$segment"; done > "$out/$name"
    sha256sum "$out/$name" > /dev/null
done
"""


def baseline(key: Path, sealed: Path, out: Path, parallel: int) -> float:
    """``age -d`` of every segment into a file, then ``sha256sum``; ``parallel`` files at once."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    script = out.parent / "baseline.sh"
    script.write_text(BASELINE)
    containers = [str(p) for p in sorted(sealed.iterdir())]
    warm(sealed)
    if parallel <= 1:
        return timed(["bash", str(script), str(key), str(out), *containers])
    start = time.perf_counter()
    subprocess.run(
        ["xargs", "-0", "-n", "8", "-P", str(parallel), "bash", str(script), str(key), str(out)],
        input="\0".join(containers).encode(),
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def import_time(key: Path, sealed: Path, vault: Path) -> float:
    if vault.exists():
        subprocess.run(["chmod", "-R", "u+w", str(vault)], check=True)
        shutil.rmtree(vault)
    run(tainik("vault", "init", str(vault), "-i", str(key), "--no-passphrase", "--actor", "bench"))
    warm(sealed)
    elapsed = timed(tainik("vault", "import", str(vault), str(sealed), "--actor", "bench"))
    run(tainik("vault", "verify", str(vault)))  # not timed: proves the import was complete
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=2.0, help="large-file total (GiB)")
    parser.add_argument("--small", type=int, default=1000, help="number of small files")
    parser.add_argument("--workdir", type=Path, default=None, help="where to put the files")
    args = parser.parse_args()
    if shutil.which("age") is None or shutil.which("sha256sum") is None:
        sys.exit("needs the stock age and sha256sum (make setup)")
    cores = len(os.sched_getaffinity(0))
    work = Path(tempfile.mkdtemp(prefix="tainik-bench-", dir=args.workdir))
    try:
        key = work / "org.key"
        recipient = run(tainik("keys", "new", "--no-passphrase", "--out", str(key))).stdout
        sealed_big, sealed_small, total = make_inputs(
            work, args.gib, args.small, recipient.decode().strip()
        )
        print(
            f"machine: {cores} cores; large: {total / 2**30:.2f} GiB in "
            f"{len(list(sealed_big.iterdir()))} sealed files; small: {args.small} x "
            f"{SMALL_BYTES} B"
        )

        seq = baseline(key, sealed_big, work / "baseline-out", 1)
        par = baseline(key, sealed_big, work / "baseline-out", cores)
        shutil.rmtree(work / "baseline-out")
        ours = import_time(key, sealed_big, work / "vault-big")
        mb = total / 1e6
        print("\nlarge files")
        print(f"  age -d + sha256sum, one file at a time : {seq:7.2f} s  {mb / seq:7.1f} MB/s")
        print(f"  age -d + sha256sum, {cores} files at once  : {par:7.2f} s  {mb / par:7.1f} MB/s")
        print(f"  tainik vault import                   : {ours:7.2f} s  {mb / ours:7.1f} MB/s")
        print(f"  ratio vs sequential baseline : {seq / ours:5.2f}x  (target >= 0.8)")
        print(f"  ratio vs parallel baseline   : {par / ours:5.2f}x")
        subprocess.run(["chmod", "-R", "u+w", str(work / "vault-big")], check=True)
        shutil.rmtree(work / "vault-big")
        shutil.rmtree(sealed_big)

        if args.small:
            seq = baseline(key, sealed_small, work / "baseline-out", 1)
            par = baseline(key, sealed_small, work / "baseline-out", cores)
            ours = import_time(key, sealed_small, work / "vault-small")
            n = args.small
            print(f"\n{n} small files")
            for label, seconds in (
                ("age -d + sha256sum, one at a time", seq),
                (f"age -d + sha256sum, {cores} at once", par),
                ("tainik vault import", ours),
            ):
                print(f"  {label:<34}: {seconds:7.2f} s  {1000 * seconds / n:6.2f} ms/file")
            print(f"  ratio vs sequential baseline : {seq / ours:5.2f}x")
            print(f"  ratio vs parallel baseline   : {par / ours:5.2f}x")
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(work)], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
