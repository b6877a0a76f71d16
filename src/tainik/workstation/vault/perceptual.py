"""Perceptual video hashes (vPDQ) and how two videos are compared.

vPDQ (Meta's video PDQ, the ``vpdq`` package) hashes one frame a second into 256 bits that
change little under re-encoding, rescaling and mild noise. Two videos are near-duplicates when
most frames of the shorter one have a close frame in the longer one: that holds for a
re-encoded, a rescaled and a trimmed copy alike (docs/workstation.md, "Duplicates").

Features are stored as ``quality (1 byte) || hash (32 bytes)`` per sampled frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import vpdq  # type: ignore[import-not-found]  # a compiled extension without type hints

ALGORITHM = "vpdq-1s-v1"
SECONDS_PER_HASH = 1
MIN_QUALITY = 50  # PDQ's own threshold: flat or dark frames hash unreliably
MATCH_DISTANCE = 31  # PDQ's recommended Hamming distance for a match (of 256 bits)
NEAR_DUPLICATE = 0.8  # share of the shorter video's frames that must match
MIN_FRAMES = 2  # fewer usable hashes than this: too little to compare
MIN_DURATION_S = 1.0
_RECORD = 33
_BLOCK = 512


@dataclass(frozen=True, slots=True)
class Features:
    """The usable frame hashes of one video, as a (frames, 32) array of bytes."""

    hashes: npt.NDArray[np.uint8]

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    @classmethod
    def decode(cls, data: bytes) -> Features:
        """Parse stored features, keeping frames of sufficient quality."""
        if len(data) % _RECORD:
            raise ValueError("damaged perceptual features")
        table = np.frombuffer(data, dtype=np.uint8).reshape(-1, _RECORD)
        keep = table[:, 0] >= MIN_QUALITY
        return cls(np.ascontiguousarray(table[keep, 1:]))


def is_video(path: Path) -> bool:
    """Whether FFmpeg finds a video stream lasting at least a second (not a still image)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return False
            duration = container.duration
            return duration is not None and duration / av.time_base >= MIN_DURATION_S
    except (av.FFmpegError, UnicodeDecodeError, ValueError):
        return False


def compute(path: Path) -> bytes:
    """The stored form of a video's vPDQ features (empty when it has no decodable frame)."""
    features = vpdq.computeHash(
        str(path), seconds_per_hash=SECONDS_PER_HASH, verbose=False, thread_count=1
    )
    out = bytearray()
    for feature in features:
        out.append(max(0, min(255, int(feature.quality))))
        out += bytes.fromhex(vpdq.hash_to_hex(feature.hash))
    return bytes(out)


def similarity(a: Features, b: Features) -> float:
    """Share of the shorter video's frames that have a match in the other (0 to 1)."""
    if len(a) < MIN_FRAMES or len(b) < MIN_FRAMES:
        return 0.0
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    matched = np.zeros(len(short), dtype=bool)
    for start in range(0, len(short), _BLOCK):
        block = short.hashes[start : start + _BLOCK]
        for lstart in range(0, len(long), _BLOCK):
            other = long.hashes[lstart : lstart + _BLOCK]
            distance = np.bitwise_count(block[:, None, :] ^ other[None, :, :]).sum(axis=2)
            matched[start : start + _BLOCK] |= (distance <= MATCH_DISTANCE).any(axis=1)
    return float(matched.mean())
