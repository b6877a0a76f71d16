"""Items, sources and threads as the catalogue holds them, and how a user names an item.

An ITEM on the command line is an item number (``12`` or ``#12``), or the beginning (at least
8 hexadecimal characters) of the SHA-256 of a stored file: an original or a derived copy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Row, Select, select

from tainik.core.errors import N_
from tainik.core.manifest import Kind
from tainik.workstation.vault import catalogue
from tainik.workstation.vault.custody import FileRef
from tainik.workstation.vault.errors import VaultUsageError
from tainik.workstation.vault.vault import Vault

_NUMBER_RE = re.compile(r"#?([1-9][0-9]{0,17})")
_PREFIX_RE = re.compile(r"[0-9a-f]{8,64}")


@dataclass(frozen=True, slots=True)
class Item:
    """One received sealed file, opened and stored."""

    id: int
    source_id: int
    sealed_id: str
    kind: Kind
    name: bytes
    display_name: str
    sent_at: str | None
    ref: FileRef
    custody_seq: int


@dataclass(frozen=True, slots=True)
class Source:
    """A source as the server designates it (or the ``unsorted`` pseudo-source)."""

    id: int
    key: str
    designation: str


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What an ITEM argument resolves to: a stored file, and the item it came with if any."""

    ref: FileRef
    item: Item | None
    derived_from: str | None  # the original's SHA-256, for a derived file
    display_name: str


def _item_query() -> Select[Any]:
    i, o = catalogue.items, catalogue.objects
    return select(
        i.c.id,
        i.c.source_id,
        i.c.sealed_id,
        i.c.kind,
        i.c.name,
        i.c.display_name,
        i.c.sent_at,
        i.c.custody_seq,
        o.c.sha256,
        o.c.blake3,
        o.c.size,
    ).join(o, o.c.sha256 == i.c.sha256)


def _item(row: Row[Any]) -> Item:
    return Item(
        id=int(row.id),
        source_id=int(row.source_id),
        sealed_id=str(row.sealed_id),
        kind=Kind(str(row.kind)),
        name=bytes(row.name),
        display_name=str(row.display_name),
        sent_at=None if row.sent_at is None else str(row.sent_at),
        ref=FileRef(str(row.sha256), str(row.blake3), int(row.size)),
        custody_seq=int(row.custody_seq),
    )


def sources(vault: Vault) -> list[Source]:
    """Every source, in the order they first appeared."""
    s = catalogue.sources
    with vault.engine.connect() as db:
        rows = db.execute(select(s.c.id, s.c.key, s.c.designation).order_by(s.c.id)).all()
    return [Source(int(r.id), str(r.key), str(r.designation)) for r in rows]


def thread(vault: Vault, source_id: int) -> list[Item]:
    """A source's items in conversation order: server time, then the source's items before
    staff replies, then server order, then import order.

    The server keeps source-related times to the hour (docs/threat-model.md, "Times,
    coarsened"), and submissions and replies are numbered apart: within one hour the true
    order of a message and a reply is not kept anywhere, and a reply is taken to answer what
    the source sent that hour.
    """
    i = catalogue.items
    query = (
        _item_query()
        .where(i.c.source_id == source_id)
        .order_by(
            i.c.sent_at.is_(None), i.c.sent_at, i.c.kind == Kind.REPLY.value, i.c.sent_order, i.c.id
        )
    )
    with vault.engine.connect() as db:
        return [_item(row) for row in db.execute(query)]


def all_items(vault: Vault) -> list[Item]:
    """Every item, by number."""
    with vault.engine.connect() as db:
        return [_item(row) for row in db.execute(_item_query().order_by(catalogue.items.c.id))]


def item_by_id(vault: Vault, item_id: int) -> Item | None:
    """The item with this number."""
    with vault.engine.connect() as db:
        row = db.execute(_item_query().where(catalogue.items.c.id == item_id)).first()
    return None if row is None else _item(row)


def resolve(vault: Vault, text: str) -> StoredFile:
    """The stored file an ITEM argument names; a usage error names what is wrong."""
    text = text.strip()
    number = _NUMBER_RE.fullmatch(text)
    if number:
        item = item_by_id(vault, int(number.group(1)))
        if item is None:
            raise VaultUsageError(N_("There is no item {item} in the vault"), item=text)
        return StoredFile(item.ref, item, None, item.display_name)
    if not _PREFIX_RE.fullmatch(text.lower()):
        raise VaultUsageError(
            N_("'{item}' is neither an item number nor the start of a SHA-256"), item=text[:80]
        )
    prefix = text.lower()
    o = catalogue.objects
    with vault.engine.connect() as db:
        rows = db.execute(
            select(o.c.sha256, o.c.blake3, o.c.size).where(o.c.sha256.startswith(prefix)).limit(2)
        ).all()
        if len(rows) != 1:
            raise VaultUsageError(
                N_("No stored file's SHA-256 starts with {prefix}")
                if not rows
                else N_("Several stored files' SHA-256 start with {prefix}: give more of it"),
                prefix=prefix,
            )
        ref = FileRef(str(rows[0].sha256), str(rows[0].blake3), int(rows[0].size))
        derived = db.execute(
            select(catalogue.derivations.c.original_sha256).where(
                catalogue.derivations.c.derived_sha256 == ref.sha256
            )
        ).first()
    item = _first_item_with(vault, ref.sha256)
    if derived is not None:
        original = _first_item_with(vault, str(derived.original_sha256))
        base = original.display_name if original else ref.sha256[:16]
        return StoredFile(ref, None, str(derived.original_sha256), base)
    return StoredFile(ref, item, None, item.display_name if item else ref.sha256[:16])


def _first_item_with(vault: Vault, sha256: str) -> Item | None:
    with vault.engine.connect() as db:
        row = db.execute(
            _item_query().where(catalogue.items.c.sha256 == sha256).order_by(catalogue.items.c.id)
        ).first()
    return None if row is None else _item(row)


def items_with(vault: Vault, sha256: str) -> list[Item]:
    """Every item whose content is this object (more than one: exact duplicates)."""
    with vault.engine.connect() as db:
        rows = db.execute(
            _item_query().where(catalogue.items.c.sha256 == sha256).order_by(catalogue.items.c.id)
        ).all()
    return [_item(row) for row in rows]


def path_of(vault: Vault, stored: StoredFile | Item) -> Path:
    """Where the stored bytes are."""
    return vault.objects.path(stored.ref.sha256)


def resolve_all(vault: Vault, texts: Sequence[str]) -> list[StoredFile]:
    """:func:`resolve` for each, without repeats."""
    seen: set[str] = set()
    result = []
    for text in texts:
        stored = resolve(vault, text)
        if stored.ref.sha256 not in seen:
            seen.add(stored.ref.sha256)
            result.append(stored)
    return result
