"""Scanning folders for a plaintext canary: what the storage-scan tests share.

Files are read in chunks that overlap by one byte less than the needle, so a canary split
across two reads is still found; each file (by device and inode) is scanned once; symlinks,
special, unreadable and oversized files are left out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

READ_CHUNK = 4 * 1024 * 1024


def files_under(
    roots: list[Path], *, since: float | None, max_size: int, skip: Path | None = None
) -> Iterator[Path]:
    """Regular files under ``roots`` of at most ``max_size`` bytes (modified at or after
    ``since``, if given; nothing under ``skip``), each once."""
    seen: set[tuple[int, int]] = set()
    skipped = skip.resolve() if skip is not None else None
    for root in roots:
        if not root.is_dir():
            continue
        for folder, dirs, names in os.walk(root, onerror=lambda _error: None):
            if skipped is not None and Path(folder).resolve() == skipped:
                dirs.clear()
                continue
            for name in names:
                path = Path(folder) / name
                try:
                    info = path.lstat()
                except OSError:
                    continue
                key = (info.st_dev, info.st_ino)
                if not path.is_file() or path.is_symlink() or key in seen:
                    continue
                seen.add(key)
                if info.st_size <= max_size and (since is None or info.st_mtime >= since):
                    yield path


def holds(path: Path, needle: bytes) -> bool:
    """Whether the file contains ``needle``."""
    keep = len(needle) - 1
    tail = b""
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(READ_CHUNK):
                if needle in tail + chunk:
                    return True
                tail = chunk[-keep:]
    except OSError:  # vanished, or not readable by us: nothing we can scan
        return False
    return False


def scan(
    roots: list[Path],
    needle: bytes,
    *,
    since: float | None,
    max_size: int,
    skip: Path | None = None,
) -> tuple[list[Path], int]:
    """Files under ``roots`` holding ``needle``, and how many files were scanned."""
    found: list[Path] = []
    scanned = 0
    for path in files_under(roots, since=since, max_size=max_size, skip=skip):
        scanned += 1
        if holds(path, needle):
            found.append(path)
    return found, scanned


def log_leaks(log: str, listen: set[int], needles: dict[str, str]) -> list[str]:
    """What a server log must not hold: a client address (any ``127.0.0.1`` that is not one
    of the ``listen`` ports on a ``... interface:`` line), or any of ``needles`` (text: what
    it is, e.g. a codename, a user agent, a canary)."""
    leaks = []
    for line in log.splitlines():
        if "127.0.0.1" in line:
            match = re.fullmatch(r"(source|newsroom) interface:\s+http://127\.0\.0\.1:(\d+)/", line)
            if not match or int(match.group(2)) not in listen:
                leaks.append(f"a client address is logged: {line}")
    ports = {int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", log)}
    if not ports <= listen:
        leaks.append(f"client ports in the log: {ports - listen}")
    leaks.extend(f"the log holds the {what}" for secret, what in needles.items() if secret in log)
    return leaks
