"""One ``tainik send`` as the command line asks for it: check everything first, then send.

:func:`prepare` takes what was asked (:class:`~tainik.sender.request.SendRequest`) and fails
before the server is contacted on whatever would fail later: nothing to send, a message too
long or not UTF-8, a file that is not one, a bad address, resume state that cannot belong to a
new codename. :func:`codename` then reads the source's codename, or asks the server for a new
one and writes it down. :func:`finish` says how the run went and forgets the resume state when
asked and everything is delivered; :func:`still_to_send` says what a stopped run left. The
command line (``cli/send.py``) only shows progress and puts these facts into words.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tainik.core.codename import normalize
from tainik.core.errors import N_, UsageError
from tainik.core.upload import MAX_MESSAGE_CHARS
from tainik.crypto import Secret
from tainik.sender.client import ClientSettings
from tainik.sender.request import SendRequest
from tainik.sender.send import OnItem, Report, Sender, new_source
from tainik.sender.state import SendState
from tainik.transport import OnWait, check_proxy, check_server

#: The label of the message among the items a report names.
MESSAGE = "message"
STATE_SUFFIX = ".state.json"


@dataclass(frozen=True)
class PreparedSend:
    """A request that passed every check, with its resume state loaded."""

    settings: ClientSettings
    files: tuple[Path, ...]
    message: str | None
    codename_file: Path
    #: True when the server is to be asked for a new codename, written to ``codename_file``.
    new_codename: bool
    state: SendState
    state_path: Path
    jobs: int
    forget: bool

    def sender(self, on_file: OnItem | None = None) -> Sender:
        """The sender for this run (its ``report`` says what it did, even when stopped)."""
        return Sender(self.settings, self.state, jobs=self.jobs, on_file=on_file)


@dataclass(frozen=True)
class SendOutcome:
    """How a finished run went."""

    report: Report
    #: Items the resume state still counts as not delivered.
    undelivered: int
    #: The resume state was deleted (everything delivered, and ``forget`` asked for).
    forgotten: bool

    @property
    def delivered(self) -> bool:
        """Everything the resume state knows of is on the server."""
        return not self.report.failed and self.undelivered == 0

    @property
    def exit_code(self) -> int:
        """0, or the exit code of the first file that could not be sent."""
        return self.report.failed[0][1].exit_code if self.report.failed else 0


def prepare(request: SendRequest, on_wait: OnWait | None = None) -> PreparedSend:
    """Check ``request`` (see the module docstring); raises the first problem found.
    ``on_wait`` hears of each failure that will be tried again."""
    message = request.message
    if request.message_file is not None:
        message = read_message(request.message_file)
    if not request.files and not message:
        raise UsageError(N_("Nothing to send: name files, or give --message"))
    if message and len(message) > MAX_MESSAGE_CHARS:
        raise UsageError(
            N_("The message is longer than {limit} characters: send long texts as files"),
            limit=MAX_MESSAGE_CHARS,
        )
    for path in request.files:
        if not path.is_file():
            raise UsageError(N_("{path}: not a regular file"), path=str(path))
    if request.jobs < 1:
        raise UsageError(N_("--jobs must be at least 1"))
    server = check_server(request.server)
    proxy = check_proxy(request.proxy, server)
    codename_file = request.new_codename_out or request.codename_file
    if codename_file is None or (request.new_codename_out and request.codename_file):
        raise UsageError(N_("Give either --codename-file or --new-codename-out"))
    state_path = request.state or codename_file.with_name(codename_file.name + STATE_SUFFIX)
    state = SendState.load(state_path)
    new = request.new_codename_out is not None
    if new and not state.is_empty():
        raise UsageError(
            N_(
                "{path} already holds resume state, which cannot be a new codename's; "
                "give --state another path, or use --codename-file with the codename "
                "it belongs to"
            ),
            path=str(state_path),
        )
    settings = ClientSettings(
        server=server, proxy=proxy, give_up_after=request.give_up_after, on_wait=on_wait
    )
    return PreparedSend(
        settings=settings,
        files=tuple(request.files),
        message=message,
        codename_file=codename_file,
        new_codename=new,
        state=state,
        state_path=state_path,
        jobs=request.jobs,
        forget=request.forget,
    )


def codename(prepared: PreparedSend) -> Secret:
    """The source's codename, claimed in the resume state (which then belongs to it).

    A new one is asked of the server and written to the codename file (never over another).
    Until its first upload is accepted the server knows nothing of it: the state says so, so
    that a later run says so when it logs in (and is not taken for a typo).
    """
    if prepared.new_codename:
        secret = new_source(prepared.settings, prepared.codename_file)
        prepared.state.claim(secret)
        prepared.state.unconfirmed = True
        prepared.state.save()
    else:
        path = prepared.codename_file
        try:
            secret = Secret(normalize(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(N_("{path}: cannot read the codename file"), path=str(path)) from exc
    prepared.state.claim(secret)
    return secret


def finish(prepared: PreparedSend, report: Report) -> SendOutcome:
    """How the run went; the resume state is deleted if asked and everything is delivered."""
    undelivered = prepared.state.undelivered()
    forgotten = False
    if not report.failed and undelivered == 0 and prepared.forget:
        prepared.state.forget()
        forgotten = True
    return SendOutcome(report, undelivered, forgotten)


def still_to_send(prepared: PreparedSend, report: Report) -> list[str]:
    """After a stop: the items the next run will send, the one under way first, then the
    message (as :data:`MESSAGE`), then the files not reached."""
    finished = {*report.completed, *report.already_done}
    left = [
        str(path)
        for path in prepared.files
        if str(path) not in finished and path.name != report.current
    ]
    if prepared.message and MESSAGE not in finished:
        left.insert(0, MESSAGE)
    if report.current and report.current != MESSAGE:
        left.insert(0, report.current)
    return left


def read_message(path: Path) -> str:
    """The message in ``path`` (``-``: standard input), as UTF-8 text."""
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
        return raw.decode("utf-8")
    except OSError as exc:
        raise UsageError(
            N_("{path}: cannot read the message ({reason})"),
            path=str(path),
            reason=exc.strerror or str(exc),
        ) from exc
    except UnicodeDecodeError as exc:
        raise UsageError(N_("{path}: the message is not UTF-8 text"), path=str(path)) from exc
