"""Instance settings an administrator may change: recipients, upload limit, upload lifetime.

They live in ``tainik.toml``, the one place the instance's configuration is kept. A change
rewrites just those keys (comments and every other setting stay as they are), writes the file
atomically, checks that it loads, and puts the new configuration into the running instance.
The numbers' bounds are the ones declared in :data:`tainik.config.SETTINGS`, which the file's
parser enforces as well.
Other processes serving the instance on this host read it again at their next request
(:meth:`~tainik.service.instance.Instance.refresh_config`).

Whoever can change the recipients decides who can read what sources send from then on, which
is why only administrators can, why a session alone is not enough (a change is proposed, then
confirmed with each new key's fingerprint, the password and a fresh code:
:mod:`~tainik.service.newsroom.key_change`), and why every change goes into the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tainik import crypto
from tainik.config import CONFIG_NAME, SETTINGS_BY_KEY, Setting, load_config, set_key
from tainik.core.errors import N_, TainikError
from tainik.crypto import Recipient, Secret
from tainik.sealed import durable
from tainik.service.instance import Instance
from tainik.service.newsroom import audit, auth, key_change
from tainik.service.newsroom.auth import Credential, Staff, authenticate
from tainik.service.newsroom.errors import (
    FingerprintMismatchError,
    KeysChangedMeanwhileError,
    PasswordChecksThrottledError,
    ReauthenticationError,
    SettingsError,
)
from tainik.service.newsroom.key_change import ProposedChange

MAX_RECIPIENTS = 20
#: The numbers the page changes, as tainik.toml declares them.
EDITABLE = (SETTINGS_BY_KEY["max_upload_bytes"], SETTINGS_BY_KEY["unfinished_upload_hours"])


@dataclass(frozen=True)
class Settings:
    """The settings the administration page shows and changes."""

    recipients: tuple[str, ...]
    max_upload_bytes: int  # 0: no limit
    unfinished_upload_hours: int

    @property
    def keys(self) -> tuple[Recipient, ...]:
        """The recipients as keys (each with its fingerprint)."""
        return tuple(Recipient(text) for text in self.recipients)


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
) -> ProposedChange | None:
    """Check the form's values, then write them into tainik.toml and the running instance.

    Administrators only; a bad value raises :class:`SettingsError` and changes nothing. When
    the form changes the recipients, nothing is written either: the change is returned, to be
    confirmed with :func:`change_recipients`.
    """
    proposed = propose_change(
        instance, credential, recipients, max_upload_bytes, unfinished_upload_hours
    )
    if proposed is not None:
        return proposed
    _write(instance, credential, parse(recipients, max_upload_bytes, unfinished_upload_hours), None)
    return None


def propose_change(
    instance: Instance,
    credential: Credential,
    recipients: str,
    max_upload_bytes: str,
    unfinished_upload_hours: str,
) -> ProposedChange | None:
    """The change of the recipients the form asks for, or None (writes nothing)."""
    with instance.engine.begin() as db:
        authenticate(db, instance, credential, admin=True)
    wanted = parse(recipients, max_upload_bytes, unfinished_upload_hours)
    return key_change.propose(instance.config.recipients, wanted.keys)


def change_recipients(
    instance: Instance,
    credential: Credential,
    form: SettingsForm,
    confirmation: Confirmation,
) -> None:
    """Make a change of the recipients :func:`update_settings` proposed (with the form's other
    settings), once it is confirmed: the form's keys are those shown (``confirmation.base``),
    each new key's fingerprint is typed back in order, and the administrator's password and a
    fresh TOTP code are right. Anything else raises and changes nothing; every refusal after
    the form is understood goes into the audit log.
    """
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, admin=True)
    wanted = parse(form.recipients, form.max_upload_bytes, form.unfinished_upload_hours)
    before = instance.config.recipients
    if key_change.list_digest(before) != confirmation.base:
        raise KeysChangedMeanwhileError()
    added = [r for r in wanted.keys if r not in before]
    typed = list(confirmation.fingerprints) + [""] * len(added)
    for number, key in enumerate(added, 1):
        if not crypto.same_fingerprint(typed[number - 1], key.fingerprint):
            _refused(instance, staff, f"wrong fingerprint typed for {key.fingerprint}")
            raise FingerprintMismatchError(number=number)
    try:
        auth.confirm_factors(instance, credential, confirmation.password, confirmation.code)
    except (ReauthenticationError, PasswordChecksThrottledError):
        _refused(instance, staff, "wrong password or code")
        raise
    _write(instance, credential, wanted, confirmation.base)


@dataclass(frozen=True)
class SettingsForm:
    """The settings as the form sends them (text)."""

    recipients: str
    max_upload_bytes: str
    unfinished_upload_hours: str


@dataclass(frozen=True)
class Confirmation:
    """What confirms a change of the recipients (see :func:`change_recipients`)."""

    base: str
    fingerprints: tuple[str, ...]
    password: Secret
    code: str


def _refused(instance: Instance, staff: Staff, why: str) -> None:
    """Audit a refused change of the recipients (in a transaction of its own: the refusal
    rolls back nothing of it)."""
    with instance.engine.begin() as db:
        audit.record(
            db, instance.clock(), audit.Actor.of(staff), "recipients-change-refused", detail=why
        )


def _write(instance: Instance, credential: Credential, wanted: Settings, base: str | None) -> None:
    """Write ``wanted`` into tainik.toml and the running instance, audited; a change of the
    recipients only when ``base`` names the recipients in force."""
    data_dir = instance.config.data_dir
    path = data_dir / CONFIG_NAME
    with instance.engine.begin() as db:
        # Again inside the write: the administrator may have been removed meanwhile.
        staff = authenticate(db, instance, credential, admin=True)
        before = current(instance)
        old_keys, new_keys = instance.config.recipients, wanted.keys
        keys_change = set(old_keys) != set(new_keys)
        if keys_change and base != key_change.list_digest(old_keys):
            raise KeysChangedMeanwhileError()
        try:
            original = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise durable.storage_error(exc, path) from exc
        text = set_key(original, "organisation", "recipients", list(wanted.recipients))
        text = set_key(text, "limits", "max_upload_bytes", wanted.max_upload_bytes)
        text = set_key(text, "limits", "unfinished_upload_hours", wanted.unfinished_upload_hours)
        now, actor = instance.clock(), audit.Actor.of(staff)
        if keys_change:
            key_change.record_change(db, now, actor, old_keys, new_keys)
        changed = [
            f"{name}: {getattr(before, name)!r} -> {getattr(wanted, name)!r}"
            for name in ("max_upload_bytes", "unfinished_upload_hours")
            if getattr(before, name) != getattr(wanted, name)
        ]
        if changed or not keys_change:
            audit.record(
                db, now, actor, "settings-changed", detail="; ".join(changed) or "no change"
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
