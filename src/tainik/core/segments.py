"""Segment arithmetic of the sealed-file format (docs/format.md, "Parameters")."""

from __future__ import annotations

from dataclasses import dataclass

from tainik.core.errors import N_, FormatError

CHUNK = 65_536
MIN_SEGMENT_SIZE = CHUNK
MAX_SEGMENT_SIZE = 64 * 1024 * 1024
DEFAULT_SEGMENT_SIZE = 4 * 1024 * 1024
MAX_LENGTH = 2**53 - 1


def check_segment_size(segment_size: int) -> None:
    """Raise :class:`FormatError` unless ``segment_size`` is allowed by the format."""
    if not (MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE) or segment_size % CHUNK:
        raise FormatError(
            N_("Segment size {size} is not a multiple of 64 KiB between 64 KiB and 64 MiB"),
            size=segment_size,
        )


@dataclass(frozen=True, slots=True)
class SegmentPlan:
    """Where each segment of a plaintext of ``length`` bytes starts and ends."""

    length: int
    segment_size: int

    def __post_init__(self) -> None:
        check_segment_size(self.segment_size)
        if not 0 <= self.length <= MAX_LENGTH:
            raise FormatError(N_("Size {size} is out of range"), size=self.length)

    @property
    def count(self) -> int:
        """N: one empty segment for an empty plaintext, else ceil(L / S)."""
        if self.length == 0:
            return 1
        return -(-self.length // self.segment_size)

    def offset(self, index: int) -> int:
        """Plaintext offset of segment ``index``."""
        self._check(index)
        return index * self.segment_size

    def size_of(self, index: int) -> int:
        """Plaintext length of segment ``index``."""
        self._check(index)
        if index < self.count - 1:
            return self.segment_size
        return self.length - (self.count - 1) * self.segment_size

    def _check(self, index: int) -> None:
        if not 0 <= index < self.count:
            raise IndexError(index)
