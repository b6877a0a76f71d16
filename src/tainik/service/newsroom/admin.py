"""Administration: staff accounts (add, deactivate, reset factors) and the audit log.

Accounts are made with a one-time password and a TOTP secret, shown once to whoever made the
account (an administrator, or the command line on the server), to be handed over in person.
The account must set its own password at first login; deactivating an account or resetting a
factor ends every session and token it has. When Tor is enabled, each account also gets its
own key to the newsroom onion (service/onion.py): made with the account and at every reset or
reactivation, shown once; deactivating takes it back at once. Each of these is an event of
the account's lifecycle (core/staff_account.py), run on its stored state in the action's
transaction: an action the state refuses (reactivating an account that is not deactivated)
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tainik.core.errors import N_
from tainik.core.staff_account import ACCOUNT_LIFECYCLE, AccountEvent, AccountState, is_deactivated
from tainik.crypto import Secret
from tainik.service import onion
from tainik.service.errors import NotFoundError
from tainik.service.instance import Instance
from tainik.service.newsroom import audit, factors, labels
from tainik.service.newsroom.auth import (
    Credential,
    Staff,
    advance_account,
    authenticate,
    revoke_all,
)
from tainik.service.newsroom.errors import ConflictError
from tainik.storage import newsroom_schema as ns
from tainik.storage.database import stored_time

AUDIT_PAGE_SIZE = 100


@dataclass(frozen=True)
class NewSecrets:
    """What a staff member needs to log in after an account is made or reset; shown once."""

    name: str
    password: Secret | None
    totp: factors.Provisioning | None
    # Their own key to the newsroom onion, when Tor is enabled (a new one at every reset).
    newsroom_key: onion.NewsroomKey | None = None


@dataclass(frozen=True)
class Account:
    """A staff account as the administration page lists it."""

    id: int
    name: str
    is_admin: bool
    state: AccountState
    created_at: datetime
    last_login_at: datetime | None

    @property
    def deactivated(self) -> bool:
        """True for an account that is deactivated (pending or not)."""
        return is_deactivated(self.state)

    @property
    def state_label(self) -> str:
        """The state in words (an untranslated template)."""
        return labels.ACCOUNT_STATES[self.state]


@dataclass(frozen=True)
class AccountsPage:
    """Every account, for an administrator."""

    staff: Staff
    accounts: list[Account]


def _add(instance: Instance, actor: audit.Actor, name: str, is_admin: bool) -> NewSecrets:
    name = factors.check_name(name)
    password, totp = factors.one_time_password(), factors.new_totp_secret()
    with instance.staff_kdf_gate.slot():
        password_hash = factors.hash_password(instance.config.kdf, password)
    now = instance.clock()
    try:
        with instance.engine.begin() as db:
            user_id = db.execute(
                insert(ns.users).values(
                    name=name,
                    password_hash=password_hash,
                    totp_secret=totp.reveal(),
                    is_admin=is_admin,
                    state=ACCOUNT_LIFECYCLE.initial,
                    password_changed_at=now,
                    created_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            detail = f"{name} (administrator)" if is_admin else name
            audit.record(db, now, actor, "user-added", "user", int(user_id), detail)
    except IntegrityError as exc:
        raise ConflictError(N_("There is already a staff account named {name}"), name=name) from exc
    key = onion.grant(instance, int(user_id))
    return NewSecrets(name, password, factors.Provisioning(name, totp), key)


def add_account_locally(instance: Instance, name: str, is_admin: bool) -> NewSecrets:
    """Make an account from the server's command line (``tainik users add``)."""
    return _add(instance, audit.CLI_ACTOR, name, is_admin)


def add_account(
    instance: Instance, credential: Credential, name: str, is_admin: bool
) -> NewSecrets:
    """Make an account (administrators only)."""
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, admin=True)
    return _add(instance, audit.Actor.of(staff), name, is_admin)


def accounts(instance: Instance, credential: Credential) -> AccountsPage:
    """Every account (administrators only)."""
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, admin=True)
        return AccountsPage(staff, _accounts(db))


def local_accounts(instance: Instance) -> list[Account]:
    """Every account, for the server's command line."""
    with instance.engine.begin() as db:
        return _accounts(db)


def _accounts(db: Connection) -> list[Account]:
    rows = db.execute(select(ns.users).order_by(ns.users.c.name)).all()
    return [
        Account(
            int(r.id),
            r.name,
            bool(r.is_admin),
            AccountState(r.state),
            stored_time(r.created_at),
            stored_time(r.last_login_at) if r.last_login_at else None,
        )
        for r in rows
    ]


def _target(db: Connection, user_id: int) -> str:
    name = db.execute(select(ns.users.c.name).where(ns.users.c.id == user_id)).scalar()
    if name is None:
        raise NotFoundError()
    return str(name)


def set_active(
    instance: Instance, credential: Credential, user_id: int, active: bool
) -> NewSecrets | None:
    """Deactivate (ending its sessions and tokens, taking back its newsroom onion key at once)
    or reactivate an account (with a new onion key, shown once, when Tor is enabled)."""
    now = instance.clock()
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, admin=True)
        name = _target(db, user_id)
        if user_id == staff.id and not active:
            raise ConflictError(N_("You cannot deactivate your own account"))
        advance_account(db, user_id, AccountEvent.REACTIVATE if active else AccountEvent.DEACTIVATE)
        if not active:
            revoke_all(db, user_id)
        action = "user-activated" if active else "user-deactivated"
        audit.record(db, now, audit.Actor.of(staff), action, "user", user_id, name)
    if not active:
        onion.revoke(instance, user_id)
        return None
    key = onion.grant(instance, user_id)
    return NewSecrets(name, None, None, key) if key is not None else None


def deactivate_locally(instance: Instance, name: str) -> None:
    """Deactivate an account from the server's command line: its sessions and tokens end and
    its newsroom onion key is taken back, at once also in a running server's tor."""
    name = factors.check_name(name)
    with instance.engine.begin() as db:
        user_id = db.execute(select(ns.users.c.id).where(ns.users.c.name == name)).scalar()
        if user_id is None:
            raise NotFoundError(N_("There is no staff account named {name}"), name=name)
        advance_account(db, int(user_id), AccountEvent.DEACTIVATE)
        revoke_all(db, int(user_id))
        audit.record(
            db, instance.clock(), audit.CLI_ACTOR, "user-deactivated", "user", int(user_id), name
        )
    onion.revoke(instance, int(user_id))


def _reset(
    instance: Instance,
    actor: audit.Actor,
    db: Connection,
    user_id: int,
    *,
    password_hash: str | None,
    totp: Secret | None,
) -> str:
    """New factors for an account: the password (the account is pending again), the TOTP
    secret, or both (``restore``: from the server's command line, deactivated or not)."""
    name = _target(db, user_id)
    values: dict[str, object] = {}
    if password_hash is not None:
        values.update(password_hash=password_hash, password_changed_at=instance.clock())
        audit.record(db, instance.clock(), actor, "user-password-reset", "user", user_id, name)
    if totp is not None:
        values.update(totp_secret=totp.reveal())
        db.execute(delete(ns.totp_used).where(ns.totp_used.c.user_id == user_id))
        audit.record(db, instance.clock(), actor, "user-2fa-reset", "user", user_id, name)
    if password_hash is not None and totp is not None:
        event = AccountEvent.RESTORE
    else:
        event = (
            AccountEvent.RESET_PASSWORD if password_hash is not None else AccountEvent.RESET_TOTP
        )
    advance_account(db, user_id, event, values=values)
    revoke_all(db, user_id)
    return name


def reset_totp(instance: Instance, credential: Credential, user_id: int) -> NewSecrets:
    """Give an account a new TOTP secret (a lost phone); its sessions and tokens end."""
    totp = factors.new_totp_secret()
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, admin=True)
        name = _reset(instance, audit.Actor.of(staff), db, user_id, password_hash=None, totp=totp)
    return NewSecrets(name, None, factors.Provisioning(name, totp), onion.grant(instance, user_id))


def reset_password(instance: Instance, credential: Credential, user_id: int) -> NewSecrets:
    """Give an account a new one-time password; its sessions and tokens end.

    Who asks is checked before the Argon2id work, so a stranger cannot spend it; and again
    with the write, since the administrator may have been removed meanwhile.
    """
    with instance.engine.begin() as db:
        authenticate(db, instance, credential, admin=True)
        _target(db, user_id)
    password = factors.one_time_password()
    with instance.staff_kdf_gate.slot():
        password_hash = factors.hash_password(instance.config.kdf, password)
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, admin=True)
        name = _reset(
            instance, audit.Actor.of(staff), db, user_id, password_hash=password_hash, totp=None
        )
    return NewSecrets(name, password, None, onion.grant(instance, user_id))


def reset_account_locally(instance: Instance, name: str) -> NewSecrets:
    """New one-time password and TOTP secret, from the server's command line (a locked-out
    administrator's way back)."""
    name = factors.check_name(name)
    password, totp = factors.one_time_password(), factors.new_totp_secret()
    with instance.staff_kdf_gate.slot():
        password_hash = factors.hash_password(instance.config.kdf, password)
    with instance.engine.begin() as db:
        user_id = db.execute(select(ns.users.c.id).where(ns.users.c.name == name)).scalar()
        if user_id is None:
            raise NotFoundError(N_("There is no staff account named {name}"), name=name)
        _reset(instance, audit.CLI_ACTOR, db, int(user_id), password_hash=password_hash, totp=totp)
    key = onion.grant(instance, int(user_id))
    return NewSecrets(name, password, factors.Provisioning(name, totp), key)


@dataclass(frozen=True)
class AuditPage:
    """Entries, newest first, and the id to continue before (None at the end)."""

    staff: Staff
    entries: list[audit.Entry]
    next_before: int | None


def audit_page(instance: Instance, credential: Credential, before: int | None = None) -> AuditPage:
    """A page of the audit log (administrators only)."""
    log = ns.audit_log
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, admin=True)
        query = select(log).order_by(log.c.id.desc()).limit(AUDIT_PAGE_SIZE + 1)
        if before is not None:
            query = query.where(log.c.id < before)
        rows = db.execute(query).all()
    entries = [
        audit.Entry(
            int(r.id), stored_time(r.at), r.actor, r.action, r.object_kind, r.object_ref, r.detail
        )
        for r in rows[:AUDIT_PAGE_SIZE]
    ]
    more = len(rows) > AUDIT_PAGE_SIZE
    return AuditPage(staff, entries, entries[-1].id if more else None)
