"""Instance settings an administrator may change: recipients, upload limit, upload lifetime.

They live in ``tainik.toml``, the one place the instance's configuration is kept. A change
rewrites just those keys (comments and every other setting stay as they are), writes the file
atomically, checks that it loads, and puts the new configuration into the running instance.
The numbers' bounds are the ones declared in :data:`tainik.instance.SETTINGS`, which the file's
parser enforces as well.
Other processes serving the same instance read it when they restart.

Whoever can change the recipients decides who can read what sources send from then on, which
is why only administrators can, and why every change goes into the audit log with its values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tainik.core.errors import N_, TainikError
from tainik.crypto import Recipient
from tainik.instance import CONFIG_NAME, SETTINGS_BY_KEY, Setting, load_config, set_key
from tainik.sealed import durable
from tainik.service.instance import Instance
from tainik.service.newsroom import audit
from tainik.service.newsroom.auth import Credential, Staff, authenticate
from tainik.service.newsroom.errors import SettingsError

MAX_RECIPIENTS = 20
#: The numbers the page changes, as tainik.toml declares them.
EDITABLE = (SETTINGS_BY_KEY["max_upload_bytes"], SETTINGS_BY_KEY["unfinished_upload_hours"])


@dataclass(frozen=True)
class Settings:
    """The settings the administration page shows and changes."""

    recipients: tuple[str, ...]
    max_upload_bytes: int  # 0: no limit
    unfinished_upload_hours: int


@dataclass(frozen=True)
class SettingsPage:
    """The current settings, for an administrator."""

    staff: Staff
    settings: Settings


def current(instance: Instance) -> Settings:
    """The running instance's settings."""
    config = instance.config
    return Settings(
        tuple(r.text for r in config.recipients),
        config.max_upload_bytes or 0,
        config.unfinished_upload_hours,
    )


def settings_page(instance: Instance, credential: Credential) -> SettingsPage:
    """The settings (administrators only)."""
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, admin=True)
    return SettingsPage(staff, current(instance))


def _number(text: str, setting: Setting) -> int:
    value = text.strip().replace("_", "").replace(" ", "")
    if not value.isdigit() or len(value) > 19 or not setting.allows(int(value)):
        low, high = setting.bounds
        raise SettingsError(
            N_("{setting}: a whole number from {low} to {high}"),
            setting=setting.key,
            low=low,
            high=high,
        )
    return int(value)


def parse(recipients: str, max_upload_bytes: str, unfinished_upload_hours: str) -> Settings:
    """Settings from the form's text, or :class:`SettingsError` naming what is wrong."""
    listed = [line.strip() for line in recipients.replace(",", "\n").splitlines() if line.strip()]
    if not listed or len(listed) > MAX_RECIPIENTS:
        raise SettingsError(
            N_("{setting}: one to twenty age1... recipients, one a line"), setting="recipients"
        )
    try:
        parsed = tuple(dict.fromkeys(Recipient.parse(text).text for text in listed))
    except TainikError as exc:
        # The recipient's own message, translated where the page shows it.
        raise SettingsError(exc.template, **exc.params) from exc
    size, hours = EDITABLE
    return Settings(
        parsed, _number(max_upload_bytes, size), _number(unfinished_upload_hours, hours)
    )


def update_settings(
    instance: Instance,
    credential: Credential,
    recipients: str,
    max_upload_bytes: str,
    unfinished_upload_hours: str,
) -> None:
    """Check the form's values, then write them into tainik.toml and the running instance.

    Administrators only; a bad value raises :class:`SettingsError` and changes nothing.
    """
    data_dir = instance.config.data_dir
    path = data_dir / CONFIG_NAME
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, admin=True)
        wanted = parse(recipients, max_upload_bytes, unfinished_upload_hours)
        before = current(instance)
        try:
            original = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise durable.storage_error(exc, path) from exc
        text = set_key(original, "organisation", "recipients", list(wanted.recipients))
        text = set_key(text, "limits", "max_upload_bytes", wanted.max_upload_bytes)
        text = set_key(text, "limits", "unfinished_upload_hours", wanted.unfinished_upload_hours)
        changed = [
            f"{name}: {getattr(before, name)!r} -> {getattr(wanted, name)!r}"
            for name in ("recipients", "max_upload_bytes", "unfinished_upload_hours")
            if getattr(before, name) != getattr(wanted, name)
        ]
        audit.record(
            db,
            instance.clock(),
            audit.Actor.of(staff),
            "settings-changed",
            detail="; ".join(changed) or "no change",
        )
        _replace(path, text)
        try:
            config = load_config(data_dir)
        except TainikError:
            _replace(path, original)  # never leave a file the next start cannot read
            raise
    instance.config = config


def _replace(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` atomically and durably (mode 0600)."""
    durable.replace_file(path, text.encode("utf-8"))
