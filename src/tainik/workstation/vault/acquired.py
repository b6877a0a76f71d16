"""The acquisition manifest: what ``vault acquire`` found on a medium, one canonical JSON
object a line (docs/workstation.md, "Acquiring a drive").

Line 0 is the header (the medium, who handed it over, counts); every further line is one
entry (a file, a link, a folder, something else, or the image), in the order the medium was
read. An entry's number is its line number: acquired items are named ``acq-SEQ-N`` after it
(``SEQ`` the ``acquire`` record, ``N`` the line; 0 is the manifest itself).

Kept apart from :mod:`.acquire` so that ``verify`` and ``show`` read manifests without the
reading machinery.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tainik.workstation.vault import canonical
from tainik.workstation.vault.canonical import JsonObject, NotCanonical
from tainik.workstation.vault.custody import CustodyRecord, FileRef

FORMAT = "tainik.org/acquisition/v1"
MANIFEST_NAME = "acquisition-manifest.jsonl"
SOURCE_PREFIX = "acquisition/"
MAX_MANIFEST_LINE = 1 << 20  # a line longer than this is not one Tainik writes

# Entry types and statuses
FILE, LINK, DIR, OTHER, MOUNT, IMAGE = "file", "link", "dir", "other", "mount", "image"
STORED, UNREADABLE, CHANGED = "stored", "unreadable", "changed"


def format_ns(ns: int) -> str:
    """A POSIX time in nanoseconds as RFC 3339 UTC with nine fraction digits:
    ``2024-03-01T10:00:00.123456789Z`` (exact: no float on the way)."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{stamp}.{fraction:09d}Z"


def path_fields(raw: bytes) -> JsonObject:
    """``{"path": TEXT}`` for a UTF-8 name; a name that is not UTF-8 also keeps its exact
    bytes, ``path_b64``."""
    try:
        return {"path": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {
            "path": raw.decode("utf-8", errors="replace"),
            "path_b64": base64.b64encode(raw).decode("ascii"),
        }


def raw_path(entry: JsonObject) -> bytes:
    """The exact bytes of an entry's path."""
    b64 = entry.get("path_b64")
    if isinstance(b64, str):
        return base64.b64decode(b64)
    path = entry.get("path")
    return path.encode("utf-8") if isinstance(path, str) else b""


def item_id(seq: int, line: int) -> str:
    """The catalogue's ``sealed_id`` column for the acquired item at ``line`` of the manifest
    of ``acquire`` record ``seq`` (0: the manifest itself)."""
    return f"acq-{seq}-{line}"


def source_key(manifest_sha256: str) -> str:
    """The key of an acquisition's thread."""
    return SOURCE_PREFIX + manifest_sha256


def entry_ref(entry: JsonObject) -> FileRef | None:
    """The stored file of an entry (None when it was not stored)."""
    if entry.get("status") != STORED:
        return None
    return FileRef.from_json(entry)


def encode_line(value: JsonObject) -> bytes:
    """One manifest line, LF included."""
    return canonical.encode(value) + b"\n"


@dataclass
class Manifest:
    """A parsed manifest."""

    header: JsonObject
    entries: list[JsonObject] = field(default_factory=list)  # entries[i] is line i + 1

    @classmethod
    def parse(cls, data: bytes) -> Manifest:
        """Parse strictly: every line canonical, LF-terminated, line 0 a header of this
        format. Raises :class:`NotCanonical`."""
        if not data.endswith(b"\n"):
            raise NotCanonical("the manifest does not end with a line feed")
        lines = data[:-1].split(b"\n")
        header = canonical.decode_object(lines[0])
        if header.get("format") != FORMAT:
            raise NotCanonical("not an acquisition manifest")
        return cls(header, [canonical.decode_object(line) for line in lines[1:]])

    def stored(self) -> Iterator[tuple[int, JsonObject, FileRef]]:
        """``(line, entry, ref)`` of every stored entry."""
        for index, entry in enumerate(self.entries, start=1):
            ref = entry_ref(entry)
            if ref is not None:
                yield index, entry, ref

    def count(self, kind: str, status: str | None = None) -> int:
        """How many entries are of ``kind`` (and ``status``)."""
        return sum(
            1
            for e in self.entries
            if e.get("type") == kind and (status is None or e.get("status") == status)
        )

    def problems(self) -> list[JsonObject]:
        """The entries that were not stored for a reason: unreadable, or changed while read."""
        return [e for e in self.entries if e.get("status") in (UNREADABLE, CHANGED)]

    def mtimes(self) -> tuple[str, str] | None:
        """The earliest and latest modification time of the files and the image."""
        found = sorted(
            str(e["mtime"])
            for e in self.entries
            if e.get("type") in (FILE, IMAGE) and isinstance(e.get("mtime"), str)
        )
        return (found[0], found[-1]) if found else None


class Counter:
    """The counts an ``acquire`` record commits to, entry by entry."""

    def __init__(self) -> None:
        self._counts = dict.fromkeys(
            (
                "entries",
                "files",
                "stored",
                "links",
                "dirs",
                "other",
                "unreadable",
                "changed",
                "bytes",
            ),
            0,
        )

    def add(self, entry: JsonObject) -> None:
        """Count one entry."""
        counts, kind, status = self._counts, entry.get("type"), entry.get("status")
        counts["entries"] += 1
        if kind in (FILE, IMAGE):
            counts["files"] += 1
        elif kind == LINK:
            counts["links"] += 1
        elif kind == DIR:
            counts["dirs"] += 1
        else:
            counts["other"] += 1
        if status in (UNREADABLE, CHANGED):
            counts[str(status)] += 1
        ref = entry_ref(entry)
        if ref is not None:
            counts["stored"] += 1
            counts["bytes"] += ref.size

    def result(self) -> JsonObject:
        """The counts so far."""
        return dict(self._counts)


@dataclass
class Index:
    """What ``verify`` keeps of a manifest: its header, counts and stored entries only (a
    drive of a million files is read line by line, not held whole)."""

    sha256: str
    size: int
    header: JsonObject
    counts: JsonObject
    stored: dict[int, tuple[bytes, FileRef]]  # line -> (path bytes, stored file)
    refs: set[FileRef]

    @classmethod
    def read(cls, path: Path) -> Index:
        """Hash and parse the manifest at ``path`` strictly, one line at a time. Raises
        :class:`OSError` or :class:`NotCanonical`."""
        whole = hashlib.sha256()
        size = 0
        header: JsonObject | None = None
        counter = Counter()
        stored: dict[int, tuple[bytes, FileRef]] = {}
        with path.open("rb") as handle:
            for number, line in enumerate(handle):
                whole.update(line)
                size += len(line)
                if not line.endswith(b"\n"):
                    raise NotCanonical("the manifest does not end with a line feed")
                value = canonical.decode_object(line[:-1])
                if number == 0:
                    if value.get("format") != FORMAT:
                        raise NotCanonical("not an acquisition manifest")
                    header = value
                    continue
                counter.add(value)
                ref = entry_ref(value)
                if ref is not None:
                    stored[number] = (raw_path(value), ref)
        if header is None:
            raise NotCanonical("the manifest is empty")
        refs = {ref for _, ref in stored.values()}
        return cls(whole.hexdigest(), size, header, counter.result(), stored, refs)


def summary_counts(manifest: Manifest) -> JsonObject:
    """The counts of a whole manifest."""
    counter = Counter()
    for entry in manifest.entries:
        counter.add(entry)
    return counter.result()


def record_manifest(record: CustodyRecord) -> FileRef | None:
    """The manifest an ``acquire`` record names (its first output)."""
    refs = record.file_refs(record.outputs)
    return refs[0] if refs else None
