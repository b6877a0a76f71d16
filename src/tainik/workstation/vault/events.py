"""What an import reports as it goes (kept apart so the command line loads it cheaply)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tainik.core.errors import TainikError

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What happened to one sealed file."""

    container: Path
    status: str  # "imported", "present" (already in the vault) or "failed"
    item_id: int | None = None
    sha256: str | None = None
    stored: bool = False  # False when the content was already stored (an exact duplicate)
    error: TainikError | None = None
    sealed_id: str = ""
    manifest_sha256: str = ""
    warning: TainikError | None = None  # imported, but something the user should know


class ImportObserver:
    """Hooks for progress; the default does nothing."""

    def begin(self, count: int) -> None:
        """``count`` sealed files are about to be opened (those not yet in the vault)."""

    def large_file(self, container: Path, size: int) -> Progress | None:
        """A large file starts; returns a callback for byte counts."""
        return None

    def large_file_done(self) -> None:
        """The large file in progress is finished (or failed)."""

    def result(self, result: ImportResult) -> None:
        """One sealed file is done."""
