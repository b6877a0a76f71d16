"""Staff accounts' lifecycle (docs/threat-model.md, "Staff accounts"): states and transitions.

An account is made *pending*: it holds a one-time password, handed over in person, which it
must replace at its first login before anything else works. Choosing its own password makes it
*active*. An administrator may deactivate it (every session and token ends) and reactivate it;
a deactivated account remembers whether it was still pending, so that reactivating it never
turns a one-time password into a lasting one. Resetting the password makes an account pending
again, and ``tainik users reset`` on the server (new password and TOTP secret) brings back any
account, deactivated or not, as pending.
"""

from __future__ import annotations

from enum import StrEnum

from tainik.core.errors import N_, ExitCode, TainikError
from tainik.core.lifecycle import Lifecycle


class AccountState(StrEnum):
    """Where a staff account stands."""

    PENDING = "pending"  # a one-time password: only choosing its own is allowed
    ACTIVE = "active"
    DEACTIVATED = "deactivated"  # had chosen its own password
    DEACTIVATED_PENDING = "deactivated_pending"  # deactivated before choosing one


class AccountEvent(StrEnum):
    """What can happen to a staff account."""

    SIGN_IN = "sign in"  # a login, or a request of a session or token
    # (Ruff's S105 takes these names of events for passwords.)
    ISSUE_TOKEN = "issue token"  # noqa: S105
    CHOOSE_PASSWORD = "choose password"  # noqa: S105 - the account sets its own password
    RESET_PASSWORD = "reset password"  # noqa: S105 - an administrator gives a one-time one
    RESET_TOTP = "reset totp"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    RESTORE = "restore"  # `tainik users reset`: both factors new, deactivated or not


ACCOUNT_TRANSITIONS: dict[tuple[AccountState, AccountEvent], AccountState] = {
    (AccountState.PENDING, AccountEvent.SIGN_IN): AccountState.PENDING,
    (AccountState.ACTIVE, AccountEvent.SIGN_IN): AccountState.ACTIVE,
    (AccountState.ACTIVE, AccountEvent.ISSUE_TOKEN): AccountState.ACTIVE,
    (AccountState.PENDING, AccountEvent.CHOOSE_PASSWORD): AccountState.ACTIVE,
    (AccountState.ACTIVE, AccountEvent.CHOOSE_PASSWORD): AccountState.ACTIVE,
    (AccountState.PENDING, AccountEvent.RESET_PASSWORD): AccountState.PENDING,
    (AccountState.ACTIVE, AccountEvent.RESET_PASSWORD): AccountState.PENDING,
    (AccountState.DEACTIVATED, AccountEvent.RESET_PASSWORD): AccountState.DEACTIVATED_PENDING,
    (AccountState.DEACTIVATED_PENDING, AccountEvent.RESET_PASSWORD): (
        AccountState.DEACTIVATED_PENDING
    ),
    (AccountState.PENDING, AccountEvent.RESET_TOTP): AccountState.PENDING,
    (AccountState.ACTIVE, AccountEvent.RESET_TOTP): AccountState.ACTIVE,
    (AccountState.DEACTIVATED, AccountEvent.RESET_TOTP): AccountState.DEACTIVATED,
    (AccountState.DEACTIVATED_PENDING, AccountEvent.RESET_TOTP): AccountState.DEACTIVATED_PENDING,
    (AccountState.PENDING, AccountEvent.DEACTIVATE): AccountState.DEACTIVATED_PENDING,
    (AccountState.ACTIVE, AccountEvent.DEACTIVATE): AccountState.DEACTIVATED,
    (AccountState.DEACTIVATED, AccountEvent.REACTIVATE): AccountState.ACTIVE,
    (AccountState.DEACTIVATED_PENDING, AccountEvent.REACTIVATE): AccountState.PENDING,
    (AccountState.PENDING, AccountEvent.RESTORE): AccountState.PENDING,
    (AccountState.ACTIVE, AccountEvent.RESTORE): AccountState.PENDING,
    (AccountState.DEACTIVATED, AccountEvent.RESTORE): AccountState.PENDING,
    (AccountState.DEACTIVATED_PENDING, AccountEvent.RESTORE): AccountState.PENDING,
}

ACCOUNT_LIFECYCLE: Lifecycle[AccountState, AccountEvent] = Lifecycle(
    name="staff account",
    created_by="add",
    initial=AccountState.PENDING,
    table=ACCOUNT_TRANSITIONS,
)

# Why a state refuses an event, for the administrator who asked. (Sign-ins are refused with
# the login's one message instead, which tells nothing of the account.)
_REFUSALS = {
    AccountEvent.DEACTIVATE: N_("The account {name} is deactivated already"),
    AccountEvent.REACTIVATE: N_("The account {name} is not deactivated"),
}


class AccountStateError(TainikError):
    """An event the account's state refuses (a conflict with what the account is)."""

    exit_code = ExitCode.USAGE
    status = 409
    code = "conflict"
    template = N_("The account {name} cannot do that now")


def account_transition(state: AccountState, event: AccountEvent, name: str) -> AccountState:
    """The state after ``event``, or :class:`AccountStateError` when ``state`` refuses it."""
    after = ACCOUNT_LIFECYCLE.next(state, event)
    if after is None:
        raise AccountStateError(_REFUSALS.get(event), name=name)
    return after


def is_deactivated(state: AccountState) -> bool:
    """True for both deactivated states."""
    return state in (AccountState.DEACTIVATED, AccountState.DEACTIVATED_PENDING)
