"""What a source asks ``tainik send`` to do, before anything is checked.

Light on purpose (no HTTP client): the command line declares ``--jobs`` and
``--give-up-after`` from these fields, whose defaults are the ones it shows.
:func:`tainik.sender.command.prepare` checks a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SendRequest:
    """Files and a message to send, and how.

    Exactly one of ``codename_file`` (a codename the source has) and ``new_codename_out``
    (where to write a new one) is given. ``message_file`` ``-`` is standard input.
    """

    server: str
    files: Sequence[Path] = ()
    codename_file: Path | None = None
    new_codename_out: Path | None = None
    message: str | None = None
    message_file: Path | None = None
    proxy: str | None = None
    #: Resume state; None: beside the codename file, as CODENAME_FILE.state.json.
    state: Path | None = None
    #: Segments in flight at once.
    jobs: int = 4
    #: Seconds without reaching the server before giving up.
    give_up_after: float = 1800
    #: Delete the resume state once everything is delivered.
    forget: bool = False
