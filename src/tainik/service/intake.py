"""Receiving a submission: files and a message, sealed as they arrive, recorded when durable.

The web layer feeds plaintext as it parses the request body; nothing is buffered beyond one
segment per file, and nothing is written except ciphertext. :meth:`Intake.commit` renames the
fsynced containers into place and only then records them: a crash before the record leaves
containers that recovery at the next start removes (:mod:`tainik.service.maintenance`:
hidden partial containers, and complete ones with no record), never a submission that looks
complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import insert, update

from tainik.core.manifest import Kind
from tainik.sealed.writer import DirectorySink, SegmentSealer, new_sealed_id
from tainik.service.instance import Instance
from tainik.service.sources import SourceSession
from tainik.storage import schema


@dataclass
class _Pending:
    sealed_id: str
    kind: Kind
    sink: DirectorySink
    sealer: SegmentSealer
    finished: bool = False


@dataclass
class Intake:
    """One submission in progress."""

    instance: Instance
    session: SourceSession
    _pending: list[_Pending] = field(default_factory=list)

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
        committed: list[str] = []
        try:
            for item in self._pending:
                item.sink.commit()
                committed.append(item.sealed_id)
            now = self.instance.clock()
            with self.instance.engine.begin() as db:
                for item in self._pending:
                    db.execute(
                        insert(schema.submissions).values(
                            source_id=self.session.source_id,
                            sealed_id=item.sealed_id,
                            kind=item.kind.value,
                            ciphertext_bytes=self.instance.blobs.size_of(item.sealed_id),
                            created_at=now,
                        )
                    )
                db.execute(
                    update(schema.sources)
                    .where(schema.sources.c.id == self.session.source_id)
                    .values(last_activity=now)
                )
        except BaseException:
            for sealed_id in committed:
                self.instance.blobs.delete(sealed_id)
            self.abort()
            raise
        return len(self._pending)

    def abort(self) -> None:
        """Remove everything written for this submission (it was never acknowledged)."""
        for item in self._pending:
            item.sealer.abandon()
            item.sink.abort()
        self._pending.clear()
