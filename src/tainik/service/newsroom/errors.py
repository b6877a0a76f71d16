"""Errors the newsroom's service functions raise; messages are written for staff."""

from __future__ import annotations

from tainik.core.errors import N_, ExitCode, TainikError
from tainik.service.errors import LoginError, RequestError, SessionError, ThrottledError


class StaffLoginError(LoginError):
    """Wrong name, password or code, a code used before, or a deactivated account.

    One message for all of them, so that a failed login reveals nothing about which part was
    wrong or whether the account exists.
    """

    template = N_(
        "the name, password or code is wrong, or the code was used already. Wait for the next "
        "code and try again"
    )


class StaffThrottledError(ThrottledError):
    """Too many failed logins for this name: only the password with a fresh code gets in."""

    template = N_(
        "too many failed logins for this account; type the password again with the next code"
        " from your authenticator app"
    )


class PasswordChecksThrottledError(StaffThrottledError):
    """Too many wrong current passwords from one signed-in account."""

    template = N_("too many wrong passwords; try again in a quarter of an hour")


class StaffSessionError(SessionError):
    """No valid session or token: logged out, expired, revoked or never issued."""

    template = N_("you are not logged in, or your session has ended; please log in again")


class ForbiddenError(TainikError):
    """The staff member may not do this (an administrator's action)."""

    exit_code = ExitCode.USAGE
    template = N_("only an administrator can do this")


class TokenScopeError(ForbiddenError):
    """A read-only API token asked to change something."""

    template = N_(
        "this token may only read (list and download); to reply or delete, get a token with "
        "the scope 'full'"
    )


class TokenScopeUnknownError(RequestError):
    """A token asked for with a scope that does not exist."""

    template = N_("the token scope must be 'read' or 'full'")


class PasswordChangeRequiredError(ForbiddenError):
    """The account still has its one-time password."""

    template = N_("choose a new password first (in the web interface: 'Change password')")


class PasswordPolicyError(RequestError):
    """A new password that is too short, too long, or not new."""

    template = N_(
        "the new password must have at least {minimum} characters and differ from the old one"
    )


class PasswordMismatchError(RequestError):
    """The new password and its repetition differ."""

    template = N_("the two new passwords differ")


class AccountNameError(RequestError):
    """A staff account name that is not allowed."""

    template = N_(
        "an account name has 1 to 64 characters: lowercase letters a-z, digits, '.', '_' or '-', "
        "starting with a letter or digit"
    )


class ConflictError(TainikError):
    """The request conflicts with what exists (a taken name, deactivating oneself)."""

    exit_code = ExitCode.USAGE
    template = N_("that conflicts with what exists")


class SettingsError(RequestError):
    """An instance setting with a bad value."""

    template = N_("{setting}: this value is not allowed")
