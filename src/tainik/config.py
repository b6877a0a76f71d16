"""An instance: its folder, its configuration, parsed once at start into a frozen object.

Layout of an instance folder (``tainik init --data DIR``)::

    DIR/tainik.toml      settings (organisation recipients, limits); mode 0600
    DIR/tainik.db        SQLite database (WAL mode), unless database_url says otherwise
    DIR/blobs/           sealed files (ciphertext only), one ID.sealed directory each
    DIR/uploads/         unfinished resumable uploads (ciphertext only), one folder each
                         (both in an S3 bucket instead when [store] url says so)
    DIR/logo.png         the organisation's logo, if an administrator set one (or .jpg, .webp)

The configuration holds only public keys: the organisation's private key never exists here.
"""

from __future__ import annotations

import math
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final

import tomlkit

from tainik.core.errors import N_, StorageError, UsageError
from tainik.core.profile import Profile, profile_from
from tainik.core.tor_settings import DEFAULT_PUBLISH_TIMEOUT_SECONDS, TorSettings
from tainik.crypto import DEFAULT_KDF_PARAMS, KdfParams, Recipient
from tainik.sealed import durable

CONFIG_NAME = "tainik.toml"
DB_NAME = "tainik.db"
BLOBS_NAME = "blobs"
UPLOADS_NAME = "uploads"
SALT_BYTES = 32
GIB = 1024**3
BYTES_MAX = 2**62
HEADER = "Tainik instance settings. Only public keys belong here: never a private key."
# A value of tainik.toml as tomlkit writes it.
TomlValue = str | int | float | bool | list[str]

_SETTING: Final = "tainik.setting"


@dataclass(frozen=True)
class Setting:
    """One number of ``tainik.toml``, declared once, on the field it fills: its table and key,
    its default, the values it may take, and the note a new file gives it.

    The parser (:func:`load_config`), the writer (:func:`init_instance`) and the settings page
    (``service/newsroom/settings.py``) all take them from :data:`SETTINGS`.
    """

    section: str
    key: str
    default: int | float
    low: int | float
    high: int | float
    note: str = ""
    #: 0 in the file stands for "no limit" (None in the configuration).
    zero_is_none: bool = False

    def convert(self, raw: object) -> int | float:
        """``raw``, as read from the file, as this setting's type (ValueError if it is not)."""
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValueError(f"{self.key}: not a number")
        value = type(self.default)(raw)
        if isinstance(raw, float) and value != raw:
            raise ValueError(f"{self.key}: not a whole number")
        return value

    def allows(self, value: float) -> bool:
        """Whether ``value`` lies within the bounds (NaN never does)."""
        return math.isfinite(value) and self.low <= value <= self.high

    @property
    def bounds(self) -> tuple[str, str]:
        """The bounds as people read them (whole numbers in full)."""
        return _shown(self.low), _shown(self.high)


def _setting(
    section: str,
    default: float,
    low: float,
    high: float,
    note: str = "",
    *,
    zero_is_none: bool = False,
) -> Any:
    """A dataclass field that is a setting of ``tainik.toml`` (its key: the field's name)."""
    declared = Setting(section, "", default, low, high, note, zero_is_none)
    return field(default=None if zero_is_none else default, metadata={_SETTING: declared})


def _declared(owner: type[Any]) -> tuple[Setting, ...]:
    return tuple(
        replace(f.metadata[_SETTING], key=f.name) for f in fields(owner) if _SETTING in f.metadata
    )


def _shown(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


@dataclass(frozen=True)
class ConnectionLimits:
    """What one client connection may hold of the server, and for how long (the
    ``[connections]`` settings; docs/threat-model.md says why these numbers)."""

    # A request's line and headers must arrive within this many seconds of its first byte
    # (or of the connection, for the first request): a head is a few hundred bytes, which
    # even a slow Tor circuit delivers in a second or two.
    head_timeout_seconds: float = _setting(
        "connections", 30.0, 0.1, 3600.0, "Seconds for a request's line and headers to arrive."
    )
    # A request body must bring at least ``body_min_bytes_per_second`` on average over every
    # window of this many seconds while the server is reading it. 500 B/s over 60 s is
    # about a hundredth of the slowest usable Tor circuit, and allows stalls of most of a
    # minute; a body trickled slower than that is closed.
    body_window_seconds: float = _setting(
        "connections",
        60.0,
        0.1,
        3600.0,
        "A request body must bring body_min_bytes_per_second on average over every window of\n"
        "this many seconds (see docs/threat-model.md).",
    )
    body_min_bytes_per_second: int = _setting("connections", 500, 1, 10**9)
    # Open connections per listener; more are answered 503 and closed at once. Lowered at
    # start when the process may not open that many files.
    source_connections: int = _setting(
        "connections", 512, 1, 10**6, "Open connections per listener; more are answered 503."
    )
    newsroom_connections: int = _setting("connections", 128, 1, 10**6)


@dataclass(frozen=True)
class StoreConfig:
    """Where sealed files and unfinished uploads live (the ``[store]`` table): this folder's
    ``blobs/`` and ``uploads/`` (``url`` empty), or an S3 bucket (``url = "s3://BUCKET"``, or
    ``"s3://BUCKET/PREFIX"``) at ``endpoint``, e.g. SeaweedFS (docs/deployment.md)."""

    url: str = ""
    endpoint: str = ""
    region: str = "us-east-1"
    access_key_id: str = ""
    secret_access_key: str = field(default="", repr=False)

    @property
    def is_s3(self) -> bool:
        """Whether the blobs live in an S3 bucket."""
        return bool(self.url)

    @property
    def bucket(self) -> str:
        """The bucket of an ``s3://`` URL."""
        return self.url.removeprefix("s3://").split("/", 1)[0]

    @property
    def prefix(self) -> str:
        """The key prefix of an ``s3://BUCKET/PREFIX`` URL ("" or ending in "/")."""
        rest = self.url.removeprefix("s3://").partition("/")[2].strip("/")
        return f"{rest}/" if rest else ""


def _store_config(table: Mapping[str, Any]) -> StoreConfig:
    """The ``[store]`` table, checked."""
    if not isinstance(table, dict):
        raise TypeError("[store] is not a table")
    unknown = set(table) - {f.name for f in fields(StoreConfig)}
    if unknown:
        raise ValueError(f"[store] has no setting {sorted(unknown)[0]}")
    store = StoreConfig(**{key: str(value) for key, value in table.items()})
    if store.url and not (store.url.startswith("s3://") and store.bucket):
        raise ValueError("[store] url must be empty or s3://BUCKET[/PREFIX]")
    if store.url and not store.endpoint.startswith(("http://", "https://")):
        raise ValueError("[store] endpoint must be an http:// or https:// address")
    return store


def shown_url(url: str) -> str:
    """A database URL fit to print or log: its password, if any, replaced by ``***``."""
    scheme, found, rest = url.partition("://")
    if not found:
        return url
    credentials, at, place = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{place}"


@dataclass(frozen=True)
class InstanceConfig:
    """Everything the server needs to know, read once at start."""

    data_dir: Path
    recipients: tuple[Recipient, ...]
    codename_salt: bytes = field(repr=False)
    # May hold a password: print it only through shown_url.
    database_url: str = field(repr=False)
    max_upload_bytes: int | None = _setting(
        "limits", 0, 0, BYTES_MAX, "Largest upload in bytes; 0 means no limit.", zero_is_none=True
    )
    session_idle_minutes: int = _setting(
        "limits", 120, 1, 7 * 24 * 60, "Minutes without a request after which a session ends."
    )
    unfinished_upload_hours: int = _setting(
        "limits", 72, 1, 24 * 365, "Hours an unfinished upload is kept."
    )
    # Disk space (docs/threat-model.md, "Disk full"): new uploads are refused while less than
    # min_free_bytes would stay free; one source's unfinished uploads may claim at most
    # max_unfinished_bytes; reserve_bytes are held back for staff logins and deletions.
    min_free_bytes: int = _setting(
        "limits",
        GIB,
        0,
        BYTES_MAX,
        "Refuse new uploads while less than this many bytes would stay free on the disk.",
    )
    max_unfinished_bytes: int = _setting(
        "limits",
        256 * GIB,
        0,
        BYTES_MAX,
        "The most bytes one source's unfinished uploads may claim (their declared sizes).",
    )
    reserve_bytes: int = _setting(
        "limits",
        64 * 1024 * 1024,
        0,
        BYTES_MAX,
        "Kept back on the disk so that staff can log in and delete when it is full.",
    )
    kdf: KdfParams = DEFAULT_KDF_PARAMS
    connections: ConnectionLimits = ConnectionLimits()
    # The organisation as sources see it: name, welcome text, logo, address to check.
    profile: Profile = field(default_factory=Profile)
    store: StoreConfig = StoreConfig()
    # The server's own tor and its two onion services ([tor]; off unless enabled).
    tor: TorSettings = field(default_factory=TorSettings)

    @property
    def blobs_dir(self) -> Path:
        """Where sealed files live."""
        return self.data_dir / BLOBS_NAME

    @property
    def uploads_dir(self) -> Path:
        """Where unfinished resumable uploads live."""
        return self.data_dir / UPLOADS_NAME


#: The codename KDF's cost ([secrets]); the defaults are KdfParams' own, the bounds Argon2id's
#: (RFC 9106) but for the lanes, kept to what a server has.
KDF_SETTINGS: Final = (
    Setting("secrets", "kdf_time_cost", DEFAULT_KDF_PARAMS.time_cost, 1, 2**32 - 1),
    Setting("secrets", "kdf_memory_kib", DEFAULT_KDF_PARAMS.memory_kib, 8, 2**32 - 1),
    Setting("secrets", "kdf_parallelism", DEFAULT_KDF_PARAMS.parallelism, 1, 64),
)
#: The numbers of [tor] (its switch, program and torrc lines are parsed by _tor_settings).
TOR_SETTINGS: Final = (
    Setting(
        "tor",
        "publish_timeout_seconds",
        DEFAULT_PUBLISH_TIMEOUT_SECONDS,
        10,
        3600,
        "Seconds for tor to start, bootstrap and publish both onion services.",
    ),
)
#: Every number of tainik.toml, in the order a new file lists them.
SETTINGS: Final[tuple[Setting, ...]] = (
    *_declared(InstanceConfig),
    *_declared(ConnectionLimits),
    *KDF_SETTINGS,
    *TOR_SETTINGS,
)
#: The same, by key (keys are unique across the tables).
SETTINGS_BY_KEY: Final[Mapping[str, Setting]] = {s.key: s for s in SETTINGS}


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
    text = new_config_text(recipients, secrets.token_hex(SALT_BYTES), kdf or DEFAULT_KDF_PARAMS)
    durable.write_file(config_path, text.encode("utf-8"))
    durable.fsync_dir(data_dir)
    return load_config(data_dir)


def new_config_text(recipients: list[Recipient], salt_hex: str, kdf: KdfParams) -> str:
    """A new ``tainik.toml``: every declared setting at its default, with its note."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment(HEADER))
    organisation = tomlkit.table()
    organisation.add("recipients", [r.text for r in recipients])
    doc.add("organisation", organisation)
    for section in ("limits", "connections"):
        table = tomlkit.table()
        for setting in SETTINGS:
            if setting.section == section:
                _add(table, setting, setting.default)
        doc.add(section, table)
    database = tomlkit.table()
    database.add(
        tomlkit.comment("Empty: SQLite in this folder. Or e.g. postgresql+psycopg://user@host/db")
    )
    database.add("url", "")
    doc.add("database", database)
    store = tomlkit.table()
    store.add(
        tomlkit.comment(
            'Empty: sealed files in this folder. Or url = "s3://BUCKET" with endpoint, region,'
        )
    )
    store.add(tomlkit.comment("access_key_id and secret_access_key (docs/deployment.md)."))
    store.add("url", "")
    doc.add("store", store)
    secret = tomlkit.table()
    secret.add(
        tomlkit.comment("Per-instance salt of the codename KDF. Losing it locks every source out.")
    )
    secret.add("codename_salt", salt_hex)
    for setting in KDF_SETTINGS:
        _add(secret, setting, getattr(kdf, setting.key.removeprefix("kdf_")))
    doc.add("secrets", secret)
    doc.add("tor", _new_tor_table())
    return tomlkit.dumps(doc)


def _new_tor_table() -> Any:
    """[tor] of a new file: off, with a word on each key (docs/deployment.md says more)."""
    table = tomlkit.table()
    table.add(tomlkit.comment("true: 'tainik serve' starts tor and publishes two onion services."))
    table.add("enabled", False)
    table.add(tomlkit.comment("The tor program (Debian: apt-get install tor)."))
    table.add("binary", "tor")
    table.add(tomlkit.comment('More torrc lines, e.g. ["UseBridges 1", "Bridge obfs4 ..."].'))
    table.add("torrc_lines", tomlkit.array())
    table.add(tomlkit.comment("A torrc file to include as well, or empty."))
    table.add("torrc_file", "")
    for setting in TOR_SETTINGS:
        _add(table, setting, setting.default)
    return table


def _add(table: Any, setting: Setting, value: TomlValue) -> None:
    for line in setting.note.splitlines():
        table.add(tomlkit.comment(line))
    table.add(setting.key, value)


def set_key(text: str, section: str, key: str, value: TomlValue) -> str:
    """``text`` (a ``tainik.toml``) with ``key = value`` in ``[section]``, replaced or added.

    Comments, order and every other setting stay as they are (tomlkit edits the document, not
    its lines); a missing table is added at the end.
    """
    doc = tomlkit.parse(text)
    if section not in doc:
        doc.add(section, tomlkit.table())
    table = doc[section]
    if not isinstance(table, tomlkit.items.Table):
        raise TypeError(f"[{section}] is not a table")
    table[key] = value
    return tomlkit.dumps(doc)


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
        organisation, database, secret = (
            raw["organisation"],
            raw.get("database", {}),
            raw["secrets"],
        )
        recipients = tuple(Recipient.parse(str(r)) for r in organisation["recipients"])
        salt = bytes.fromhex(secret["codename_salt"])
        values: dict[str, Any] = {s.key: _value(raw, s, path) for s in SETTINGS}
        config = InstanceConfig(
            data_dir=data_dir,
            recipients=recipients,
            codename_salt=salt,
            database_url=str(database.get("url") or f"sqlite:///{data_dir / DB_NAME}"),
            kdf=KdfParams(**{s.key.removeprefix("kdf_"): values[s.key] for s in KDF_SETTINGS}),
            connections=ConnectionLimits(**_of(ConnectionLimits, values)),
            profile=profile_from(organisation),
            store=_store_config(raw.get("store", {})),
            tor=_tor_settings(raw.get("tor", {}), values),
            **_of(InstanceConfig, values),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(
            N_("{path}: a setting is missing or malformed ({reason})"),
            path=str(path),
            reason=str(exc),
        ) from exc
    if not recipients:
        raise UsageError(N_("{path}: no organisation recipient"), path=str(path))
    if len(salt) < 16:
        raise UsageError(N_("{path}: the codename salt is too short"), path=str(path))
    return config


def _tor_settings(table: object, values: Mapping[str, Any]) -> TorSettings:
    """[tor]: a missing table or key is the default (off)."""
    if not isinstance(table, dict):
        raise TypeError("[tor] is not a table")
    enabled = table.get("enabled", False)
    binary = table.get("binary", "tor")
    lines = table.get("torrc_lines", [])
    torrc_file = table.get("torrc_file", "")
    if not isinstance(enabled, bool):
        raise TypeError("[tor] enabled: not true or false")
    if not isinstance(binary, str) or not binary.strip():
        raise TypeError("[tor] binary: not a program name")
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise TypeError("[tor] torrc_lines: not a list of strings")
    if not isinstance(torrc_file, str):
        raise TypeError("[tor] torrc_file: not a string")
    return TorSettings(
        enabled=enabled,
        binary=binary,
        torrc_lines=tuple(lines),
        torrc_file=torrc_file,
        publish_timeout_seconds=values["publish_timeout_seconds"],
    )


def _value(raw: Mapping[str, Any], setting: Setting, path: Path) -> int | float | None:
    """A declared setting's value in the parsed file (its default where it is missing)."""
    table = raw.get(setting.section, {})
    if not isinstance(table, dict):
        raise TypeError(f"[{setting.section}] is not a table")
    value = setting.convert(table.get(setting.key, setting.default))
    if not setting.allows(value):
        low, high = setting.bounds
        raise UsageError(
            N_("{path}: {setting} must be from {low} to {high}"),
            path=str(path),
            setting=f"[{setting.section}] {setting.key}",
            low=low,
            high=high,
        )
    return None if setting.zero_is_none and value == 0 else value


def _of(owner: type[Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values of ``owner``'s declared settings."""
    return {s.key: values[s.key] for s in _declared(owner)}
