"""``tainik send``: seal files locally and upload them resumably.

Each file is read once to hash it (cached in the resume state), then every segment the server
lacks is read again, checked against its BLAKE3 check (plan.py), encrypted and sent by a few
threads sharing one connection pool. Nothing plaintext is written anywhere; a re-run resumes
where the server stopped.
"""

from __future__ import annotations

import base64
import os
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from tainik import crypto
from tainik.core.errors import N_, FormatError, StorageError, TainikError, UsageError
from tainik.core.jsonfields import RecordError, load_json
from tainik.core.source_api import NewCodename, ResumeNote, SessionObject, UploadObject
from tainik.core.units import human_bytes
from tainik.sealed import pool
from tainik.sealed.writer import new_sealed_id
from tainik.sender.client import ClientSettings, SourceClient
from tainik.sender.plan import FilePlan, plan_file, plan_message
from tainik.sender.state import Item, SendState
from tainik.transport import Answer

C_co = TypeVar("C_co", covariant=True)

# A file's progress: bytes of plaintext as their sealed form leaves (negative: taken back).
Progress = Callable[[int], None]
# Called as each item starts: its label, its size, and how much of it the server already
# holds (from an earlier run); returns that item's progress.
OnItem = Callable[[str, int, int], Progress]


@dataclass
class Report:
    """What one run did, for the user and for tests."""

    sent_segments: int = 0
    sent_bytes: int = 0
    skipped_segments: int = 0
    completed: list[str] = field(default_factory=list)
    already_done: list[str] = field(default_factory=list)
    # Files that could not be sent for a reason of their own (unreadable, changed while read):
    # the others go on; a re-run sends these as they are then.
    failed: list[tuple[str, StorageError]] = field(default_factory=list)
    # The item under way and how much of it the server holds: what a stop leaves behind.
    current: str | None = None
    current_held: int = 0
    current_size: int = 0


@dataclass
class Sender:
    """Uploads files and a message for one source."""

    settings: ClientSettings
    state: SendState
    jobs: int = 4
    on_file: OnItem | None = None
    report: Report = field(default_factory=Report)

    def run(self, codename: crypto.Secret, files: Sequence[Path], message: str | None) -> Report:
        """Log in, then send the message and every file.

        The message goes first: it is small, and the one thing a source most wants to arrive.
        Ctrl-C (KeyboardInterrupt) stops the requests in flight between two slices and
        propagates; the state on disk is as the last finished step left it, and
        :attr:`report` says what was done."""
        report = self.report = Report()
        client = SourceClient(self.settings)
        try:
            # A codename this sender got and has not sent with yet is unknown to the server
            # until its first upload: "new" asks for a new source's session then, instead of
            # the refusal a mistyped codename gets (docs/protocol.md, "Sessions").
            client.api(
                "POST",
                "/api/login",
                expect=(204,),
                json={"codename": codename.reveal(), "new": self.state.unconfirmed},
            )
            session = _read(SessionObject, client.api("POST", "/api/session"), "/api/session")
            organisation = [crypto.Recipient.parse(r) for r in session.organisation]
            if session.recipient is None:
                raise FormatError(
                    N_("{record}: {field} is missing"), record="/api/session", field="recipient"
                )
            reply = crypto.Recipient.parse(session.recipient)
            _check_limit([p for p in files if not self._done(p)], session.max_upload_bytes)
            if message:
                self._send_message(client, message, organisation, reply, report)
            for path in files:
                try:
                    self._send_file(client, path, organisation, reply, report)
                except StorageError as error:  # this file's own problem, not the link's
                    report.failed.append((str(path), error))
        finally:
            client.stop.set()  # threads still sending (after Ctrl-C) drop their requests
            client.close()
        return report

    def _fingerprint(self, path: Path) -> str:
        try:
            stat = os.stat(path)
        except OSError as exc:
            raise _unreadable(path, exc) from exc
        return self.state.file_fingerprint(path, stat)

    def _done(self, path: Path) -> bool:
        """True when an earlier run sent this file, unchanged since."""
        try:
            item = self.state.items.get(self._fingerprint(path))
        except StorageError:
            return False  # reported where the file is sent
        return bool(item and item.done)

    def _plan(
        self, client: SourceClient, path: Path, fp: str
    ) -> tuple[FilePlan, UploadObject | None]:
        """The file's plan and, when an earlier run began its upload, the server's view of it.

        The state holds no hash (it would describe the file): a resumed upload's hashes come
        from its note on the server; a file whose upload the server no longer has (expired,
        or completed without this run hearing of it) is read again under the same id."""
        item = self.state.items.get(fp)
        if item is not None:
            found = client.request("GET", f"/api/uploads/{item.id}", expect=(200, 404))
            if found.status_code == 200:
                view = _read(UploadObject, found, "/api/uploads/ID")
                note = _resume_note(view)
                plan = FilePlan.from_note(note, item.id, path) if note else None
                if plan is not None:
                    return plan, view
                item = None  # another file's upload, or unreadable: start afresh
        sealed_id = item.id if item is not None else new_sealed_id()
        try:
            plan = plan_file(path, sealed_id, jobs=pool.default_jobs())
        except OSError as exc:
            raise _unreadable(path, exc) from exc
        return plan, None

    def _send_file(
        self,
        client: SourceClient,
        path: Path,
        organisation: list[crypto.Recipient],
        reply: crypto.Recipient,
        report: Report,
    ) -> None:
        fp = self._fingerprint(path)
        item = self.state.items.get(fp)
        if item is not None and item.done:
            report.already_done.append(str(path))
            return
        plan, view = self._plan(client, path, fp)
        before = os.stat(path)
        if fp != self.state.file_fingerprint(path, before):
            self.state.items.pop(fp, None)  # changed while it was read: read it again
            fp = self.state.file_fingerprint(path, before)
            plan, view = self._plan(client, path, fp)
        if item is None or item.id != plan.manifest.id:
            self.state.items[fp] = Item(plan.manifest.id)
            self.state.save()
        try:
            self._upload(client, plan, organisation, reply, report, path.name, view)
        except StorageError:
            # The plan no longer describes the file (or it could not be read): the next run
            # hashes it again instead of failing on the same check for ever.
            self.state.items.pop(fp, None)
            self.state.save()
            raise
        if self.state.file_fingerprint(path, os.stat(path)) != fp:
            raise StorageError(
                N_(
                    "{path}: the file changed while it was being sent; the version read "
                    "before was delivered, and the next run sends it as it is now"
                ),
                path=str(path),
            )
        self.state.items[fp].done = True
        self.state.save()
        report.completed.append(str(path))

    def _send_message(
        self,
        client: SourceClient,
        message: str,
        organisation: list[crypto.Recipient],
        reply: crypto.Recipient,
        report: Report,
    ) -> None:
        fp = self.state.message_fingerprint(message)
        item = self.state.items.get(fp)
        if item and item.done:
            report.already_done.append("message")
            return
        if item is None:
            item = self.state.items[fp] = Item(new_sealed_id())
            self.state.save()
        self._upload(
            client, plan_message(message, item.id), organisation, reply, report, "message", None
        )
        item.done = True
        self.state.save()
        report.completed.append("message")

    def _upload(
        self,
        client: SourceClient,
        plan: FilePlan,
        organisation: list[crypto.Recipient],
        reply: crypto.Recipient,
        report: Report,
        label: str,
        view: UploadObject | None,
    ) -> None:
        manifest = plan.manifest
        if view is None:
            note = base64.b64encode(crypto.encrypt(plan.note(), [reply])).decode("ascii")
            created = client.api(
                "POST",
                "/api/uploads",
                expect=(200, 201),
                json={"id": manifest.id, "segments": manifest.plan.count, "note": note},
            )
            view = _read(UploadObject, created, "/api/uploads")
            if view.id != manifest.id:
                raise FormatError(
                    N_("{record}: {field} should be {expected}"),
                    record="/api/uploads",
                    field="id",
                    expected=manifest.id,
                )
        if self.state.unconfirmed:  # the server keeps this codename now
            self.state.unconfirmed = False
            self.state.save()
        received = set(view.received)
        missing = [i for i in range(manifest.plan.count) if i not in received]
        report.skipped_segments += len(received)
        held = sum(manifest.plan.size_of(i) for i in received)
        report.current, report.current_held, report.current_size = label, held, manifest.size
        progress = self.on_file(label, manifest.size, held) if self.on_file else None
        if plan.text is not None or len(missing) <= 1 or self.jobs <= 1:
            for index in missing:
                self._landed(
                    report, plan, index, _put_one(client, plan, index, organisation, progress)
                )
        else:
            self._parallel(client, plan, missing, organisation, report, progress)
        if not view.manifest:
            client.api(
                "PUT",
                f"/api/uploads/{manifest.id}/manifest",
                content=crypto.encrypt(manifest.encode(), organisation),
            )
        client.api(
            "POST", f"/api/uploads/{manifest.id}/complete", json={"kind": manifest.kind.value}
        )
        report.current = None

    @staticmethod
    def _landed(report: Report, plan: FilePlan, index: int, sent: int) -> None:
        report.sent_segments += 1
        report.sent_bytes += sent
        report.current_held += plan.plan.size_of(index)

    def _parallel(
        self,
        client: SourceClient,
        plan: FilePlan,
        missing: list[int],
        organisation: list[crypto.Recipient],
        report: Report,
        progress: Progress | None,
    ) -> None:
        """Send the missing segments from ``jobs`` threads over the client's connection pool.

        Reading, hashing, encryption and sending all release the GIL, so threads keep every
        core and the link busy without forking the process. The threads are daemons and
        are never waited for once the run stops: Ctrl-C ends the process at once (a
        thread pool is joined at exit, which once kept a stopped run going for 43 s while
        the segments in flight finished).
        """
        assert plan.path is not None
        try:
            fd = os.open(plan.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise _unreadable(plan.path, exc) from exc
        results: queue.SimpleQueue[tuple[int, int | BaseException]] = queue.SimpleQueue()

        def put(index: int) -> None:
            try:
                results.put(
                    (index, _put_from_file(client, fd, plan, index, organisation, progress))
                )
            except BaseException as exc:  # handed to the main thread, which decides
                results.put((index, exc))

        queued = list(reversed(missing))
        in_flight = 0
        try:
            while queued or in_flight:
                while queued and in_flight < self.jobs:
                    index = queued.pop()
                    threading.Thread(
                        target=put, args=(index,), name="tainik-send", daemon=True
                    ).start()
                    in_flight += 1
                index, outcome = results.get()
                in_flight -= 1
                if isinstance(outcome, BaseException):
                    raise outcome
                self._landed(report, plan, index, outcome)
        except KeyboardInterrupt:
            # Stopped: the threads drop their requests between two slices; nothing waits
            # for them (fd stays open until the process ends: they may still read it).
            client.stop.set()
            raise
        except BaseException:
            while in_flight:  # this file failed: let the others finish, then go on
                results.get()
                in_flight -= 1
            os.close(fd)
            raise
        os.close(fd)


class _Codec(Protocol[C_co]):
    @classmethod
    def parse(cls, value: object, record: str) -> C_co: ...


def _read(codec: type[_Codec[C_co]], answer: Answer, record: str) -> C_co:
    """The server's answer, read by its codec (a :class:`RecordError` names the field)."""
    return codec.parse(load_json(answer.content, record), record)


def _resume_note(view: UploadObject) -> ResumeNote | None:
    """The upload's resume note, if it is one this client can read (another client's, or an
    old one, is not: the file is then hashed again)."""
    if view.note is None:
        return None
    try:
        return ResumeNote.parse(view.note, "note")
    except RecordError:
        return None


def _check_limit(files: Sequence[Path], limit: int | None) -> None:
    """Refuse, before anything is hashed or sent, a file larger than the server accepts (it
    would refuse it at the end of a long hashing read, or at its last segment)."""
    if not limit:
        return
    for path in files:
        try:
            size = os.stat(path).st_size
        except OSError as exc:
            raise _unreadable(path, exc) from exc
        if size > limit:
            raise UsageError(
                N_("{path} is larger than this server accepts ({limit}); nothing was sent"),
                path=str(path),
                limit=human_bytes(limit),
            )


def _unreadable(path: Path | None, exc: OSError) -> StorageError:
    return StorageError(
        N_("{path}: cannot read ({reason})"), path=str(path), reason=exc.strerror or str(exc)
    )


def _put_one(
    client: SourceClient,
    plan: FilePlan,
    index: int,
    organisation: list[crypto.Recipient],
    progress: Progress | None,
) -> int:
    return _seal_and_put(client, plan, index, plan.read_segment(index), organisation, progress)


def _put_from_file(
    client: SourceClient,
    fd: int,
    plan: FilePlan,
    index: int,
    organisation: list[crypto.Recipient],
    progress: Progress | None,
) -> int:
    """Thread: read one segment into this thread's buffer, then check, seal and PUT it."""
    size = plan.plan.size_of(index)
    view = memoryview(pool.scratch("plaintext", size))[:size]
    try:
        read = pool.readinto_exactly(fd, view, plan.plan.offset(index))
    except OSError as exc:
        raise _unreadable(plan.path, exc) from exc
    return _seal_and_put(client, plan, index, view[:read], organisation, progress)


def _seal_and_put(
    client: SourceClient,
    plan: FilePlan,
    index: int,
    data: bytes | memoryview,
    recipients: list[crypto.Recipient],
    progress: Progress | None,
) -> int:
    """Check that one segment is unchanged, encrypt it and PUT it; returns the bytes sent."""
    if not plan.is_unchanged(index, data):
        raise StorageError(
            N_("{path}: the file changed since it was hashed; the next run hashes it again"),
            path=str(plan.path or "message"),
        )
    out = pool.scratch("sealed", crypto.encrypted_size(len(data), len(recipients)))
    body = memoryview(crypto.encrypt_buffer(data, recipients, out))
    meter = _Meter(progress, len(data), len(body)) if progress else None
    client.api(
        "PUT",
        f"/api/uploads/{plan.manifest.id}/segments/{index}",
        content=body,
        on_sent=meter,
        held=lambda: _stored_already(client, plan.manifest.id, index),
    )
    return len(body)


def _stored_already(client: SourceClient, upload_id: str, index: int) -> Answer | None:
    """After a segment went out whole and its answer was lost: the server's answer for it if
    the server holds it (it is not sent again), else None. Asked once per such loss, so a
    link that drops (Tor restarted) re-sends what was missing, not what was in flight."""
    try:
        found = client.request("GET", f"/api/uploads/{upload_id}", expect=(200,))
        view = _read(UploadObject, found, "/api/uploads/ID")
    except (TainikError, RecordError):
        return None
    if index in view.received:
        return Answer(200, {}, b'{"stored": %d}' % index)
    return None


class _Meter:
    """Sealed bytes of one segment leaving, as plaintext bytes for the progress line (the
    sealed form is a little larger: the bar counts the file, not the overhead)."""

    def __init__(self, progress: Progress, plain: int, sealed: int) -> None:
        self._progress = progress
        self._plain = plain
        self._sealed = max(sealed, 1)
        self._sent = 0
        self._shown = 0

    def __call__(self, count: int) -> None:
        self._sent += count
        shown = self._sent * self._plain // self._sealed
        if shown != self._shown:
            self._progress(shown - self._shown)
            self._shown = shown


def new_source(settings: ClientSettings, codename_out: Path) -> crypto.Secret:
    """Create a source on the server and write its codename to ``codename_out`` (0600)."""
    if codename_out.exists():
        raise UsageError(
            N_("{path} already exists: refusing to overwrite a codename"), path=str(codename_out)
        )
    client = SourceClient(settings)
    try:
        made = client.api("POST", "/api/sources", expect=(201,))
        codename = _read(NewCodename, made, "/api/sources").codename
    finally:
        client.close()
    fd = os.open(codename_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (codename + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return crypto.Secret(codename)
