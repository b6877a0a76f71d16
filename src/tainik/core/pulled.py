"""Pull metadata: which source sent a sealed file (docs/workstation.md, "The pulled folder").

One encoder for both writers: ``tainik pull`` writes it beside each download as ``ID.json``
(adding facts about the download), and the newsroom puts it before each sealed file of a tar
downloaded from its pages, so that ``vault import`` files a hand-downloaded tar in its source's
thread as it does a pulled one. The reader is :mod:`tainik.workstation.vault.pulled`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

FORMAT = "tainik.org/pulled/v1"


def api_time(moment: datetime) -> str:
    """A time as the API and the metadata write it: RFC 3339 in UTC with a ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class SourceLink:
    """What ties a sealed file to its source on one newsroom: the server's claim, which decides
    only where the vault files the item, never what it holds."""

    server: str  # the newsroom's address, as the workstation reached it
    source_id: str  # the source's number on that newsroom (not an identity)
    designation: str
    sealed_id: str
    kind: str  # "message", "file" or "reply"
    created_at: str  # RFC 3339, as the API lists it
    order: int | None = None  # the item's number on the server: an order among equal times

    def fields(self) -> dict[str, object]:
        """The metadata's fields (a writer may add its own)."""
        return {
            "format": FORMAT,
            "server": self.server,
            "source": {"id": self.source_id, "designation": self.designation},
            "sealed_id": self.sealed_id,
            "kind": self.kind,
            "created_at": self.created_at,
            "order": self.order,
        }

    def encode(self) -> bytes:
        """The metadata file's bytes: the same link gives the same bytes."""
        return encode(self.fields())


def encode(fields: dict[str, object]) -> bytes:
    """Metadata fields as the file holds them (UTF-8 JSON, two-space indent, a final newline)."""
    return (json.dumps(fields, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
