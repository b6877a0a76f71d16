"""Staff authentication: password + TOTP logins, server-side sessions, API tokens.

A session cookie and an API token are both 32 random bytes (URL-safe base64); the database
keeps only their SHA-256. Sessions end after :data:`SESSION_IDLE` without a request, after
:data:`SESSION_LIFETIME` in any case, at logout, and when the password changes (every session
and token of the account goes then). Tokens end after :data:`TOKEN_LIFETIME`.

Every login attempt is recorded before the password is checked and forgotten only if it
succeeds. After :data:`FAILURES_BEFORE_GUARD` failures for a name within :data:`THROTTLE_WINDOW`
the name is *guarded*: an attempt must then bring a valid, unused TOTP code before any Argon2id
work is done, and that code's time step is spent whether or not the password is right. So a
guarded name costs a stranger nothing to be refused and gets at most one password check per
30-second step (for one who holds the TOTP secret), while its owner, with the password and a
fresh code, still gets in: the names are guessable, and a lock-out would be free to impose.

Attempts are counted by the name typed, known or not, so throttling tells nobody which accounts
exist, and are stored only as a keyed hash (HMAC-SHA-256 under a key derived from the instance's
secret salt): a password typed into the name field never reaches the disk. Rows older than the
window are deleted at each attempt and by the periodic housekeeping. A TOTP time step is
accepted once per account, and never one older than the last accepted.

An API token has a :class:`Scope`: ``read`` (the default, and what ``tainik pull`` asks for)
lists and downloads; ``full`` may also do what changes state (reply, delete). A session cookie
is always ``full``. :func:`authenticate` refuses a read-only token unless its caller says the
action only reads (``reading=True``), so a new service function is closed to read-only tokens
until someone decides otherwise.

An account's state (pending, active, deactivated) moves only through its lifecycle's table
(core/staff_account.py): :func:`advance_account` runs an event on the stored state inside the
use case's transaction, and every sign-in asks the table whether the state allows it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tainik import crypto
from tainik.core.errors import N_, TainikError
from tainik.core.staff_account import (
    ACCOUNT_LIFECYCLE,
    AccountEvent,
    AccountState,
    AccountStateError,
    account_transition,
)
from tainik.crypto import KdfParams, Secret
from tainik.service.errors import NotFoundError
from tainik.service.instance import Instance
from tainik.service.newsroom import audit, factors, key_change, password_policy
from tainik.service.newsroom.errors import (
    CommonPasswordError,
    ConflictError,
    ForbiddenError,
    PasswordChangeRequiredError,
    PasswordChecksThrottledError,
    PasswordMismatchError,
    PasswordPolicyError,
    ReauthenticationError,
    StaffLoginError,
    StaffSessionError,
    StaffThrottledError,
    TokenScopeError,
    TokenScopeUnknownError,
)
from tainik.storage import locks
from tainik.storage import newsroom_schema as ns
from tainik.storage.database import stored_time
from tainik.storage.space import unless_full

SESSION_IDLE = timedelta(minutes=30)
SESSION_LIFETIME = timedelta(hours=12)
TOKEN_LIFETIME = timedelta(hours=8)
FAILURES_BEFORE_GUARD = 5
THROTTLE_WINDOW = timedelta(minutes=15)
# A signed-in staff member's wrong current passwords (when changing it): refused beyond this.
PASSWORD_CHECKS_PER_WINDOW = 5
# Refresh a session's last-seen time at most this often (each refresh is a write).
TOUCH_EVERY = timedelta(seconds=60)
TOKEN_BYTES = 32


class CredentialKind(StrEnum):
    """How a request proves who sends it."""

    SESSION = "session"  # the newsroom pages' cookie
    TOKEN = "token"  # noqa: S105 - the API's bearer token (a kind, not a secret)


class Scope(StrEnum):
    """What an API token may do."""

    READ = "read"  # list, show and download: all `tainik pull` needs
    FULL = "full"  # everything the account may do: also reply and delete

    @classmethod
    def parse(cls, text: object) -> Scope:
        """A scope from a request (``read`` or ``full``); else a request error."""
        try:
            return cls(str(text))
        except ValueError as exc:
            raise TokenScopeUnknownError() from exc


# What each scope means, for people (pages and the command line).
SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.READ: N_("Read only: list and download"),
    Scope.FULL: N_("Full: also reply and delete"),
}


@dataclass(frozen=True)
class Credential:
    """A session cookie or API token as the request carried it (maybe absent or forged)."""

    kind: CredentialKind
    secret: Secret | None

    @classmethod
    def session(cls, value: str | None) -> Credential:
        """The cookie of the newsroom pages."""
        return cls(CredentialKind.SESSION, Secret(value) if value else None)

    @classmethod
    def token(cls, value: str | None) -> Credential:
        """An API bearer token."""
        return cls(CredentialKind.TOKEN, Secret(value) if value else None)


@dataclass(frozen=True)
class Staff:
    """The authenticated staff member of one request."""

    id: int
    name: str
    is_admin: bool
    state: AccountState
    # A recent change of the organisation's keys, which every page tells (sessions only).
    keys_changed: key_change.KeyChangeNotice | None = None

    @property
    def must_change_password(self) -> bool:
        """True while the account still has its one-time password."""
        return self.state is AccountState.PENDING


@dataclass(frozen=True)
class IssuedToken:
    """A new API token, shown once."""

    token: Secret
    expires_at: datetime
    staff: Staff
    scope: Scope


def _new_token() -> tuple[Secret, bytes]:
    raw = secrets.token_bytes(TOKEN_BYTES)
    return Secret(base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")), crypto.sha256(raw)


def _token_hash(secret: Secret | None) -> bytes | None:
    if secret is None:
        return None
    text = secret.reveal()
    if not 40 <= len(text) <= 64:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return crypto.sha256(raw) if len(raw) == TOKEN_BYTES else None


def authenticate(
    db: Connection,
    instance: Instance,
    credential: Credential,
    *,
    admin: bool = False,
    pending_ok: bool = False,
    reading: bool = False,
    touch: bool = True,
) -> Staff:
    """The staff member behind ``credential``, inside the caller's transaction.

    A session's last-seen time is refreshed (at most once a minute) unless ``touch`` is
    false; the refresh is given up, not the request, when the disk is full.

    Raises :class:`StaffSessionError` for a missing, unknown, expired or revoked credential or a
    deactivated account, :class:`PasswordChangeRequiredError` while the account still has its
    one-time password (unless ``pending_ok``), :class:`ForbiddenError` when ``admin`` is
    asked of someone who is not an administrator, and :class:`TokenScopeError` for a read-only
    token unless the caller only reads (``reading``).
    """
    token_hash = _token_hash(credential.secret)
    if token_hash is None:
        raise StaffSessionError()
    now = instance.clock()
    users = ns.users
    if credential.kind is CredentialKind.SESSION:
        table = ns.staff_sessions
        row = db.execute(
            select(table.c.last_seen, table.c.expires_at, users)
            .join(users, users.c.id == table.c.user_id)
            .where(table.c.token_hash == token_hash)
        ).first()
        if row is None or stored_time(row.last_seen) + SESSION_IDLE < now:
            raise StaffSessionError()
        if touch and now - stored_time(row.last_seen) > TOUCH_EVERY:
            _touch(instance, token_hash, now)
    else:
        table = ns.api_tokens
        row = db.execute(
            select(table.c.expires_at, table.c.scope, users)
            .join(users, users.c.id == table.c.user_id)
            .where(table.c.token_hash == token_hash)
        ).first()
        if row is None:
            raise StaffSessionError()
    if stored_time(row.expires_at) <= now or not _may_sign_in(row):
        raise StaffSessionError()
    if credential.kind is CredentialKind.TOKEN and row.scope != Scope.FULL and not reading:
        raise TokenScopeError()
    notice = key_change.notice(db, now) if credential.kind is CredentialKind.SESSION else None
    staff = _staff(row, notice)
    if staff.must_change_password and not pending_ok:
        raise PasswordChangeRequiredError()
    if admin and not staff.is_admin:
        raise ForbiddenError()
    return staff


def _touch(instance: Instance, token_hash: bytes, now: datetime) -> None:
    """Refresh a session's last-seen time in a transaction of its own, or leave it when the
    disk is full: a full disk must not lock staff out of reading, nor of deleting to free it
    (SQLite reports the full disk at commit, so this cannot share the caller's)."""
    table = ns.staff_sessions

    def refresh() -> None:
        with instance.engine.begin() as db:
            db.execute(update(table).where(table.c.token_hash == token_hash).values(last_seen=now))

    unless_full(refresh)


def whoami(instance: Instance, credential: Credential) -> Staff:
    """The staff member behind ``credential`` (even one who must change the password first)."""
    return whoami_with_scope(instance, credential)[0]


def whoami_with_scope(instance: Instance, credential: Credential) -> tuple[Staff, Scope]:
    """:func:`whoami`, and what the credential may do (a session: ``full``)."""
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, pending_ok=True, reading=True)
        if credential.kind is CredentialKind.SESSION:
            return staff, Scope.FULL
        token_hash = _token_hash(credential.secret)
        scope = db.execute(
            select(ns.api_tokens.c.scope).where(ns.api_tokens.c.token_hash == token_hash)
        ).scalar_one()
    return staff, Scope(scope)


def require_scope(instance: Instance, credential: Credential) -> None:
    """Refuse a read-only token (:class:`TokenScopeError`) before a request's body is read;
    the service function checks again in its own transaction."""
    with instance.engine.begin() as db:
        authenticate(db, instance, credential)


@functools.cache
def _dummy_hash(kdf: KdfParams) -> str:
    return factors.dummy_hash(kdf)


def _attempt_key(instance: Instance, purpose: str, account: str) -> str:
    """What ``login_failures`` stores for a name: never the name itself (it may be a password
    typed into the wrong field), but an HMAC under a key derived from the instance's secret."""
    key = hmac.new(instance.config.codename_salt, b"tainik login attempts v1", hashlib.sha256)
    message = f"{purpose}\0{account}".encode()
    return hmac.new(key.digest(), message, hashlib.sha256).hexdigest()


def forget_old_attempts(db: Connection, now: datetime) -> int:
    """Delete attempts older than the window (inside the caller's transaction)."""
    attempts = ns.login_failures
    return int(db.execute(delete(attempts).where(attempts.c.at <= now - THROTTLE_WINDOW)).rowcount)


def _record(db: Connection, key: str, now: datetime) -> tuple[int, int]:
    """Record an attempt; returns its id and how many attempts for ``key`` came before it
    within the window (this one included in none, every concurrent one included)."""
    attempts = ns.login_failures
    # One attempt of a name at a time (storage/locks.py), so that the count sees every
    # concurrent attempt: SQLite's write lock, taken by the insert, does it there.
    locks.hold(db, "login attempts", key)
    forget_old_attempts(db, now)
    # Insert first: the write lock makes the count below see every concurrent attempt.
    attempt_id = db.execute(insert(attempts).values(account=key, at=now)).inserted_primary_key[0]  # type: ignore[index]
    recent = db.execute(
        select(func.count())
        .select_from(attempts)
        .where(attempts.c.account == key, attempts.c.at > now - THROTTLE_WINDOW)
    ).scalar_one()
    return int(attempt_id), int(recent) - 1


def _claim_step(db: Connection, user_id: int, step: int, now: datetime) -> bool:
    """Spend a TOTP time step of an account; False when it, or a later one, was used."""
    locks.hold(db, "totp", user_id)
    last = db.execute(
        select(func.max(ns.totp_used.c.step)).where(ns.totp_used.c.user_id == user_id)
    ).scalar()
    if last is not None and last >= step:
        return False
    db.execute(insert(ns.totp_used).values(user_id=user_id, step=step, used_at=now))
    return True


@dataclass(frozen=True)
class _Attempt:
    id: int
    row: Any  # the account's row, None for a name no account has
    step: int | None  # the TOTP step already spent (guarded names only)


def _begin_login(instance: Instance, account: str, code: str) -> _Attempt:
    """Record a login attempt; for a guarded name, check and spend the TOTP code first.

    A guarded name's attempt without a valid, unused code is refused at once, without any
    Argon2id work, and leaves no trace (raising rolls the insert back). Known and unknown
    names are refused alike.
    """
    now = instance.clock()
    try:
        with instance.engine.begin() as db:
            attempt_id, earlier = _record(db, _attempt_key(instance, "login", account), now)
            row = db.execute(select(ns.users).where(ns.users.c.name == account)).first()
            if earlier < FAILURES_BEFORE_GUARD:
                return _Attempt(attempt_id, row, None)
            step = None
            if row is not None and _may_sign_in(row):
                step = factors.totp_step(Secret(row.totp_secret), code, now)
            if row is None or step is None or not _claim_step(db, int(row.id), step, now):
                raise StaffThrottledError()
            return _Attempt(attempt_id, row, step)
    except IntegrityError as exc:  # the same step, spent a moment ago by another request
        raise StaffThrottledError() from exc


def _check_factors(instance: Instance, name: str, password: Secret, code: str) -> Any:
    """The user row when name, password and code are right; the attempt is counted."""
    account = name.strip().lower()[:64]
    # Every write of a login may draw on the disk's reserve (storage/space.py): staff must be
    # able to sign in to a full server to free it.
    attempt = instance.reserve.retry(lambda: _begin_login(instance, account, code))
    row = attempt.row
    kdf = instance.config.kdf
    with instance.staff_kdf_gate.slot():
        # An unknown account costs the same Argon2id work, so timing reveals nothing.
        password_ok = factors.verify_password(
            kdf, row.password_hash if row is not None else _dummy_hash(kdf), password
        )
    now = instance.clock()
    step = attempt.step
    if step is None and row is not None:
        step = factors.totp_step(Secret(row.totp_secret), code, now)
    if row is None or not password_ok or step is None or not _may_sign_in(row):
        if row is not None:
            _audit_failure(instance, row, now)
        # A guarded name answers every failure alike, whatever was wrong.
        raise StaffThrottledError() if attempt.step is not None else StaffLoginError()

    def succeed() -> None:
        with instance.engine.begin() as db:
            if attempt.step is None and not _claim_step(db, int(row.id), step, now):
                raise StaffLoginError()
            # The attempt succeeded: it no longer counts against the name.
            db.execute(delete(ns.login_failures).where(ns.login_failures.c.id == attempt.id))
            db.execute(
                delete(ns.totp_used).where(
                    ns.totp_used.c.user_id == row.id,
                    ns.totp_used.c.step < step - 2 * factors.TOTP_WINDOW - 1,
                )
            )
            if factors.hasher(kdf).check_needs_rehash(row.password_hash):
                db.execute(
                    update(ns.users)
                    .where(ns.users.c.id == row.id)
                    .values(password_hash=factors.hash_password(kdf, password))
                )

    try:
        instance.reserve.retry(succeed)
    except IntegrityError as exc:  # the same code, accepted a moment ago by another request
        raise StaffLoginError() from exc
    except StaffLoginError:
        _audit_failure(instance, row, now)
        raise
    return row


def _audit_failure(instance: Instance, row: Any, now: datetime) -> None:
    def record() -> None:
        with instance.engine.begin() as db:
            audit.record(db, now, audit.Actor(int(row.id), row.name), "login-failed")

    instance.reserve.retry(record)


def _staff(row: Any, keys_changed: key_change.KeyChangeNotice | None = None) -> Staff:
    return Staff(int(row.id), row.name, bool(row.is_admin), AccountState(row.state), keys_changed)


def _may_sign_in(row: Any) -> bool:
    """True when the account's state allows a login or a request (not deactivated)."""
    return ACCOUNT_LIFECYCLE.allows(AccountState(row.state), AccountEvent.SIGN_IN)


def advance_account(
    db: Connection,
    user_id: int,
    event: AccountEvent,
    *,
    refused: TainikError | None = None,
    values: dict[str, object] | None = None,
) -> AccountState:
    """Run ``event`` on the account's stored state, inside the caller's transaction, and store
    the state it leads to (with ``values``) only where the row still holds the one loaded.

    A state that refuses the event raises ``refused``, or the :class:`AccountStateError` that
    says why; a change made by another request in between, ``refused`` or a conflict."""
    row = db.execute(
        select(ns.users.c.name, ns.users.c.state).where(ns.users.c.id == user_id)
    ).first()
    if row is None:
        raise refused or NotFoundError()
    before = AccountState(row.state)
    try:
        after = account_transition(before, event, row.name)
    except AccountStateError:
        if refused is None:
            raise
        raise refused from None
    if after is before and not values:
        return after
    changed = db.execute(
        update(ns.users)
        .where(ns.users.c.id == user_id, ns.users.c.state == before)
        .values(state=after, **(values or {}))
    )
    if changed.rowcount != 1:
        raise refused or ConflictError(N_("Another request changed this account; try again"))
    return after


def _open_session(db: Connection, user_id: int, now: datetime) -> Secret:
    token, token_hash = _new_token()
    db.execute(
        insert(ns.staff_sessions).values(
            token_hash=token_hash,
            user_id=user_id,
            created_at=now,
            last_seen=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return token


def _prune(db: Connection, now: datetime) -> None:
    sessions, tokens = ns.staff_sessions, ns.api_tokens
    db.execute(
        delete(sessions).where(
            (sessions.c.expires_at <= now) | (sessions.c.last_seen < now - SESSION_IDLE)
        )
    )
    db.execute(delete(tokens).where(tokens.c.expires_at <= now))


def login(instance: Instance, name: str, password: Secret, code: str) -> tuple[Secret, Staff]:
    """Log a staff member in to the pages; returns the session cookie value and who it is."""
    row = _check_factors(instance, name, password, code)
    now = instance.clock()

    def open_session() -> Secret:
        with instance.engine.begin() as db:
            # Deactivated since the factors were checked: refused like any failed login.
            advance_account(db, int(row.id), AccountEvent.SIGN_IN, refused=StaffLoginError())
            _prune(db, now)
            cookie = _open_session(db, int(row.id), now)
            db.execute(update(ns.users).where(ns.users.c.id == row.id).values(last_login_at=now))
            audit.record(db, now, audit.Actor(int(row.id), row.name), "login")
            return cookie

    return instance.reserve.retry(open_session), _staff(row)


def issue_token(
    instance: Instance, name: str, password: Secret, code: str, scope: Scope = Scope.READ
) -> IssuedToken:
    """An API token for a staff member, from password and TOTP code (as for a login); read-only
    unless ``scope`` says otherwise."""
    row = _check_factors(instance, name, password, code)
    if AccountState(row.state) is AccountState.PENDING:
        raise PasswordChangeRequiredError()
    now = instance.clock()
    token, token_hash = _new_token()
    expires = now + TOKEN_LIFETIME

    def record_token() -> None:
        with instance.engine.begin() as db:
            # Changed since the factors were checked: refused like any failed login.
            advance_account(db, int(row.id), AccountEvent.ISSUE_TOKEN, refused=StaffLoginError())
            _prune(db, now)
            db.execute(
                insert(ns.api_tokens).values(
                    token_hash=token_hash,
                    user_id=row.id,
                    created_at=now,
                    expires_at=expires,
                    scope=scope.value,
                )
            )
            actor = audit.Actor(int(row.id), row.name)
            audit.record(db, now, actor, "token-issued", detail=f"scope {scope.value}")

    instance.reserve.retry(record_token)
    return IssuedToken(token, expires, _staff(row), scope)


def logout(instance: Instance, credential: Credential, *, strict: bool = False) -> None:
    """End a session or revoke a token.

    An unknown or expired one is ignored, or with ``strict`` refused (:class:`StaffSessionError`).
    """
    token_hash = _token_hash(credential.secret)
    if token_hash is None:
        if strict:
            raise StaffSessionError()
        return
    table = ns.staff_sessions if credential.kind is CredentialKind.SESSION else ns.api_tokens
    with instance.engine.begin() as db:
        try:
            # Revoking a token only takes power away: a read-only token may revoke itself.
            staff = authenticate(db, instance, credential, pending_ok=True, reading=True)
        except StaffSessionError:
            if strict:
                raise
            staff = None
        db.execute(delete(table).where(table.c.token_hash == token_hash))
        if staff is not None:
            action = "logout" if credential.kind is CredentialKind.SESSION else "token-revoked"
            audit.record(db, instance.clock(), audit.Actor.of(staff), action)


def check_new_password(current: Secret | None, new: Secret, repeat: Secret) -> None:
    """Refuse a new password that is too short or long, unchanged, or mistyped."""
    text = new.reveal()
    if (
        len(text) < factors.MIN_PASSWORD_CHARS
        or len(text) > factors.MAX_PASSWORD_CHARS
        or (current is not None and text == current.reveal())
    ):
        raise PasswordPolicyError(minimum=factors.MIN_PASSWORD_CHARS)
    if text != repeat.reveal():
        raise PasswordMismatchError()
    if password_policy.is_common(text):
        raise CommonPasswordError()


def change_password(
    instance: Instance, credential: Credential, current: Secret, new: Secret, repeat: Secret
) -> Secret:
    """Set a new password; every session and token of the account ends. Returns a new session.

    A wrong current password counts as a failed login attempt of the account.
    """
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, pending_ok=True)
        stored = db.execute(
            select(ns.users.c.password_hash).where(ns.users.c.id == staff.id)
        ).scalar_one()
    check_new_password(current, new, repeat)
    # Counted apart from logins: only this signed-in account can spend (or be refused) these.
    with instance.engine.begin() as db:
        key = _attempt_key(instance, "password-change", str(staff.id))
        attempt_id, earlier = _record(db, key, instance.clock())
        if earlier >= PASSWORD_CHECKS_PER_WINDOW:  # raising rolls the insert back
            raise PasswordChecksThrottledError()
    kdf = instance.config.kdf
    with instance.staff_kdf_gate.slot():
        if not factors.verify_password(kdf, stored, current):
            raise StaffLoginError()
        new_hash = factors.hash_password(kdf, new)
    now = instance.clock()
    with instance.engine.begin() as db:
        authenticate(db, instance, credential, pending_ok=True)
        advance_account(
            db,
            staff.id,
            AccountEvent.CHOOSE_PASSWORD,
            values={"password_hash": new_hash, "password_changed_at": now},
        )
        revoke_all(db, staff.id)
        db.execute(delete(ns.login_failures).where(ns.login_failures.c.id == attempt_id))
        cookie = _open_session(db, staff.id, now)
        audit.record(db, now, audit.Actor.of(staff), "password-changed")
    return cookie


def confirm_factors(
    instance: Instance, credential: Credential, password: Secret, code: str
) -> Staff:
    """The administrator behind ``credential``, proven again by password and a fresh TOTP code
    (for what a session alone must not be enough for: changing the organisation's keys).

    The code's time step is spent, so neither the code of the login nor one seen over a
    shoulder works twice. Wrong answers raise :class:`ReauthenticationError`; like a wrong
    current password they count against the account, beyond
    :data:`PASSWORD_CHECKS_PER_WINDOW` in :data:`THROTTLE_WINDOW` they are refused unchecked
    (:class:`PasswordChecksThrottledError`).
    """
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, admin=True)
        row = db.execute(select(ns.users).where(ns.users.c.id == staff.id)).one()
    with instance.engine.begin() as db:
        key = _attempt_key(instance, "confirm", str(staff.id))
        attempt_id, earlier = _record(db, key, instance.clock())
        if earlier >= PASSWORD_CHECKS_PER_WINDOW:  # raising rolls the insert back
            raise PasswordChecksThrottledError()
    with instance.staff_kdf_gate.slot():
        password_ok = factors.verify_password(instance.config.kdf, row.password_hash, password)
    now = instance.clock()
    step = factors.totp_step(Secret(row.totp_secret), code, now)
    if not password_ok or step is None:
        raise ReauthenticationError()
    try:
        with instance.engine.begin() as db:
            staff = authenticate(db, instance, credential, admin=True)
            if not _claim_step(db, staff.id, step, now):
                raise ReauthenticationError()
            db.execute(delete(ns.login_failures).where(ns.login_failures.c.id == attempt_id))
    except IntegrityError as exc:  # the same code, accepted a moment ago by another request
        raise ReauthenticationError() from exc
    return staff


def revoke_all(db: Connection, user_id: int) -> None:
    """End every session and token of an account (inside the caller's transaction)."""
    db.execute(delete(ns.staff_sessions).where(ns.staff_sessions.c.user_id == user_id))
    db.execute(delete(ns.api_tokens).where(ns.api_tokens.c.user_id == user_id))
