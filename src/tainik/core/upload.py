"""Resumable uploads (docs/protocol.md): states, transitions, and segment size checks."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from tainik.core.errors import N_, TainikError
from tainik.core.lifecycle import Lifecycle
from tainik.core.segments import CHUNK, DEFAULT_SEGMENT_SIZE

AGE_MAGIC = b"age-encryption.org/v1\n"
MAX_HEADER = 64 * 1024
NONCE = 16
TAG = 16
MAC_LINE_LENGTH = len(b"--- ") + 43 + 1  # "--- " + base64 of 32 bytes, no padding, + LF
HEADER_PREFIX = MAX_HEADER + MAC_LINE_LENGTH + 1  # the first bytes of a segment hold its header
PROTOCOL_SEGMENT_SIZE = DEFAULT_SEGMENT_SIZE
# The largest file one upload carries: 1 TiB. The troves Tainik is for are many files of
# gigabytes (a prison's CCTV: over 1,000 videos, 2 TB in all), and 1 TiB through Tor at
# 2.5 Mbit/s takes six weeks; a disk image larger than that is better split. Every count the
# server takes from an upload request is bounded by it.
MAX_UPLOAD_BYTES = 2**40
MAX_SEGMENTS = MAX_UPLOAD_BYTES // PROTOCOL_SEGMENT_SIZE  # 262,144
# How many missing indexes an "incomplete" answer lists (the count is always given).
MISSING_LISTED = 1000


class UploadState(StrEnum):
    """Where an upload stands (docs/protocol.md, "Lifecycle"). ``receiving`` and
    ``committing`` are stored with the upload's row; ``complete`` is what an id of the
    source's submissions is, and ``gone`` has no row at all."""

    RECEIVING = "receiving"
    # Every part was present and a complete has begun: the parts are being, or have been,
    # renamed into the blob store, and the submission is not recorded yet.
    COMMITTING = "committing"
    COMPLETE = "complete"
    GONE = "gone"


class UploadEvent(StrEnum):
    """What can happen to an upload."""

    SEGMENT = "segment"
    MANIFEST = "manifest"
    COMPLETE = "complete"  # a client's complete, every part present
    RECORD = "record"  # renamed into the blob store: the submission is recorded
    RECOVER = "recover"  # after a crash, a commit found not renamed goes back to receiving
    ABANDON = "abandon"
    EXPIRE = "expire"


TRANSITIONS: dict[tuple[UploadState, UploadEvent], UploadState] = {
    (UploadState.RECEIVING, UploadEvent.SEGMENT): UploadState.RECEIVING,
    (UploadState.RECEIVING, UploadEvent.MANIFEST): UploadState.RECEIVING,
    (UploadState.RECEIVING, UploadEvent.COMPLETE): UploadState.COMMITTING,
    # Another complete while one commits (a retry, a second tab, another server process)
    # helps it finish; one after it answers as the first did.
    (UploadState.COMMITTING, UploadEvent.COMPLETE): UploadState.COMMITTING,
    (UploadState.COMPLETE, UploadEvent.COMPLETE): UploadState.COMPLETE,
    (UploadState.COMMITTING, UploadEvent.RECORD): UploadState.COMPLETE,
    (UploadState.COMMITTING, UploadEvent.RECOVER): UploadState.RECEIVING,
    (UploadState.RECEIVING, UploadEvent.ABANDON): UploadState.GONE,
    (UploadState.RECEIVING, UploadEvent.EXPIRE): UploadState.GONE,
}

UPLOAD_LIFECYCLE: Lifecycle[UploadState, UploadEvent] = Lifecycle(
    name="upload",
    created_by="POST /api/uploads",
    initial=UploadState.RECEIVING,
    table=TRANSITIONS,
    final=(UploadState.COMPLETE, UploadState.GONE),
)

# Why a state refuses what it refuses, for the source (the protocol's ``wrong_state``).
_REFUSALS = {
    UploadState.COMMITTING: N_("This upload is being completed; nothing more can be sent to it"),
    UploadState.COMPLETE: N_("This upload is complete; nothing more can be sent to it"),
}


class UploadError(TainikError):
    """A request that the upload protocol refuses; each subclass is one of the protocol's
    error codes (docs/protocol.md)."""

    exit_code = 2
    status = 400
    code = "bad_request"


class UploadIdError(UploadError):
    """The upload id is not a sealed-file id."""

    code = "bad_id"


class SegmentCountError(UploadError):
    """The number of segments is out of range."""

    code = "bad_segments"


class UploadNoteError(UploadError):
    """The upload note is missing, too large, or not an age file."""

    code = "bad_note"


class UploadConflictError(UploadError):
    """The upload id belongs to another source (or, rarely, other requests kept changing the
    upload while this one tried to move it)."""

    status = 409
    code = "conflict"


class WrongStateError(UploadError):
    """The upload's state does not allow the request (finished or gone)."""

    status = 409
    code = "wrong_state"


class UploadTooLargeError(UploadError):
    """A segment, manifest or upload larger than the protocol or the instance allows."""

    status = 413
    code = "too_large"


class QuotaError(UploadError):
    """The source's unfinished uploads would claim more than the instance allows."""

    status = 413
    code = "quota"


class SegmentIndexError(UploadError):
    """A segment index beyond the upload's count."""

    code = "segment_index"


class IncompleteError(UploadError):
    """``complete`` with parts missing; ``missing`` (a parameter) lists the first of them."""

    code = "incomplete"


class SegmentRejected(UploadError):
    """A segment body that cannot be a valid segment."""


class NotAgeError(SegmentRejected):
    """A segment whose body is not an age file."""

    code = "not_age"


class SegmentSizeError(SegmentRejected):
    """A segment whose payload length no segment of this upload can have."""

    code = "segment_size"


def transition(state: UploadState, event: UploadEvent) -> UploadState:
    """The state after ``event``, or :class:`WrongStateError` when the protocol forbids it."""
    after = UPLOAD_LIFECYCLE.next(state, event)
    if after is None:
        raise WrongStateError(_REFUSALS.get(state, N_("This upload is already finished or gone")))
    return after


def header_length(prefix: bytes, index: int) -> int:
    """Length of the age header at the start of ``prefix`` (which holds at least the header).

    Only the framing is looked at: the magic line and the final ``---`` MAC line.
    """
    if not prefix.startswith(AGE_MAGIC):
        raise NotAgeError(N_("Segment {index} is not an age file"), index=index)
    end = prefix.find(b"\n--- ", 0, MAX_HEADER)
    if end < 0 or len(prefix) < end + 1 + MAC_LINE_LENGTH:
        raise NotAgeError(N_("Segment {index} is not an age file"), index=index)
    if prefix[end + MAC_LINE_LENGTH] != 0x0A:
        raise NotAgeError(N_("Segment {index} is not an age file"), index=index)
    return end + 1 + MAC_LINE_LENGTH


def payload_length(plaintext: int) -> int:
    """Bytes of age payload for ``plaintext`` bytes: nonce, data, one tag per 64 KiB chunk."""
    chunks = max(1, -(-plaintext // CHUNK))
    return NONCE + plaintext + TAG * chunks


def plaintext_length(payload: int, segment_size: int) -> int | None:
    """The plaintext length a payload of this size carries, or None if none fits."""
    body = payload - NONCE
    if body < TAG:
        return None
    chunks = max(1, -(-(body - TAG) // (CHUNK + TAG)))
    plaintext = body - TAG * chunks
    if 0 <= plaintext <= segment_size and payload_length(plaintext) == payload:
        return plaintext
    return None


def check_segment_size(
    index: int, count: int, total: int, header: int, segment_size: int = PROTOCOL_SEGMENT_SIZE
) -> None:
    """Raise :class:`SegmentRejected` unless an age file of ``total`` bytes (``header`` of
    them header) can be segment ``index`` of ``count``."""
    payload = total - header
    if index < count - 1:
        if payload != payload_length(segment_size):
            raise SegmentSizeError(N_("Segment {index} has the wrong size"), index=index)
    elif plaintext_length(payload, segment_size) is None:
        raise SegmentSizeError(N_("Segment {index} has the wrong size"), index=index)


# The longest message a source may send, in characters, by the form or by `tainik send`.
MAX_MESSAGE_CHARS = 100_000


def smallest_upload(
    count: int, last: int | None = None, segment_size: int = PROTOCOL_SEGMENT_SIZE
) -> int:
    """The fewest plaintext bytes an upload of ``count`` segments can hold: every segment but
    the last is full, and the last holds ``last`` bytes when known, else at least one (an
    upload of one segment may be empty)."""
    if last is None:
        last = 1 if count > 1 else 0
    return (count - 1) * segment_size + last


def max_segment_bytes(segment_size: int = PROTOCOL_SEGMENT_SIZE) -> int:
    """The largest body a segment PUT may have."""
    return MAX_HEADER + payload_length(segment_size)


def missing_segments(
    received: Iterable[int], count: int, listed: int = MISSING_LISTED
) -> tuple[int, list[int]]:
    """How many of segments ``0 … count−1`` are not among ``received`` (ascending, no
    repeats), and the first ``listed`` of them: a walk over what is present, never a set of
    every index (``count`` comes from a request)."""
    present = 0
    first: list[int] = []
    expected = 0
    for index in received:
        if not expected <= index < count:
            continue
        if len(first) < listed:
            first.extend(range(expected, min(index, expected + listed - len(first))))
        present += 1
        expected = index + 1
    if len(first) < listed:
        first.extend(range(expected, min(count, expected + listed - len(first))))
    return count - present, first
