"""``tainik send``: seal files locally and upload them resumably.

Each file is read once to hash it (cached in the resume state), then every segment the server
lacks is read again, checked against its BLAKE3 check (plan.py), encrypted and sent by a few
threads sharing one connection pool. Nothing plaintext is written anywhere; a re-run resumes
where the server stopped.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tainik import crypto
from tainik.core.errors import N_, StorageError, UsageError
from tainik.core.units import human_bytes
from tainik.sealed import pool
from tainik.sealed.writer import new_sealed_id
from tainik.sender.client import ClientSettings, SourceClient
from tainik.sender.plan import FilePlan, plan_file, plan_message
from tainik.sender.state import SendState

Progress = Callable[[int], None]


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


@dataclass
class Sender:
    """Uploads files and a message for one source."""

    settings: ClientSettings
    state: SendState
    jobs: int = 4
    on_file: Callable[[str, int], Progress] | None = None

    def run(self, codename: crypto.Secret, files: Sequence[Path], message: str | None) -> Report:
        """Log in, then send every file and the message."""
        report = Report()
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
            session = client.api("POST", "/api/session").json()
            organisation = [crypto.Recipient.parse(r) for r in session["organisation"]]
            reply = crypto.Recipient.parse(session["recipient"])
            _check_limit([p for p in files if not self._done(p)], session.get("max_upload_bytes"))
            for path in files:
                try:
                    self._send_file(client, path, organisation, reply, report)
                except StorageError as error:  # this file's own problem, not the link's
                    report.failed.append((str(path), error))
            if message:
                self._send_message(client, message, organisation, reply, report)
        finally:
            client.close()
        return report

    def _recorded(self, path: Path) -> tuple[str, os.stat_result, dict[str, Any] | None]:
        """The file's state key, its stat, and its entry if it is unchanged since recorded."""
        try:
            stat = os.stat(path)
        except OSError as exc:
            raise _unreadable(path, exc) from exc
        key = str(path.resolve())
        return key, stat, self.state.entry(key, stat.st_size, stat.st_mtime_ns)

    def _done(self, path: Path) -> bool:
        """True when an earlier run sent this file, unchanged since."""
        try:
            _key, _stat, entry = self._recorded(path)
        except StorageError:
            return False  # reported where the file is sent
        return bool(entry and entry.get("done"))

    def _plan(self, path: Path) -> tuple[str, FilePlan, dict[str, Any]]:
        key, stat, entry = self._recorded(path)
        if entry is not None:
            return key, FilePlan.from_record(entry, path), entry
        try:
            plan = plan_file(path, new_sealed_id(), jobs=pool.default_jobs())
        except OSError as exc:
            raise _unreadable(path, exc) from exc
        entry = plan.record(stat)
        self.state.files[key] = entry
        self.state.save()
        return key, plan, entry

    def _send_file(
        self,
        client: SourceClient,
        path: Path,
        organisation: list[crypto.Recipient],
        reply: crypto.Recipient,
        report: Report,
    ) -> None:
        key, plan, entry = self._plan(path)
        if entry.get("done"):
            report.already_done.append(str(path))
            return
        try:
            self._upload(client, plan, organisation, reply, report, path.name)
        except StorageError:
            # The plan no longer describes the file (or it could not be read): the next run
            # hashes it again instead of failing on the same check for ever.
            self.state.files.pop(key, None)
            self.state.save()
            raise
        before = os.stat(path)
        if (before.st_size, before.st_mtime_ns) != (entry["size"], entry["mtime_ns"]):
            raise StorageError(
                N_(
                    "{path}: the file changed while it was being sent; the version read "
                    "before was delivered, and the next run sends it as it is now"
                ),
                path=str(path),
            )
        entry["done"] = True
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
        key = "message:" + hashlib.sha256(message.encode("utf-8")).hexdigest()
        entry = self.state.files.get(key)
        if entry and entry.get("done"):
            report.already_done.append("message")
            return
        sealed_id = entry["id"] if entry else new_sealed_id()
        self.state.files[key] = {"id": sealed_id, "done": False}
        self.state.save()
        self._upload(
            client, plan_message(message, sealed_id), organisation, reply, report, "message"
        )
        self.state.files[key]["done"] = True
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
    ) -> None:
        manifest = plan.manifest
        note = base64.b64encode(crypto.encrypt(plan.note(), [reply])).decode("ascii")
        view = client.api(
            "POST",
            "/api/uploads",
            expect=(200, 201),
            json={
                "id": manifest.id,
                "segments": manifest.plan.count,
                "note": note,
            },
        ).json()
        if self.state.unconfirmed:  # the server keeps this codename now
            self.state.unconfirmed = False
            self.state.save()
        received = set(view["received"])
        missing = [i for i in range(manifest.plan.count) if i not in received]
        report.skipped_segments += len(received)
        progress = self.on_file(label, manifest.size) if self.on_file else None
        if progress:
            progress(sum(manifest.plan.size_of(i) for i in received))
        if plan.text is not None or len(missing) <= 1 or self.jobs <= 1:
            for index in missing:
                sent = _put_one(client, plan, index, organisation)
                report.sent_segments += 1
                report.sent_bytes += sent
                if progress:
                    progress(manifest.plan.size_of(index))
        else:
            self._parallel(client, plan, missing, organisation, report, progress)
        if not view["manifest"]:
            client.api(
                "PUT",
                f"/api/uploads/{manifest.id}/manifest",
                content=crypto.encrypt(manifest.encode(), organisation),
            )
        client.api(
            "POST", f"/api/uploads/{manifest.id}/complete", json={"kind": manifest.kind.value}
        )

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
        core and the link busy without forking the process.
        """
        assert plan.path is not None
        try:
            fd = os.open(plan.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise _unreadable(plan.path, exc) from exc
        try:
            with ThreadPoolExecutor(self.jobs, thread_name_prefix="tainik-send") as threads:
                pending: dict[Future[int], int] = {}
                queue = list(reversed(missing))
                try:
                    while queue or pending:
                        while queue and len(pending) < self.jobs:
                            index = queue.pop()
                            pending[
                                threads.submit(
                                    _put_from_file, client, fd, plan, index, organisation
                                )
                            ] = index
                        done, _ = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            index = pending.pop(future)
                            report.sent_bytes += future.result()
                            report.sent_segments += 1
                            if progress:
                                progress(plan.plan.size_of(index))
                finally:
                    threads.shutdown(cancel_futures=True)
        finally:
            os.close(fd)


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
    client: SourceClient, plan: FilePlan, index: int, organisation: list[crypto.Recipient]
) -> int:
    return _seal_and_put(client, plan, index, plan.read_segment(index), organisation)


def _put_from_file(
    client: SourceClient,
    fd: int,
    plan: FilePlan,
    index: int,
    organisation: list[crypto.Recipient],
) -> int:
    """Thread: read one segment into this thread's buffer, then check, seal and PUT it."""
    size = plan.plan.size_of(index)
    view = memoryview(pool.scratch("plaintext", size))[:size]
    try:
        read = pool.readinto_exactly(fd, view, plan.plan.offset(index))
    except OSError as exc:
        raise _unreadable(plan.path, exc) from exc
    return _seal_and_put(client, plan, index, view[:read], organisation)


def _seal_and_put(
    client: SourceClient,
    plan: FilePlan,
    index: int,
    data: bytes | memoryview,
    recipients: list[crypto.Recipient],
) -> int:
    """Check that one segment is unchanged, encrypt it and PUT it; returns the bytes sent."""
    if not plan.is_unchanged(index, data):
        raise StorageError(
            N_("{path}: the file changed since it was hashed; the next run hashes it again"),
            path=str(plan.path or "message"),
        )
    out = pool.scratch("sealed", crypto.encrypted_size(len(data), len(recipients)))
    body = memoryview(crypto.encrypt_buffer(data, recipients, out))
    client.api("PUT", f"/api/uploads/{plan.manifest.id}/segments/{index}", content=body)
    return len(body)


def new_source(settings: ClientSettings, codename_out: Path) -> crypto.Secret:
    """Create a source on the server and write its codename to ``codename_out`` (0600)."""
    if codename_out.exists():
        raise UsageError(
            N_("{path} already exists: refusing to overwrite a codename"), path=str(codename_out)
        )
    client = SourceClient(settings)
    try:
        codename = client.api("POST", "/api/sources", expect=(201,)).json()["codename"]
    finally:
        client.close()
    fd = os.open(codename_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (codename + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return crypto.Secret(codename)
