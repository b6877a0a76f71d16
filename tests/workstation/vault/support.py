"""Helpers for the vault tests: sealed files, pull metadata, vaults, media made by ffmpeg.

Import as ``from workstation.vault.support import ...`` (``tests/`` is on ``sys.path``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tainik import crypto
from tainik.core.manifest import Kind
from tainik.sealed.writer import DirectorySink, SegmentSealer, new_sealed_id
from tainik.workstation.signing import SigningKey
from tainik.workstation.vault import keyfile
from tainik.workstation.vault.events import ImportResult
from tainik.workstation.vault.importer import Importer
from tainik.workstation.vault.pulled import SIDECAR_FORMAT
from tainik.workstation.vault.vault import Vault

SMALL_SEGMENT = 65_536
SERVER = "http://newsroom.example.onion"


def seal(
    data: bytes,
    out: Path,
    recipient: crypto.Recipient,
    *,
    kind: Kind = Kind.FILE,
    name: bytes = b"evidence.bin",
    segment_size: int = SMALL_SEGMENT,
) -> Path:
    """A complete sealed file of ``data`` in ``out``; returns its ``ID.sealed`` path."""
    sealed_id = new_sealed_id()
    sink = DirectorySink(out, sealed_id)
    sealer = SegmentSealer(
        [recipient],
        sink,
        kind=kind,
        name=b"" if kind != Kind.FILE else name,
        segment_size=segment_size,
        sealed_id=sealed_id,
    )
    sealer.write(data)
    sealer.finish()
    return sink.commit()


def sidecar(
    container: Path,
    *,
    kind: Kind,
    source_id: str = "7",
    designation: str = "quiet heron",
    created_at: str | None = None,
    order: int | None = None,
) -> None:
    """Write the pull metadata (docs/workstation.md) beside ``container``."""
    value: dict[str, object] = {
        "format": SIDECAR_FORMAT,
        "server": SERVER,
        "source": {"id": source_id, "designation": designation},
        "sealed_id": container.name.removesuffix(".sealed"),
        "kind": kind.value,
    }
    if created_at is not None:
        value["created_at"] = created_at
    if order is not None:
        value["order"] = order
    container.with_name(container.name.removesuffix(".sealed") + ".json").write_text(
        json.dumps(value), encoding="utf-8"
    )


@dataclass
class Clock:
    """A test clock that moves one second a call."""

    now: datetime = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def new_vault(root: Path, recipient: crypto.Recipient, key: SigningKey | None = None) -> Vault:
    """A vault with an unprotected key (tests only)."""
    key = key or SigningKey.generate()
    return Vault.create(
        root,
        key,
        keyfile.key_file_bytes(key, None),
        actor="tester",
        recipients=[recipient.text],
        identity_path=None,
        clock=Clock(),
    )


def import_into(
    vault: Vault,
    identities: Sequence[crypto.Identity],
    paths: Sequence[Path],
    *,
    jobs: int = 1,
    actor: str = "tester",
) -> list[ImportResult]:
    """Import with the vault's own key."""
    key = keyfile.load(vault.paths.key_file, None)
    with vault.writer(key, actor) as writer:
        return Importer(writer, identities, jobs=jobs).run(paths)


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly; fail loudly."""
    exe = shutil.which("ffmpeg")
    assert exe is not None, "ffmpeg is missing: run 'make setup' (Debian package ffmpeg)"
    subprocess.run([exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def exiftool(*args: str) -> str:
    """Run exiftool; returns its output."""
    exe = shutil.which("exiftool")
    assert exe is not None, "exiftool is missing: run 'make setup' (libimage-exiftool-perl)"
    return subprocess.run([exe, *args], check=True, capture_output=True, text=True).stdout


def clip(
    out: Path, source: str, *, overlay: str, y: int, options: str = "", seconds: int = 12
) -> Path:
    """A synthetic clip: an ffmpeg test source, a moving box, and noise (320x180, 15 fps)."""
    extra = f":{options}" if options else ""
    graph = (
        f"{source}=s=320x180:r=15{extra}[a];color=c={overlay}:s=60x40:r=15[b];"
        f"[a][b]overlay=x='t*20':y={y},noise=alls=15:allf=t+u"
    )
    ffmpeg(
        "-filter_complex",
        graph,
        "-t",
        str(seconds),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        str(out),
    )
    return out


def to_tar(container: Path, *, remove: bool = True) -> Path:
    """The sealed-file tar of ``container`` beside it (as ``tainik pull`` downloads it)."""
    from tainik.sealed import durable, tarball

    target = container.with_name(container.name + ".tar")
    with target.open("wb") as out:
        for chunk in tarball.sealed_file_tar(container).stream():
            out.write(chunk)
    if remove:
        durable.remove_tree(container)
    return target
