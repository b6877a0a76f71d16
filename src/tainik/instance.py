"""An instance: its folder, its configuration, parsed once at start into a frozen object.

Layout of an instance folder (``tainik init --data DIR``)::

    DIR/tainik.toml      settings (organisation recipients, limits); mode 0600
    DIR/tainik.db        SQLite database (WAL mode), unless database_url says otherwise
    DIR/blobs/           sealed files (ciphertext only), one ID.sealed directory each
    DIR/uploads/         unfinished resumable uploads (ciphertext only), one folder each
    DIR/logo.png         the organisation's logo, if an administrator set one (or .jpg, .webp)

The configuration holds only public keys: the organisation's private key never exists here.
"""

from __future__ import annotations

import math
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tainik.core.errors import N_, StorageError, UsageError
from tainik.core.profile import Profile, profile_from
from tainik.crypto import DEFAULT_KDF_PARAMS, KdfParams, Recipient
from tainik.sealed import durable

CONFIG_NAME = "tainik.toml"
DB_NAME = "tainik.db"
BLOBS_NAME = "blobs"
UPLOADS_NAME = "uploads"
SALT_BYTES = 32
GIB = 1024**3
# Disk space (docs/threat-model.md, "Disk full"): new uploads are refused while less than
# MIN_FREE_BYTES would stay free; one source's unfinished uploads may claim at most
# MAX_UNFINISHED_BYTES; RESERVE_BYTES are held back for staff logins and deletions.
MIN_FREE_BYTES = GIB
MAX_UNFINISHED_BYTES = 256 * GIB
RESERVE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ConnectionLimits:
    """What one client connection may hold of the server, and for how long (the
    ``[connections]`` settings; docs/threat-model.md says why these numbers)."""

    # A request's line and headers must arrive within this many seconds of its first byte
    # (or of the connection, for the first request): a head is a few hundred bytes, which
    # even a slow Tor circuit delivers in a second or two.
    head_timeout_seconds: float = 30.0
    # A request body must bring at least ``body_min_bytes_per_second`` on average over every
    # window of this many seconds while the server is reading it. 500 B/s over 60 s is
    # about a hundredth of the slowest usable Tor circuit, and allows stalls of most of a
    # minute; a body trickled slower than that is closed.
    body_window_seconds: float = 60.0
    body_min_bytes_per_second: int = 500
    # Open connections per listener; more are answered 503 and closed at once. Lowered at
    # start when the process may not open that many files.
    source_connections: int = 512
    newsroom_connections: int = 128


@dataclass(frozen=True)
class InstanceConfig:
    """Everything the server needs to know, read once at start."""

    data_dir: Path
    recipients: tuple[Recipient, ...]
    codename_salt: bytes = field(repr=False)
    database_url: str
    max_upload_bytes: int | None = None
    session_idle_minutes: int = 120
    unfinished_upload_hours: int = 72
    min_free_bytes: int = MIN_FREE_BYTES
    max_unfinished_bytes: int = MAX_UNFINISHED_BYTES
    reserve_bytes: int = RESERVE_BYTES
    kdf: KdfParams = DEFAULT_KDF_PARAMS
    connections: ConnectionLimits = ConnectionLimits()
    # The organisation as sources see it: name, welcome text, logo, address to check.
    profile: Profile = field(default_factory=Profile)

    @property
    def blobs_dir(self) -> Path:
        """Where sealed files live."""
        return self.data_dir / BLOBS_NAME

    @property
    def uploads_dir(self) -> Path:
        """Where unfinished resumable uploads live."""
        return self.data_dir / UPLOADS_NAME


def init_instance(
    data_dir: Path,
    recipients: list[Recipient],
    *,
    kdf: KdfParams | None = None,
) -> InstanceConfig:
    """Create a new instance folder; refuses to touch an existing instance."""
    if not recipients:
        raise UsageError(N_("At least one recipient is needed"))
    config_path = data_dir / CONFIG_NAME
    if config_path.exists():
        raise UsageError(N_("{path} already holds an instance"), path=str(data_dir))
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        (data_dir / BLOBS_NAME).mkdir(exist_ok=True, mode=0o700)
    except OSError as exc:
        raise durable.storage_error(exc, data_dir) from exc
    kdf = kdf or DEFAULT_KDF_PARAMS
    listed = ", ".join(f'"{r.text}"' for r in recipients)
    text = (
        "# Tainik instance settings. Only public keys belong here: never a private key.\n"
        "[organisation]\n"
        f"recipients = [{listed}]\n\n"
        "[limits]\n"
        "# Largest upload in bytes; 0 means no limit.\n"
        "max_upload_bytes = 0\n"
        "session_idle_minutes = 120\n"
        "unfinished_upload_hours = 72\n"
        "# Refuse new uploads while less than this many bytes would stay free on the disk.\n"
        f"min_free_bytes = {MIN_FREE_BYTES}\n"
        "# The most bytes one source's unfinished uploads may claim (their declared sizes).\n"
        f"max_unfinished_bytes = {MAX_UNFINISHED_BYTES}\n"
        "# Kept back on the disk so that staff can log in and delete when it is full.\n"
        f"reserve_bytes = {RESERVE_BYTES}\n\n"
        "[connections]\n"
        "# Seconds for a request's head; a body's minimum rate over a window (see\n"
        "# docs/threat-model.md); open connections per listener.\n"
        "head_timeout_seconds = 30\n"
        "body_window_seconds = 60\n"
        "body_min_bytes_per_second = 500\n"
        "source_connections = 512\n"
        "newsroom_connections = 128\n\n"
        "[database]\n"
        "# Empty: SQLite in this folder. Or e.g. postgresql+psycopg://user@host/db\n"
        'url = ""\n\n'
        "[secrets]\n"
        "# Per-instance salt of the codename KDF. Losing it locks every source out.\n"
        f'codename_salt = "{secrets.token_hex(SALT_BYTES)}"\n'
        f"kdf_time_cost = {kdf.time_cost}\n"
        f"kdf_memory_kib = {kdf.memory_kib}\n"
        f"kdf_parallelism = {kdf.parallelism}\n"
    )
    durable.write_file(config_path, text.encode("utf-8"))
    durable.fsync_dir(data_dir)
    return load_config(data_dir)


def load_config(data_dir: Path) -> InstanceConfig:
    """Parse ``DIR/tainik.toml`` into an :class:`InstanceConfig`, or say what is wrong."""
    path = data_dir / CONFIG_NAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StorageError(
            N_("{path} is not an instance folder (run 'tainik init --data {path}' first)"),
            path=str(data_dir),
        ) from exc
    except OSError as exc:
        raise durable.storage_error(exc, path) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(N_("{path}: {reason}"), path=str(path), reason=str(exc)) from exc
    try:
        organisation, limits = raw["organisation"], raw.get("limits", {})
        database, secret = raw.get("database", {}), raw["secrets"]
        recipients = tuple(Recipient.parse(str(r)) for r in organisation["recipients"])
        salt = bytes.fromhex(secret["codename_salt"])
        max_upload = int(limits.get("max_upload_bytes", 0))
        config = InstanceConfig(
            data_dir=data_dir,
            recipients=recipients,
            codename_salt=salt,
            database_url=str(database.get("url") or f"sqlite:///{data_dir / DB_NAME}"),
            max_upload_bytes=max_upload or None,
            session_idle_minutes=int(limits.get("session_idle_minutes", 120)),
            unfinished_upload_hours=int(limits.get("unfinished_upload_hours", 72)),
            min_free_bytes=int(limits.get("min_free_bytes", MIN_FREE_BYTES)),
            max_unfinished_bytes=int(limits.get("max_unfinished_bytes", MAX_UNFINISHED_BYTES)),
            reserve_bytes=int(limits.get("reserve_bytes", RESERVE_BYTES)),
            kdf=KdfParams(
                time_cost=int(secret.get("kdf_time_cost", 3)),
                memory_kib=int(secret.get("kdf_memory_kib", 65536)),
                parallelism=int(secret.get("kdf_parallelism", 1)),
            ),
            connections=_connection_limits(raw.get("connections", {})),
            profile=profile_from(organisation),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(
            N_("{path}: a setting is missing or malformed ({reason})"),
            path=str(path),
            reason=str(exc),
        ) from exc
    if not recipients:
        raise UsageError(N_("{path}: no organisation recipient"), path=str(path))
    limits = config.connections
    if (
        not all(math.isfinite(v) for v in (limits.head_timeout_seconds, limits.body_window_seconds))
        or min(limits.head_timeout_seconds, limits.body_window_seconds) <= 0
        or min(limits.body_min_bytes_per_second, limits.source_connections) < 1
        or limits.newsroom_connections < 1
    ):
        raise UsageError(
            N_("{path}: the [connections] settings must be positive numbers"), path=str(path)
        )
    if min(config.min_free_bytes, config.max_unfinished_bytes, config.reserve_bytes) < 0:
        raise UsageError(N_("{path}: a size in [limits] is negative"), path=str(path))
    if len(salt) < 16:
        raise UsageError(N_("{path}: the codename salt is too short"), path=str(path))
    return config


def _connection_limits(raw: Mapping[str, Any]) -> ConnectionLimits:
    """``[connections]``: each value converted to its default's type (ValueError if it fails)."""
    default = ConnectionLimits()
    values: dict[str, Any] = {}
    for setting in fields(ConnectionLimits):
        standard = getattr(default, setting.name)
        values[setting.name] = type(standard)(raw.get(setting.name, standard))
    return ConnectionLimits(**values)
