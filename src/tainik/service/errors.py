"""Errors the service layer raises for people using the server, each with the HTTP status and
API code it is answered with (docs/protocol.md, "Errors")."""

from __future__ import annotations

from tainik.core.errors import N_, ExitCode, TainikError


class RequestError(TainikError):
    """A malformed request (broken form, bad field)."""

    exit_code = ExitCode.USAGE
    status = 400
    code = "bad_request"
    template = N_("The request was malformed")


class CsrfError(RequestError):
    """The form's anti-forgery token is missing or wrong."""

    status = 403
    code = "csrf"
    template = N_(
        "This form has expired or did not come from this site; go back, reload the page "
        "and try again"
    )


class LoginError(TainikError):
    """No source has this codename."""

    exit_code = ExitCode.KEY
    status = 403
    code = "unknown_codename"
    template = N_(
        "That codename is not known here; check it word by word. A codename is kept only "
        "once something has been sent with it: if you never sent anything with this one, "
        "nothing was lost; get a new codename on the first page"
    )


class SessionError(TainikError):
    """No valid session: logged out, or expired after inactivity."""

    exit_code = ExitCode.KEY
    status = 401  # a page answers 403: it has no challenge to offer (server/exception_handlers.py)
    code = "session"
    template = N_("Your session has ended; please log in again with your codename")


class ThrottledError(TainikError):
    """Too many attempts; try later."""

    exit_code = ExitCode.USAGE
    status = 429
    code = "throttled"
    template = N_("Too many login attempts right now; wait a minute and try again")


class FirstSubmissionsBusyError(ThrottledError):
    """Too many new sources' first submissions are being received at once."""

    exit_code = ExitCode.USAGE
    status = 429
    code = "throttled"
    template = N_(
        "The server is receiving many first submissions right now. Nothing was sent: wait a "
        "minute and send again"
    )


class TooLargeError(TainikError):
    """The upload is over the instance's limit."""

    exit_code = ExitCode.USAGE
    status = 413
    code = "too_large"
    template = N_(
        "The upload is larger than this server accepts ({limit}); nothing of it was kept. "
        "Send fewer or smaller files at a time"
    )


class BodyTooLargeError(TooLargeError):
    """A request body larger than its endpoint takes, refused before it is parsed."""

    template = N_("The request is too large")


class NotFoundError(TainikError):
    """Nothing of that name (or not yours)."""

    exit_code = ExitCode.USAGE
    status = 404
    code = "not_found"
    template = N_("Not found")


class LengthRequiredError(RequestError):
    """A body without Content-Length."""

    status = 411
    template = N_("The request must say its length (Content-Length)")
