"""What sources see of the organisation, as administrators set it (docs/organisation.md).

The name, the welcome texts, the onion address and the public pages that list it live in the
``[organisation]`` table of ``tainik.toml``, beside the recipients; the logo in the instance
folder (``service/logo.py`` cleans it). Every change goes into the audit log: a changed
address or public page tells sources where to check this drop box, which is worth as much to
an attacker with a stolen administrator session as the recipients are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy.engine import Connection

from tainik.config import CONFIG_NAME, load_config, set_key
from tainik.core.errors import TainikError
from tainik.core.profile import (
    LANGUAGES,
    LOGO_MEDIA_TYPES,
    Profile,
    ProfileError,
    parse_name,
    parse_onion_address,
    parse_public_pages,
    parse_welcome,
)
from tainik.sealed import durable
from tainik.service import logo
from tainik.service.instance import Instance
from tainik.service.newsroom import audit
from tainik.service.newsroom.auth import Credential, Staff, authenticate
from tainik.service.newsroom.errors import SettingsError

SECTION = "organisation"


@dataclass(frozen=True)
class ProfileText:
    """The profile's text fields as a form sends them."""

    name: str = ""
    welcome_en: str = ""
    welcome_ru: str = ""
    onion_address: str = ""
    public_pages: str = ""


def parse(text: ProfileText, logo_name: str) -> Profile:
    """The profile the form asks for, or :class:`SettingsError` naming what is wrong."""
    try:
        return Profile(
            name=parse_name(text.name),
            welcome={
                language: parse_welcome(getattr(text, f"welcome_{language}"), language)
                for language in LANGUAGES
            },
            onion_address=parse_onion_address(text.onion_address),
            public_pages=parse_public_pages(text.public_pages),
            logo=logo_name,
        )
    except ProfileError as exc:
        raise SettingsError(exc.template, **exc.params) from exc


def _entries(profile: Profile) -> dict[str, str | tuple[str, ...]]:
    entries: dict[str, str | tuple[str, ...]] = {"name": profile.name}
    for language in LANGUAGES:
        entries[f"welcome_{language}"] = profile.welcome.get(language, "")
    entries["onion_address"] = profile.onion_address
    entries["public_pages"] = profile.public_pages
    entries["logo"] = profile.logo
    return entries


def _changes(before: Profile, after: Profile) -> str:
    old, new = _entries(before), _entries(after)
    changed = []
    for key in new:
        if old[key] == new[key]:
            continue
        if key.startswith("welcome_"):  # long texts: the log keeps that they changed
            changed.append(f"{key}: {len(old[key])} -> {len(new[key])} characters")
        else:
            changed.append(f"{key}: {old[key]!r} -> {new[key]!r}")
    return "; ".join(changed) or "no change"


def _write(instance: Instance, staff: Staff, wanted: Profile, action: str, db: Connection) -> None:
    """Write ``wanted`` into tainik.toml, check that it loads, and put it in force."""
    data_dir = instance.config.data_dir
    path = data_dir / CONFIG_NAME
    try:
        original = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise durable.storage_error(exc, path) from exc
    text = original
    for key, value in _entries(wanted).items():
        text = set_key(text, SECTION, key, value if isinstance(value, str) else list(value))
    audit.record(
        db,
        instance.clock(),
        audit.Actor.of(staff),
        action,
        detail=_changes(instance.config.profile, wanted),
    )
    durable.replace_file(path, text.encode("utf-8"))
    try:
        config = load_config(data_dir)
    except TainikError:
        durable.replace_file(path, original.encode("utf-8"))  # the next start must read it
        raise
    instance.config = config


def _change(
    instance: Instance, credential: Credential, action: str, make: Callable[[Profile], Profile]
) -> None:
    """Authenticate an administrator, then write the profile ``make`` returns."""
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, admin=True)
        before = instance.config.profile
        wanted = make(before)
        _write(instance, staff, wanted, action, db)


def update_profile(instance: Instance, credential: Credential, text: ProfileText) -> None:
    """Set the name, welcome texts, onion address and public pages (administrators only); a
    bad value raises :class:`SettingsError` and changes nothing."""
    _change(instance, credential, "profile-changed", lambda before: parse(text, before.logo))


def set_logo(instance: Instance, credential: Credential, data: bytes) -> None:
    """Clean ``data`` (``service/logo.py``) and make it the logo (administrators only)."""
    data_dir = instance.config.data_dir

    def make(before: Profile) -> Profile:
        cleaned = logo.clean(data)
        durable.replace_file(data_dir / cleaned.file_name, cleaned.data)
        return replace(before, logo=cleaned.file_name)

    _change(instance, credential, "logo-changed", make)
    _remove_other_logos(instance)


def remove_logo(instance: Instance, credential: Credential) -> None:
    """No logo any more (administrators only)."""
    _change(
        instance,
        credential,
        "logo-removed",
        lambda before: replace(before, logo=""),
    )
    _remove_other_logos(instance)


def _remove_other_logos(instance: Instance) -> None:
    """Remove logo files the configuration no longer names."""
    data_dir = instance.config.data_dir
    for name in LOGO_MEDIA_TYPES:
        if name != instance.config.profile.logo:
            with contextlib.suppress(FileNotFoundError):
                (data_dir / name).unlink()
