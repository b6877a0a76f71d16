"""Benchmark: ``tainik vault acquire`` of a folder against ``sha256sum`` of the same files.

2 GiB over 1,000 files by default (random bytes: neither hash looks at content). The baseline
is one ``sha256sum`` over all the files, the least a person does to fingerprint a drive with
stock tools; a second line adds ``cp -a`` into a folder beside the vault, because the
acquisition also stores every file (flushed) while it computes SHA-256 and BLAKE3 in its one
read. Every file is read once before each timed step, so all steps start from a warm page
cache (as a second look at a drive would). Each acquisition goes into a new vault on the same
file system as the files. The acquisition's peak resident memory is printed for the whole
run and for a quarter of it: flat memory means the two are close.

Ratios are baseline time / acquisition time (higher is better; the target against
``sha256sum`` alone is at least 0.8). GNU coreutils' ``sha256sum`` (9.1) hashes in portable C;
the acquisition's SHA-256 is OpenSSL's (SHA-NI where the processor has it), so ``openssl dgst
-sha256`` is printed too, as the stronger baseline. CPU seconds (user + system) are printed
beside the times: on a busy machine they are the steadier figure.

    .venv/bin/python bench/acquire.py [--gib 2] [--files 1000] [--workdir DIR]
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

MiB = 1024 * 1024


def tainik(*args: str) -> list[str]:
    return [sys.executable, "-m", "tainik", *args]


def warm(folder: Path) -> None:
    """Read every file once so that each measurement starts from the page cache."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                while handle.read(8 * MiB):
                    pass


def timed(argv: list[str], **kwargs: object) -> tuple[float, int, float]:
    """Seconds, the child's peak resident set in KiB, and its CPU seconds (user + system:
    what a loaded machine does not inflate)."""
    start = time.perf_counter()
    process = subprocess.Popen(  # type: ignore[call-overload]
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read() if process.stderr else b""
    if process.returncode not in (0,):
        raise SystemExit(f"{argv[:4]} failed ({process.returncode}): {errors.decode()[-2000:]}")
    return seconds, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def make_files(folder: Path, total: int, count: int) -> None:
    folder.mkdir()
    size = total // count
    for n in range(count):
        sub = folder / f"dir-{n // 100:02d}"
        sub.mkdir(exist_ok=True)
        with (sub / f"file-{n:04d}.bin").open("wb") as out:
            left = size if n < count - 1 else total - size * (count - 1)
            while left:
                chunk = os.urandom(min(16 * MiB, left))
                out.write(chunk)
                left -= len(chunk)


def acquire(work: Path, folder: Path, name: str) -> tuple[float, int, float]:
    vault = work / name
    subprocess.run(
        tainik("vault", "init", str(vault), "-i", str(work / "org.key"), "--no-passphrase"),
        check=True,
        capture_output=True,
    )
    warm(folder)
    measured = timed(tainik("vault", "acquire", str(vault), str(folder), "--from", "bench"))
    shutil.rmtree(vault)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=2.0, help="total size (GiB)")
    parser.add_argument("--files", type=int, default=1000, help="number of files")
    parser.add_argument("--workdir", type=Path, default=None, help="where to put the files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="tainik-bench-acquire-") as tmp:
        work = Path(tmp)
        subprocess.run(
            tainik("keys", "new", "--out", str(work / "org.key"), "--no-passphrase"),
            check=True,
            capture_output=True,
        )
        total = int(args.gib * 1024 * MiB)
        drive, quarter = work / "drive", work / "quarter"
        make_files(drive, total, args.files)
        make_files(quarter, total // 4, max(1, args.files // 4))
        files = sorted(str(p) for p in drive.rglob("*.bin"))
        mb = total / 1e6
        print(f"{args.files} files, {total / MiB:.0f} MiB, in {work} ({os.cpu_count()} cores)")

        warm(drive)
        base, _, base_cpu = timed(["xargs", "-0", "sha256sum"], stdin=_nul_list(work, files))
        warm(drive)
        ossl, _, ossl_cpu = timed(
            ["xargs", "-0", "openssl", "dgst", "-sha256"], stdin=_nul_list(work, files)
        )
        warm(drive)
        copy_start = time.perf_counter()
        subprocess.run(["cp", "-a", str(drive), str(work / "copy")], check=True)
        subprocess.run(["sync", "-f", str(work / "copy")], check=True)
        copy = time.perf_counter() - copy_start
        shutil.rmtree(work / "copy")
        ours, rss, ours_cpu = acquire(work, drive, "vault")
        _, rss_quarter, _ = acquire(work, quarter, "vault-quarter")

        def line(label: str, seconds: float, cpu: float | None = None) -> None:
            used = f"  CPU {cpu:6.2f} s" if cpu is not None else ""
            print(f"  {label:<29}: {seconds:7.2f} s  {mb / seconds:7.1f} MB/s{used}")

        print(f"  load average at the end      : {os.getloadavg()[0]:.1f}")
        line("sha256sum", base, base_cpu)
        line("openssl dgst -sha256", ossl, ossl_cpu)
        line("cp -a + sync, then sha256sum", copy + base)
        line("tainik vault acquire", ours, ours_cpu)
        print(f"  ratio vs sha256sum           : {base / ours:5.2f}x  (target >= 0.8)")
        print(f"  ratio vs openssl dgst        : {ossl / ours:5.2f}x")
        print(f"  ratio vs cp + sha256sum      : {(copy + base) / ours:5.2f}x")
        print(
            f"  peak RSS of the acquisition  : {rss / 1024:.0f} MiB "
            f"({rss_quarter / 1024:.0f} MiB for a quarter of the files and bytes)"
        )


def _nul_list(work: Path, files: list[str]) -> object:
    listing = work / "files.nul"
    listing.write_bytes(b"".join(os.fsencode(f) + b"\0" for f in files))
    return listing.open("rb")


if __name__ == "__main__":
    main()
