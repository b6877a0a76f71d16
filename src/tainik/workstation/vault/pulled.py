"""What ``vault import`` reads: sealed files, and the metadata ``tainik pull`` writes beside them.

docs/workstation.md, "The pulled folder", is normative. In short: each sealed file
``ID.sealed/`` may have a sidecar ``ID.json`` in the same folder saying which source sent it,
what kind it is and when the server received it. A sealed file without a sidecar goes to the
``unsorted`` thread. The sidecar is the server's claim: it decides only where an item is
filed, never what it contains (the sealed file is verified on its own).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tainik.core import pulled
from tainik.core.errors import N_, FormatError, StorageError
from tainik.core.jsonfields import RecordError, reason_of
from tainik.core.manifest import Kind
from tainik.sealed import layout, regular
from tainik.sealed.tarball import TAR_SUFFIX

SIDECAR_FORMAT = pulled.FORMAT
MAX_SIDECAR = 64 * 1024
UNSORTED_KEY = "unsorted"
UNSORTED_DESIGNATION = "unsorted"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Who sent an item, as the server names them: never a real identity."""

    key: str  # unique in the vault: "ORIGIN/ID", or "unsorted"
    designation: str


UNSORTED = SourceRef(UNSORTED_KEY, UNSORTED_DESIGNATION)


@dataclass(frozen=True, slots=True)
class PulledItem:
    """One sealed file to import, with where it belongs."""

    container: Path
    source: SourceRef
    kind: Kind | None  # the server's label; where it differs, the manifest wins (recorded)
    sent_at: str | None
    sent_order: int | None

    @property
    def sealed_id(self) -> str | None:
        """The id in the container's name (``ID.sealed`` or ``ID.sealed.tar``), if canonical."""
        return layout.id_from_container(self.container.with_name(_container_name(self.container)))

    @property
    def is_tar(self) -> bool:
        """Whether the sealed file comes as a sealed-file tar."""
        return self.container.name.endswith(TAR_SUFFIX)


def _container_name(path: Path) -> str:
    """``ID.sealed`` for ``ID.sealed`` and ``ID.sealed.tar``."""
    return path.name.removesuffix(TAR_SUFFIX)


def is_container(path: Path) -> bool:
    """A folder named ``*.sealed`` (hidden partial folders excluded)."""
    return path.is_dir() and path.name.endswith(layout.SUFFIX) and not path.name.startswith(".")


def is_sealed_tar(path: Path) -> bool:
    """A file named ``ID.sealed.tar``: one sealed file as downloaded (docs/format.md)."""
    return (
        path.is_file()
        and path.name.endswith(layout.SUFFIX + TAR_SUFFIX)
        and layout.id_from_container(path.with_name(_container_name(path))) is not None
    )


def is_other_tar(path: Path) -> bool:
    """Any other ``*.tar`` file (a selection tar, or a renamed sealed-file tar)."""
    return path.is_file() and path.name.endswith(TAR_SUFFIX) and not is_sealed_tar(path)


def discover(paths: Sequence[Path]) -> Iterator[PulledItem]:
    """Every sealed file in ``paths`` (containers, or folders searched below), sorted."""
    for path in paths:
        if is_container(path) or is_sealed_tar(path) or is_other_tar(path):
            yield _item(path)
        elif path.is_dir():
            for found in sorted(_walk(path)):
                yield _item(found)
        else:
            raise StorageError(
                N_("{path}: neither a sealed file (ID.sealed, ID.sealed.tar) nor a folder"),
                path=str(path),
            )


def _walk(folder: Path) -> Iterator[Path]:
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise StorageError(N_("{path}: cannot list the folder"), path=str(folder)) from exc
    for entry in entries:
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if is_container(entry) or is_sealed_tar(entry):
            yield entry
        elif entry.is_dir():
            yield from _walk(entry)


def sidecar_path(container: Path) -> Path:
    """``ID.json`` beside ``ID.sealed`` or ``ID.sealed.tar``."""
    return container.with_name(_container_name(container).removesuffix(layout.SUFFIX) + ".json")


def _item(container: Path) -> PulledItem:
    sidecar = sidecar_path(container)
    if not sidecar.is_file():
        return PulledItem(container, UNSORTED, None, None, None)
    return parse_sidecar(container, _read(sidecar))


def _read(path: Path) -> bytes:
    try:
        fd = regular.open_regular(path)  # a link or FIFO in a pulled folder is refused
    except OSError as exc:
        raise StorageError(N_("{path}: cannot read"), path=str(path)) from exc
    try:
        data = regular.read_at_most(fd, MAX_SIDECAR + 1)
    except OSError as exc:
        raise StorageError(N_("{path}: cannot read"), path=str(path)) from exc
    finally:
        os.close(fd)
    if len(data) > MAX_SIDECAR:
        raise FormatError(N_("{path}: too large for pull metadata"), path=str(path))
    return data


def parse_sidecar(container: Path, data: bytes, *, label: str | None = None) -> PulledItem:
    """Check a sidecar strictly (docs/workstation.md, by the one codec
    :class:`tainik.core.pulled.Sidecar`) and return the item it describes; ``label`` names it
    in errors (default: the ``ID.json`` beside ``container``)."""
    path = label or str(sidecar_path(container))

    def bad(reason: str) -> FormatError:
        return FormatError(
            N_("{path}: not valid pull metadata ({reason})"), path=path, reason=reason
        )

    try:
        link = pulled.Sidecar.decode(data, path).link
    except RecordError as exc:
        raise bad(reason_of(exc)) from exc
    if layout.container_name(link.sealed_id) != _container_name(container):
        raise bad("sealed_id differs from the folder name")
    return PulledItem(
        container,
        SourceRef(f"{link.server.rstrip('/')}/{link.source_id}", link.designation),
        Kind(link.kind),
        link.created_at,
        link.order,
    )
