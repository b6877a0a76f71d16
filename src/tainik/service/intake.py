"""Receiving a submission: files and a message, sealed as they arrive, recorded when durable.

The web layer feeds plaintext as it parses the request body; nothing is buffered beyond one
segment per file, and nothing is written except ciphertext. :meth:`Intake.commit` renames the
fsynced containers into place and only then records them: a crash before the record leaves
containers that recovery at the next start removes (:mod:`tainik.service.maintenance`:
hidden partial containers, and complete ones with no record), never a submission that looks
complete.

A new source (a codename that has sent nothing yet, :mod:`tainik.service.new_source`) gets its
row in the same transaction as its first items, and a session with it: the source row and its
first submission appear together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import insert, update

from tainik.core.manifest import Kind
from tainik.crypto import Secret
from tainik.sealed.writer import SegmentSealer, new_sealed_id
from tainik.service import sources
from tainik.service.instance import Instance
from tainik.service.new_source import NewSource
from tainik.service.sources import SourceSession
from tainik.storage import schema
from tainik.storage.blobs import BlobSink


@dataclass
class _Pending:
    sealed_id: str
    kind: Kind
    sink: BlobSink
    sealer: SegmentSealer
    finished: bool = False


@dataclass
class Intake:
    """One submission in progress."""

    instance: Instance
    # A new source must come with its keys (sources.with_keys) before its items are sealed.
    session: SourceSession | NewSource
    _pending: list[_Pending] = field(default_factory=list)
    # After the commit of a new source's first items: its session's cookie.
    new_cookie: Secret | None = None

    def start(self, kind: Kind, name: bytes = b"") -> SegmentSealer:
        """Begin sealing one file (or the message); feed it with ``write``."""
        sealed_id = new_sealed_id()
        sink = self.instance.blobs.new_sink(sealed_id)
        sealer = SegmentSealer(
            self.instance.config.recipients,
            sink,
            kind=kind,
            name=name,
            sealed_id=sealed_id,
            workers=self.instance.segment_workers,
        )
        self._pending.append(_Pending(sealed_id, kind, sink, sealer))
        return sealer

    def finish_current(self) -> None:
        """Seal the last segment and the manifest of the item being written."""
        current = self._pending[-1]
        current.sealer.finish()
        current.finished = True

    def add_message(self, text: str) -> None:
        """Seal a message (already validated for length)."""
        sealer = self.start(Kind.MESSAGE)
        sealer.write(text.encode("utf-8"))
        self.finish_current()

    @property
    def count(self) -> int:
        """Items received so far."""
        return len(self._pending)

    def commit(self) -> int:
        """Make every item durable and record the submission; returns the item count."""
        assert all(p.finished for p in self._pending)
        if not self._pending:
            return 0  # nothing sent: nothing recorded, and a new source stays unwritten
        committed: list[str] = []
        try:
            for item in self._pending:
                item.sink.commit()
                committed.append(item.sealed_id)
            sources.first_time(self._record)
        except BaseException:
            for sealed_id in committed:
                self.instance.blobs.delete(sealed_id)
            self.abort()
            raise
        return len(self._pending)

    def _record(self) -> None:
        now = self.instance.clock()
        owner = self.session
        with self.instance.engine.begin() as db:
            if isinstance(owner, NewSource):
                assert owner.keys is not None
                source_id = sources.source_row(db, self.instance, owner.keys)
                cookie = sources.open_session(db, self.instance, source_id, owner.keys.identity)
            else:
                source_id, cookie = owner.source_id, None
            for item in self._pending:
                db.execute(
                    insert(schema.submissions).values(
                        source_id=source_id,
                        sealed_id=item.sealed_id,
                        kind=item.kind.value,
                        ciphertext_bytes=self.instance.blobs.size_of(item.sealed_id),
                        created_at=now,
                    )
                )
            db.execute(
                update(schema.sources)
                .where(schema.sources.c.id == source_id)
                .values(last_activity=now)
            )
        self.new_cookie = cookie

    def abort(self) -> None:
        """Remove everything written for this submission (it was never acknowledged)."""
        for item in self._pending:
            item.sealer.abandon()
            item.sink.abort()
        self._pending.clear()
