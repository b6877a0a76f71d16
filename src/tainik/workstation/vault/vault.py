"""Opening and creating a vault; the writer lock; appending custody records.

Every change to a vault goes through a :class:`VaultWriter`: it holds the vault's lock (one
writer at a time), the unlocked signing key and the actor's name, and appends each custody
record in the same SQLite transaction as the catalogue rows it vouches for, together with a
newly signed head. So the log and the catalogue cannot disagree after a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tainik.core.errors import N_, IdentityError
from tainik.sealed import durable
from tainik.workstation.signing import SigningKey, VerifyKey
from tainik.workstation.vault import catalogue, keyfile, migrations
from tainik.workstation.vault.canonical import JsonObject
from tainik.workstation.vault.custody import (
    GENESIS_PREV,
    Action,
    CustodyRecord,
    Head,
    new_record,
)
from tainik.workstation.vault.errors import NotAVaultError, VaultBusyError, VaultUsageError
from tainik.workstation.vault.layout import README_TEXT, VaultPaths
from tainik.workstation.vault.objects import ObjectStore

FORMAT = "tainik.org/vault/v1"
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


class Vault:
    """A vault folder: its paths, catalogue and object store. Reading needs no key."""

    def __init__(self, root: Path, engine: Engine, clock: Clock = utc_now) -> None:
        self.paths = VaultPaths(root)
        self.engine = engine
        self.objects = ObjectStore(self.paths)
        self.clock = clock

    @classmethod
    def open(cls, root: Path, clock: Clock = utc_now, *, upgrading: bool = False) -> Vault:
        """Open an existing vault (nothing is checked yet: that is ``verify``'s job), refusing
        a catalogue older or newer than this code unless ``upgrading`` (``vault migrate``)."""
        paths = VaultPaths(root)
        if not paths.catalogue.is_file():
            raise NotAVaultError(path=str(root))
        engine = catalogue.connect(paths.catalogue)
        if not upgrading:
            try:
                migrations.require_current(engine, root)
            except BaseException:
                engine.dispose()
                raise
        return cls(root, engine, clock)

    @classmethod
    def create(
        cls,
        root: Path,
        key: SigningKey,
        key_file: bytes,
        *,
        actor: str,
        recipients: Sequence[str],
        identity_path: Path | None,
        clock: Clock = utc_now,
    ) -> Vault:
        """Make a new vault at ``root`` (which must not exist, or be an empty folder).

        The vault is built in a hidden sibling folder and renamed into place when complete.
        """
        cls.check_new_location(root)
        partial = root.parent / f".{root.name}.partial"
        try:
            _remove_partial(partial)
            partial.mkdir(mode=0o700, parents=True)
            paths = VaultPaths(partial)
            paths.objects.mkdir(parents=True, mode=0o755)
            paths.staging.mkdir(mode=0o700)
            durable.write_file(paths.readme, README_TEXT.encode("ascii"))
            durable.write_file(paths.key_file, key_file)
            os.chmod(paths.key_file, 0o400)
            durable.write_file(paths.public_key_file, (key.verify_key.text + "\n").encode())
            os.chmod(paths.public_key_file, 0o444)
            migrations.create(paths.catalogue)  # at the newest revision
            engine = catalogue.connect(paths.catalogue)
            with engine.begin() as db:
                _set_meta(db, "format", FORMAT)
                _set_meta(db, "vault_key", key.verify_key.text)
                _set_meta(db, "recipients", json.dumps(list(recipients)))
                if identity_path is not None:
                    _set_meta(db, "identity", str(identity_path.resolve()))
                genesis = new_record(
                    seq=0,
                    prev=GENESIS_PREV,
                    moment=clock(),
                    actor=actor,
                    action=Action.INIT,
                    details={
                        "format": FORMAT,
                        "key": key.verify_key.text,
                        "recipients": list(recipients),
                    },
                ).signed(key)
                db.execute(insert(catalogue.custody).values(seq=0, record=genesis.line()))
                _set_meta(db, "custody_head", Head(1, genesis.hash).signed(key).encode())
            engine.dispose()
            if root.exists():
                root.rmdir()
            partial.rename(root)
            durable.fsync_dir(root.parent)
        except OSError as exc:
            raise durable.storage_error(exc, root) from exc
        return cls.open(root, clock)

    @staticmethod
    def check_new_location(root: Path) -> None:
        """Refuse a place for a new vault that exists and is not an empty folder."""
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise VaultUsageError(N_("{path}: already exists and is not empty"), path=str(root))

    # -- reading --------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table."""
        with self.engine.connect() as db:
            row = db.execute(
                select(catalogue.meta.c.value).where(catalogue.meta.c.key == key)
            ).first()
        return None if row is None else str(row.value)

    def recipients(self) -> list[str]:
        """The organisation recipients the vault was made for."""
        text = self.meta("recipients")
        value = json.loads(text) if text else []
        return [str(v) for v in value] if isinstance(value, list) else []

    def identity_path(self) -> Path | None:
        """The identity file named at ``vault init``, if any."""
        text = self.meta("identity")
        return Path(text) if text else None

    def public_key(self) -> VerifyKey:
        """The key in ``vault.pub``."""
        return keyfile.read_public(self.paths.public_key_file)

    def genesis_key(self) -> VerifyKey | None:
        """The key that record 0 (``vault.init``) names, if that record parses."""
        with self.engine.connect() as db:
            row = db.execute(
                select(catalogue.custody.c.record).where(catalogue.custody.c.seq == 0)
            ).first()
        if row is None:
            return None
        try:
            record = CustodyRecord.parse(bytes(row.record))
            key = record.details.get("key")
            return VerifyKey.parse(key) if isinstance(key, str) else None
        except (ValueError, IdentityError):
            return None

    def records(self) -> Iterator[tuple[int, bytes]]:
        """``(seq, line)`` of every stored custody record, in ``seq`` order."""
        with self.engine.connect() as db:
            for row in db.execute(
                select(catalogue.custody.c.seq, catalogue.custody.c.record).order_by(
                    catalogue.custody.c.seq
                )
            ):
                yield int(row.seq), bytes(row.record)

    def writer(self, key: SigningKey, actor: str) -> VaultWriter:
        """Take the writer lock with ``key``; use as a context manager."""
        return VaultWriter(self, key, actor)

    def close(self) -> None:
        """Release the catalogue's connections."""
        self.engine.dispose()

    def __enter__(self) -> Vault:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class VaultWriter:
    """The one writer of a vault: lock, key, actor, and :meth:`append`."""

    def __init__(self, vault: Vault, key: SigningKey, actor: str) -> None:
        self.vault = vault
        self.key = key
        self.actor = actor
        self._lock_fd: int | None = None
        self._db: Connection | None = None
        self._last: tuple[int, str] | None = None  # (seq, hash) of the last record

    def __enter__(self) -> VaultWriter:
        path = self.vault.paths.lock
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise durable.storage_error(exc, path) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise VaultBusyError(path=str(self.vault.paths.root)) from exc
        self._lock_fd = fd
        expected = self.vault.genesis_key()
        if expected is None or expected != self.key.verify_key:
            self._release()
            raise IdentityError(
                N_(
                    "This is not the vault's signing key: the custody log was started with "
                    "{expected} but vault.key holds {found} (was the vault key replaced?)"
                ),
                expected=expected.fingerprint if expected else "no key",
                found=self.key.verify_key.fingerprint,
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()

    def _release(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One SQLite transaction for catalogue rows and the records that vouch for them; the
        signed head is written once, at its end."""
        if self._lock_fd is None:
            raise RuntimeError("the vault writer is not entered")
        try:
            with self.vault.engine.begin() as db:
                self._db = db
                start = self._last
                yield db
                if self._last is not None and self._last != start:
                    count, digest = self._last[0] + 1, self._last[1]
                    _set_meta(db, "custody_head", Head(count, digest).signed(self.key).encode())
        except BaseException:
            self._last = None  # rolled back: read it again next time
            raise
        finally:
            self._db = None

    def append(
        self,
        db: Connection,
        action: str,
        *,
        inputs: Sequence[JsonObject] = (),
        outputs: Sequence[JsonObject] = (),
        details: JsonObject | None = None,
    ) -> CustodyRecord:
        """Sign and append one record inside the caller's transaction ``db``.

        Inside :meth:`transaction` (its connection) the head is signed once at the end and the
        last record is remembered between appends; in any other transaction (``with
        vault.engine.begin() as db``) each append reads the last record and signs the head.
        """
        if self._lock_fd is None:
            raise RuntimeError("the vault writer is not entered")
        batched = self._db is not None and db is self._db
        if not batched or self._last is None:
            last = db.execute(
                select(catalogue.custody.c.seq, catalogue.custody.c.record)
                .order_by(catalogue.custody.c.seq.desc())
                .limit(1)
            ).first()
            current = (
                (-1, GENESIS_PREV)
                if last is None
                else (int(last.seq), hashlib.sha256(bytes(last.record)).hexdigest())
            )
        else:
            current = self._last
        seq, prev = current[0] + 1, current[1]
        record = new_record(
            seq=seq,
            prev=prev,
            moment=self.vault.clock(),
            actor=self.actor,
            action=action,
            inputs=inputs,
            outputs=outputs,
            details=details,
        ).signed(self.key)
        db.execute(insert(catalogue.custody).values(seq=seq, record=record.line()))
        if batched:
            self._last = (seq, record.hash)
        else:
            self._last = None
            _set_meta(db, "custody_head", Head(seq + 1, record.hash).signed(self.key).encode())
        return record


def _set_meta(db: Connection, key: str, value: str) -> None:
    statement = sqlite_insert(catalogue.meta).values(key=key, value=value)
    db.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


def _remove_partial(partial: Path) -> None:
    """Remove a vault folder left half-made by an interrupted ``init``."""
    if not partial.exists():
        return
    for path in sorted(partial.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            os.chmod(path, 0o700)
            path.rmdir()
        else:
            path.unlink()
    partial.rmdir()
