"""What a pull reports as it goes (kept apart so the command line loads it cheaply)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tainik.core.errors import TainikError
from tainik.core.manifest import Kind

Progress = Callable[[int], None]
# Called when the server has answered: (bytes already there, total bytes); returns a callback
# for the bytes that follow.
Start = Callable[[int, int], Progress | None]


@dataclass(frozen=True, slots=True)
class Downloaded:
    """A complete download."""

    size: int
    etag: str
    resumed_from: int  # bytes that were already there (0 for a fresh download)


@dataclass(frozen=True, slots=True)
class Entry:
    """One sealed file the server lists."""

    kind: Kind
    item_id: int
    source_id: str
    sealed_id: str
    created_at: str
    download: str
    size: int | None = None  # bytes of ciphertext, as the listing announced them


@dataclass
class PullReport:
    """What one run did."""

    fetched: list[Path] = field(default_factory=list)
    present: int = 0
    waiting: int = 0  # submissions still being uploaded by their source
    failed: list[tuple[Entry, TainikError]] = field(default_factory=list)


class PullObserver:
    """Progress hooks; the default does nothing."""

    def download(self, entry: Entry, resumed_from: int) -> Start | None:
        """A download starts (``resumed_from`` bytes are already on disk); the result, if
        any, is called when the server answers with (bytes kept, total bytes)."""
        return None

    def download_done(self, entry: Entry, result: Downloaded | None) -> None:
        """A download ended (None: it failed)."""
