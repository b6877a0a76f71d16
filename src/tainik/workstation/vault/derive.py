"""Derived files and copies: each made from a checked original and recorded in the custody log.

A derived file (a scrubbed working copy) is stored in the vault like an original, named by its
own SHA-256, and a ``derive`` record names the original's hashes as input, the new file's as
output, and the tool and settings that made it. A ``copy`` record says that the stored bytes of
an original were copied out, checked, to a working folder.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select

from tainik.core.errors import N_, IntegrityError
from tainik.sealed import durable
from tainik.workstation.vault import catalogue
from tainik.workstation.vault.copyout import copy_verified
from tainik.workstation.vault.custody import Action, CustodyRecord, FileRef
from tainik.workstation.vault.items import StoredFile
from tainik.workstation.vault.objects import hash_file
from tainik.workstation.vault.scrub import scrub
from tainik.workstation.vault.vault import VaultWriter


@dataclass(frozen=True, slots=True)
class Derived:
    """A derived file: stored in the vault, and its working copy."""

    original: FileRef
    derived: FileRef
    method: str
    tool: str
    working_copy: Path
    record: CustodyRecord


def check_original(writer: VaultWriter, stored: StoredFile) -> Path:
    """The stored file's path, after checking that its bytes are still what was stored."""
    path = writer.vault.objects.path(stored.ref.sha256)
    found = hash_file(path)
    if found != stored.ref:
        raise IntegrityError(
            N_("Stored file {sha} was altered; run 'tainik vault verify'"),
            sha=stored.ref.sha256[:16],
        )
    return path


def scrub_item(writer: VaultWriter, stored: StoredFile, out_dir: Path) -> Derived:
    """Make, store and record a metadata-free copy of ``stored``; copy it to ``out_dir``."""
    vault = writer.vault
    original = check_original(writer, stored)
    work = vault.paths.staging / f"scrub-{secrets.token_hex(6)}"
    try:
        work.mkdir(mode=0o700, parents=True)
    except OSError as exc:
        raise durable.storage_error(exc, work) from exc
    try:
        made = scrub(original, work)
        ref = hash_file(made.path)
        with writer.transaction() as db:
            known = db.execute(
                select(catalogue.objects.c.sha256).where(catalogue.objects.c.sha256 == ref.sha256)
            ).first()
            if known is None:
                vault.objects.drop_stray(ref)
            vault.objects.add(made.path, ref)
            record = writer.append(
                db,
                Action.DERIVE,
                inputs=[stored.ref.to_json()],
                outputs=[ref.to_json()],
                details={"purpose": "scrub", "method": made.method, "tool": made.tool},
            )
            if known is None:
                db.execute(
                    insert(catalogue.objects).values(
                        sha256=ref.sha256, blake3=ref.blake3, size=ref.size, custody_seq=record.seq
                    )
                )
            db.execute(
                insert(catalogue.derivations).values(
                    original_sha256=stored.ref.sha256,
                    derived_sha256=ref.sha256,
                    method=f"scrub: {made.method}",
                    custody_seq=record.seq,
                )
            )
    finally:
        durable.remove_tree(work)
    name = f"scrubbed-{ref.sha256[:16]}.{made.extension}"
    copy = copy_verified(vault.objects.path(ref.sha256), out_dir, name, ref.sha256)
    return Derived(stored.ref, ref, made.method, made.tool, copy, record)


def copy_item(writer: VaultWriter, stored: StoredFile, out_dir: Path) -> tuple[Path, CustodyRecord]:
    """Copy a stored file out (checked as it is written) and record the copy."""
    vault = writer.vault
    copy = copy_verified(
        vault.objects.path(stored.ref.sha256), out_dir, stored.display_name, stored.ref.sha256
    )
    with writer.transaction() as db:
        record = writer.append(
            db,
            Action.COPY,
            inputs=[stored.ref.to_json()],
            outputs=[stored.ref.to_json()],
            details={"purpose": "working copy"},
        )
    return copy, record
