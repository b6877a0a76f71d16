"""The pull configuration: where the newsroom is and the token ``tainik pull login`` got.

A JSON file, by default ``$XDG_CONFIG_HOME/tainik/pull.json`` (``~/.config/tainik/pull.json``),
written atomically with mode 0600 in a folder of mode 0700, since the token is a secret on the
networked machine. A file that others may read is refused rather than used, as ssh does with a
private key: the token might have been seen.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from tainik.core.errors import N_, UsageError
from tainik.crypto import Secret
from tainik.sealed import durable, regular

CONFIG_FORMAT = "tainik.org/pull-config/v1"
MAX_CONFIG = 64 * 1024


@dataclass(frozen=True)
class PullConfig:
    """What ``tainik pull login`` saved."""

    server: str
    token: Secret
    user: str
    scope: str
    expires_at: str
    proxy: str | None = None


def default_path() -> Path:
    """``$XDG_CONFIG_HOME/tainik/pull.json``, else ``~/.config/tainik/pull.json``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tainik" / "pull.json"


class ConfigError(UsageError):
    """The configuration file cannot be used."""

    template = N_("{path}: not a pull configuration ({reason}); run 'tainik pull login' again")


class ConfigExposedError(UsageError):
    """The configuration file may be read by others."""

    template = N_(
        "{path} holds a token but others may read it; run 'chmod 600 {path}' and get a new "
        "token with 'tainik pull login' (the old one may have been seen)"
    )


def load(path: Path) -> PullConfig | None:
    """The configuration in ``path``; None when there is none."""
    try:
        fd = regular.open_regular(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(path=str(path), reason=exc.strerror or type(exc).__name__) from exc
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            raise ConfigExposedError(path=str(path))
        data = regular.read_at_most(fd, MAX_CONFIG + 1)
    finally:
        os.close(fd)
    try:
        value = json.loads(data.decode("utf-8")) if len(data) <= MAX_CONFIG else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        value = None
    if not isinstance(value, dict) or value.get("format") != CONFIG_FORMAT:
        raise ConfigError(path=str(path), reason="format")
    fields = {}
    for name in ("server", "token", "user", "scope", "expires_at"):
        if not isinstance(value.get(name), str) or not value[name]:
            raise ConfigError(path=str(path), reason=name)
        fields[name] = value[name]
    proxy = value.get("proxy")
    if proxy is not None and not isinstance(proxy, str):
        raise ConfigError(path=str(path), reason="proxy")
    return PullConfig(
        server=fields["server"],
        token=Secret(fields["token"]),
        user=fields["user"],
        scope=fields["scope"],
        expires_at=fields["expires_at"],
        proxy=proxy,
    )


def save(path: Path, config: PullConfig) -> None:
    """Write ``config`` to ``path`` (mode 0600, atomically; the folder made with mode 0700)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        durable.replace_json(
            path,
            {
                "format": CONFIG_FORMAT,
                "server": config.server,
                "token": config.token.reveal(),
                "user": config.user,
                "scope": config.scope,
                "expires_at": config.expires_at,
                "proxy": config.proxy,
            },
            indent=2,
        )
    except OSError as exc:
        raise durable.storage_error(exc, path) from exc
