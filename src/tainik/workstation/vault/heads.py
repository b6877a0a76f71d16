"""Heads of the custody log kept outside the vault (``vault head``, ``verify --expect-head``).

The signed head inside the vault says how long the log is, but whoever can change the vault's
files can also put back an older signed head together with an older log: that state was once
true, and every signature in it holds. Only a head written down *outside* the vault, after it
was made, shows that records were cut off since (docs/workstation.md, "Heads kept outside").

A head is written ``COUNT:HASH``: the number of records in the log and ``hex(SHA-256(line))``
of its last record, e.g. ``5:3f1c…`` (64 hexadecimal characters after the colon). The bare
hash is also accepted; it then names one record wherever it is in the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tainik.core.errors import N_
from tainik.sealed import durable
from tainik.workstation.vault.errors import VaultUsageError

MAX_FILE = 1024 * 1024  # a file of heads: one line per import for years is far less
_HEAD = re.compile(r"(?:([0-9]{1,18}):)?([0-9a-f]{64})")
_IN_LINE = re.compile(r"(?<![0-9a-zA-Z:])(?:([0-9]{1,18}):)?([0-9a-f]{64})(?![0-9a-zA-Z])")


@dataclass(frozen=True, slots=True)
class KeptHead:
    """A head noted outside the vault: the log had ``count`` records, the last hashing to
    ``hash`` (``count`` None: the record with that hash is anywhere in the log)."""

    count: int | None
    hash: str

    def __str__(self) -> str:
        return self.hash if self.count is None else f"{self.count}:{self.hash}"


def format_head(count: int, last_hash: str) -> str:
    """``COUNT:HASH``, as ``vault head`` prints it."""
    return f"{count}:{last_hash}"


def parse(text: str) -> KeptHead:
    """A head given as ``COUNT:HASH`` or ``HASH``; raises :class:`VaultUsageError`."""
    match = _HEAD.fullmatch(text.strip().lower())
    if match is None or (match.group(1) is not None and int(match.group(1)) < 1):
        raise VaultUsageError(
            N_(
                "'{head}' is not a custody head: expected COUNT:HASH (as 'tainik vault head' "
                "prints it) or a file that holds such heads"
            ),
            head=text.strip()[:100],
        )
    return KeptHead(None if match.group(1) is None else int(match.group(1)), match.group(2))


def read_file(path: Path) -> list[KeptHead]:
    """Every head in a text file: one per line; empty lines and ``#`` comments are skipped,
    and other words on a line (a date, a name) are allowed around the one head it holds."""
    data = durable.read_bounded(
        path, MAX_FILE, VaultUsageError(N_("{path}: too large for a file of heads"), path=str(path))
    )
    heads = []
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        found = _IN_LINE.findall(text.lower())
        if len(found) != 1 or (found[0][0] and int(found[0][0]) < 1):
            raise VaultUsageError(
                N_("{path}, line {line}: expected one custody head (COUNT:HASH) on the line"),
                path=str(path),
                line=number,
            )
        count, digest = found[0]
        heads.append(KeptHead(int(count) if count else None, digest))
    if not heads:
        raise VaultUsageError(N_("{path}: holds no custody head"), path=str(path))
    return heads


def read(value: str) -> list[KeptHead]:
    """The heads ``--expect-head`` names: one head, or a file of heads."""
    if _HEAD.fullmatch(value.strip().lower()):
        return [parse(value)]
    path = Path(value)
    if not path.is_file():
        return [parse(value)]  # neither a head nor a file: say what a head looks like
    return read_file(path)
