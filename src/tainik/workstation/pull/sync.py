"""Pull every sealed file the newsroom lists that the folder does not hold yet.

For each submission and reply: skip it when ``SEALED.sealed.tar`` is already there; else
download it into a hidden ``.part`` file (resuming one left by an earlier run), check that it
is a sealed-file tar of that sealed file, write the metadata sidecar, and only then give the
tar its name. A folder killed at any moment holds complete, named tars with their sidecars,
and hidden partial files that the next run resumes; ``vault import`` ignores hidden files.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from tainik.core.errors import N_, FormatError, TainikError
from tainik.core.jsonfields import RecordError, load_json
from tainik.core.manifest import Kind
from tainik.core.newsroom_api import PREFIX, ReplyObject, SourceObject, SubmissionObject
from tainik.core.pulled import (
    DownloadFacts,
    FolderClaim,
    Sidecar,
    SourceLink,
    SourceRecord,
    api_time,
)
from tainik.sealed import durable, tarball
from tainik.sealed.hashing import sha256_file
from tainik.workstation.pull.client import ApiClient, PullError
from tainik.workstation.pull.events import Downloaded, Entry, PullObserver, PullReport
from tainik.workstation.pull.layout import (
    PulledPaths,
    check_sealed_id,
    check_source_id,
    write_json_atomically,
)

READ_CHUNK = 4 * 1024 * 1024
# A listing entry that announces no size (replies do not) is a reply: a text of at most
# 100,000 characters, far below this.
MAX_UNSIZED_TAR = 16 * 1024 * 1024


def _entry(kind: Kind, item: SubmissionObject | ReplyObject) -> Entry:
    return Entry(
        kind=kind,
        item_id=item.id,
        source_id=check_source_id(item.source_id),
        sealed_id=check_sealed_id(item.sealed_id),
        created_at=api_time(item.created_at),
        download=item.download.removeprefix(PREFIX),
        size=item.size if isinstance(item, SubmissionObject) else None,
    )


def download_limit(entry: Entry) -> int:
    """The largest sealed-file tar the entry can be: the ciphertext size the listing announced
    plus the archive's own bytes (docs/format.md, "Transport"), or a reply's bound."""
    if entry.size is None:
        return MAX_UNSIZED_TAR
    return tarball.max_sealed_tar_size(entry.size)


class Puller:
    """Fills one pulled folder from one server."""

    def __init__(self, client: ApiClient, root: Path, observer: PullObserver | None = None) -> None:
        self.client = client
        self.paths = PulledPaths(root)
        self.server = client.settings.server
        self.observer = observer or PullObserver()
        self._designations: dict[str, str] = {}

    def run(self, since: str | None = None) -> PullReport:
        """List, then fetch what is missing; one failure does not stop the others."""
        self._claim_folder()
        report = PullReport()
        params = {"since": since} if since else {}
        entries: list[Entry] = []
        for raw in self.client.pages("/submissions", params):
            submission = SubmissionObject.parse(raw, "/submissions")
            if not submission.complete:
                report.waiting += 1
                continue
            entries.append(_entry(Kind(submission.kind), submission))
        entries += [
            _entry(Kind.REPLY, ReplyObject.parse(raw, "/replies"))
            for raw in self.client.pages("/replies", params)
        ]
        for entry in entries:
            if self.paths.tar(entry.source_id, entry.sealed_id).is_file():
                report.present += 1
                continue
            try:
                report.fetched.append(self._fetch(entry))
            except (PullError, FormatError) as error:
                report.failed.append((entry, error))
        return report

    def _claim_folder(self) -> None:
        """Record which server this folder holds; refuse to mix two servers in one folder."""
        state = self.paths.state
        if state.is_file():
            try:
                held: str | None = FolderClaim.parse(
                    load_json(state.read_bytes(), str(state)), str(state)
                ).server
            except (OSError, RecordError):
                held = None
            if held != self.server:
                raise PullError(
                    N_("{path} holds what was pulled from {other}; use another folder"),
                    path=str(self.paths.root),
                    other=str(held)[:200],
                )
            return
        write_json_atomically(state, FolderClaim(self.server).to_json())

    def _designation(self, source_id: str) -> str:
        if source_id not in self._designations:
            path = f"/sources/{source_id}"
            source = SourceObject.parse(self.client.get_json(path), path)
            self._designations[source_id] = source.designation
            record = SourceRecord(source_id, source.designation, api_time(source.created_at))
            write_json_atomically(self.paths.source_file(source_id), record.to_json())
        return self._designations[source_id]

    def _fetch(self, entry: Entry) -> Path:
        designation = self._designation(entry.source_id)
        part = self.paths.partial(entry.source_id, entry.sealed_id)
        state = self.paths.partial_state(entry.source_id, entry.sealed_id)
        part.parent.mkdir(parents=True, exist_ok=True)
        resumed = part.stat().st_size if part.exists() else 0
        start = self.observer.download(entry, resumed)
        result: Downloaded | None = None
        try:
            result = self.client.download(entry.download, part, state, download_limit(entry), start)
        finally:
            self.observer.download_done(entry, result)
        check_sealed_tar(part, entry.sealed_id)
        digest = sha256_file(part)
        link = SourceLink(
            server=self.server,
            source_id=entry.source_id,
            designation=designation,
            sealed_id=entry.sealed_id,
            kind=entry.kind.value,
            created_at=entry.created_at,
            order=entry.item_id,
        )
        facts = DownloadFacts(result.size, digest, result.etag, api_time(datetime.now(UTC)))
        sidecar = self.paths.sidecar(entry.source_id, entry.sealed_id)
        try:
            durable.replace_file(sidecar, Sidecar(link, facts).encode())
        except OSError as exc:
            raise durable.storage_error(exc, sidecar) from exc
        final = self.paths.tar(entry.source_id, entry.sealed_id)
        try:
            os.rename(part, final)
            state.unlink(missing_ok=True)
            durable.fsync_dir(final.parent)
        except OSError as exc:
            raise durable.storage_error(exc, final) from exc
        return final


def check_sealed_tar(path: Path, sealed_id: str) -> None:
    """Structure only (there is no key here): the strict reader's checks of a sealed-file tar
    of ``sealed_id`` (docs/format.md, "Transport").

    A download that is not the sealed-file tar of ``sealed_id`` is removed (the next run fetches
    it again); the full checks happen when ``vault import`` opens it.
    """
    try:
        tarball.check_sealed_tar(path, sealed_id)
    except TainikError as exc:
        path.unlink(missing_ok=True)
        raise FormatError(
            N_("{path}: not the sealed-file tar of {id}"), path=str(path), id=sealed_id
        ) from exc
