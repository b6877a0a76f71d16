"""Errors the newsroom's service functions raise; messages are written for staff. Their
statuses and codes are the newsroom API's (docs/api.md, "Errors")."""

from __future__ import annotations

from tainik.core.errors import N_, ExitCode, TainikError
from tainik.service.errors import LoginError, RequestError, SessionError, ThrottledError


class StaffLoginError(LoginError):
    """Wrong name, password or code, a code used before, or a deactivated account.

    One message for all of them, so that a failed login reveals nothing about which part was
    wrong or whether the account exists.
    """

    code = "forbidden"  # not the source's "unknown_codename": it says nothing of the name
    template = N_(
        "The name, password or code is wrong, or the code was used already. Wait for the next "
        "code and try again"
    )


class StaffThrottledError(ThrottledError):
    """Too many failed logins for this name: only the password with a fresh code gets in."""

    template = N_(
        "Too many failed logins for this account; type the password again with the next code"
        " from your authenticator app"
    )


class PasswordChecksThrottledError(StaffThrottledError):
    """Too many wrong current passwords from one signed-in account."""

    template = N_("Too many wrong passwords; try again in a quarter of an hour")


class ReauthenticationError(StaffLoginError):
    """A wrong password or code where a signed-in administrator must prove it again."""

    template = N_(
        "Your password or the code is wrong, or the code was used already (each code works "
        "once: wait for the next one). Nothing was changed"
    )


class StaffSessionError(SessionError):
    """No valid session or token: logged out, expired, revoked or never issued."""

    code = "unauthorized"
    template = N_("You are not logged in, or your session has ended; please log in again")


class ForbiddenError(TainikError):
    """The staff member may not do this (an administrator's action)."""

    exit_code = ExitCode.USAGE
    status = 403
    code = "forbidden"
    template = N_("Only an administrator can do this")


class TokenScopeError(ForbiddenError):
    """A read-only API token asked to change something."""

    template = N_(
        "This token may only read (list and download); to reply or delete, get a token with "
        "the scope 'full'"
    )


class TokenScopeUnknownError(RequestError):
    """A token asked for with a scope that does not exist."""

    template = N_("The token scope must be 'read' or 'full'")


class PasswordChangeRequiredError(ForbiddenError):
    """The account still has its one-time password."""

    template = N_("Choose a new password first (in the web interface: 'Change password')")


class PasswordPolicyError(RequestError):
    """A new password that is too short, too long, or not new."""

    template = N_(
        "The new password must have at least {minimum} characters and differ from the old one"
    )


class CommonPasswordError(RequestError):
    """A new password built on one of the most common passwords."""

    template = N_(
        "That password is one of the first an attacker would try: it is built on a very common "
        "password. Choose another, such as several unrelated words"
    )


class PasswordMismatchError(RequestError):
    """The new password and its repetition differ."""

    template = N_(
        "The two new passwords are not the same: type the same new password in both fields"
    )


class AccountNameError(RequestError):
    """A staff account name that is not allowed."""

    template = N_(
        "An account name has 1 to 64 characters: lowercase letters a-z, digits, '.', '_' or '-', "
        "starting with a letter or digit"
    )


class ConflictError(TainikError):
    """The request conflicts with what exists (a taken name, deactivating oneself)."""

    exit_code = ExitCode.USAGE
    status = 409
    code = "conflict"
    template = N_("That conflicts with what exists")


class SettingsError(RequestError):
    """An instance setting with a bad value."""

    template = N_("{setting}: this value is not allowed")


class KeyChangeError(RequestError):
    """A change of the organisation's keys refused before any password is checked."""

    template = N_("The keys were not changed")


class FingerprintMismatchError(KeyChangeError):
    """A fingerprint typed back that is not the new key's."""

    template = N_(
        "The fingerprint typed for new key {number} is not that key's fingerprint. Nothing was "
        "changed. Compare the key with the one your workstation shows "
        "('tainik keys show --fingerprint') and type its fingerprint again"
    )


class KeysChangedMeanwhileError(KeyChangeError):
    """The keys changed between the proposal and its confirmation."""

    template = N_(
        "The organisation's keys were changed by someone else since this page was shown. "
        "Nothing was changed: open the settings again and check the keys in force"
    )
