"""Instance settings an administrator may change: recipients, upload limit, upload lifetime.

They live in ``tainik.toml``, the one place the instance's configuration is kept. A change
rewrites just those keys (comments and every other setting stay as they are), writes the file
atomically, checks that it loads, and puts the new configuration into the running instance.
Other processes serving the same instance read it when they restart.

Whoever can change the recipients decides who can read what sources send from then on, which
is why only administrators can, and why every change goes into the audit log with its values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from tainik.core.errors import N_, TainikError
from tainik.crypto import Recipient
from tainik.instance import CONFIG_NAME, load_config
from tainik.sealed import durable
from tainik.service.instance import Instance
from tainik.service.newsroom import audit
from tainik.service.newsroom.auth import Credential, Staff, authenticate
from tainik.service.newsroom.errors import SettingsError

MAX_RECIPIENTS = 20
MAX_UPLOAD_HOURS = 24 * 365


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


def _number(text: str, setting: str, low: int, high: int) -> int:
    value = text.strip().replace("_", "").replace(" ", "")
    if not value.isdigit() or len(value) > 18 or not low <= int(value) <= high:
        raise SettingsError(
            N_("{setting}: a whole number from {low} to {high}"),
            setting=setting,
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
    return Settings(
        parsed,
        _number(max_upload_bytes, "max_upload_bytes", 0, 2**62),
        _number(unfinished_upload_hours, "unfinished_upload_hours", 1, MAX_UPLOAD_HOURS),
    )


def set_key(text: str, section: str, key: str, value: str) -> str:
    """``text`` (TOML) with ``key = value`` in ``[section]``, replaced or added."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    current_section: str | None = None
    done, skipping = False, False
    for line in lines:
        stripped = line.strip()
        if skipping:  # the rest of a multi-line array being replaced
            skipping = "]" not in stripped
            continue
        header = re.fullmatch(r"\[([A-Za-z0-9_.-]+)\]", stripped)
        if header:
            if current_section == section and not done:
                out.append(f"{key} = {value}\n")
                done = True
            current_section = header.group(1)
        elif current_section == section and re.match(rf"{re.escape(key)}\s*=", stripped):
            out.append(f"{key} = {value}\n")
            done = True
            skipping = "[" in stripped.split("=", 1)[1] and "]" not in stripped.split("=", 1)[1]
            continue
        out.append(line)
    if not done:
        if current_section != section:
            out.append(f"\n[{section}]\n")
        out.append(f"{key} = {value}\n")
    return "".join(out)


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
        listed = ", ".join(json.dumps(r) for r in wanted.recipients)
        text = set_key(original, "organisation", "recipients", f"[{listed}]")
        text = set_key(text, "limits", "max_upload_bytes", str(wanted.max_upload_bytes))
        text = set_key(
            text, "limits", "unfinished_upload_hours", str(wanted.unfinished_upload_hours)
        )
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
