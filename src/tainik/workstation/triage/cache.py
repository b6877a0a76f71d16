"""Re-run reuse: raw measurements kept in the report folder, keyed by content and settings.

``REPORT_DIR/cache/SHA256-FINGERPRINT.npz`` holds a video's :class:`Signals`; SHA256 is the
video file's hash and FINGERPRINT that of the analysis settings
(:meth:`AnalysisParams.fingerprint`). A renamed or moved copy of a video hits the same entry;
a changed setting misses it. An entry that cannot be read is treated as missing (and
replaced), never trusted halfway.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from tainik.workstation.triage.files import write_atomic
from tainik.workstation.triage.signals import Signals


class SignalCache:
    """The cache folder of one report folder."""

    def __init__(self, report_dir: Path) -> None:
        self.folder = report_dir / "cache"

    def path(self, sha256: str, fingerprint: str) -> Path:
        """Where the entry for this content and these settings lives."""
        return self.folder / f"{sha256}-{fingerprint}.npz"

    def load(self, sha256: str, fingerprint: str) -> Signals | None:
        """The cached measurements, or None."""
        try:
            data = self.path(sha256, fingerprint).read_bytes()
        except FileNotFoundError:
            return None
        try:
            return Signals.from_bytes(data)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None

    def store(self, sha256: str, fingerprint: str, signals: Signals) -> None:
        """Keep the measurements (atomically: a crash leaves the old entry or none)."""
        write_atomic(self.path(sha256, fingerprint), signals.to_bytes())
