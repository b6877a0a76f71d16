"""``tainik send`` checks everything before it contacts the server (sender/command.py).

The server address is a closed port on loopback: a check that reached for it would fail with a
connection error instead of the usage error each case expects.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tainik.core.errors import UsageError
from tainik.core.upload import MAX_MESSAGE_CHARS
from tainik.crypto import Secret
from tainik.sender import command
from tainik.sender.request import SendRequest
from tainik.sender.send import Report
from tainik.sender.state import SendState

CODENAME = "abandon ability able about above absent absorb"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def request_(tmp_path: Path) -> SendRequest:
    (tmp_path / "a.bin").write_bytes(b"a")
    (tmp_path / "codename.txt").write_text(CODENAME + "\n")
    return SendRequest(
        server=f"http://127.0.0.1:{closed_port()}",
        files=[tmp_path / "a.bin"],
        codename_file=tmp_path / "codename.txt",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"files": [], "message": None}, "Nothing to send"),
        ({"message": "x" * (MAX_MESSAGE_CHARS + 1)}, "longer than"),
        ({"files": [Path("/nonexistent/b.bin")]}, "not a regular file"),
        ({"jobs": 0}, "--jobs must be at least 1"),
        ({"server": "ftp://example.org"}, "--server must be"),
        ({"proxy": "socks4://127.0.0.1:9050"}, "--proxy must be"),
        ({"codename_file": None}, "Give either"),
    ],
)
def test_what_would_fail_later_fails_before_the_server_is_asked(
    request_: SendRequest, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError) as refused:
        command.prepare(replace(request_, **change))
    assert message in refused.value.english()


def test_a_new_codename_is_refused_state_that_is_not_its_own(
    request_: SendRequest, tmp_path: Path
) -> None:
    assert request_.codename_file is not None
    state = SendState.load(tmp_path / "used.state.json")
    state.claim(Secret(CODENAME))
    state.unconfirmed = True  # as a run that got a codename and sent nothing yet leaves it
    state.save()
    asked = replace(
        request_,
        codename_file=None,
        new_codename_out=tmp_path / "new.txt",
        state=tmp_path / "used.state.json",
    )
    with pytest.raises(UsageError, match="already holds resume state"):
        command.prepare(asked)
    assert not (tmp_path / "new.txt").exists()  # the server was never asked for a codename


def test_the_message_file_is_read_and_checked(request_: SendRequest, tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("Привет", encoding="utf-8")
    prepared = command.prepare(replace(request_, message_file=tmp_path / "note.txt"))
    assert prepared.message == "Привет"
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    with pytest.raises(UsageError, match="not UTF-8"):
        command.prepare(replace(request_, message_file=tmp_path / "latin1.txt"))


def test_the_codename_is_read_and_claims_the_state(request_: SendRequest) -> None:
    prepared = command.prepare(request_)
    assert request_.codename_file is not None
    assert prepared.state_path == request_.codename_file.with_name("codename.txt.state.json")
    assert command.codename(prepared).reveal() == CODENAME
    prepared.state.save()
    other = SendState.load(prepared.state_path)
    with pytest.raises(UsageError):
        other.claim(Secret("zoo zoo zoo zoo zoo zoo zoo"))


def test_a_stopped_run_names_what_is_left_the_current_item_first(
    request_: SendRequest, tmp_path: Path
) -> None:
    files = [tmp_path / name for name in ("a.bin", "b.bin", "c.bin")]
    for path in files:
        path.write_bytes(b"x")
    prepared = command.prepare(replace(request_, files=files, message="hello"))
    report = Report(completed=[str(files[0])], current="b.bin")
    assert command.still_to_send(prepared, report) == ["b.bin", command.MESSAGE, str(files[2])]
    done = Report(completed=[command.MESSAGE, *map(str, files)])
    assert command.still_to_send(prepared, done) == []


def test_forget_deletes_the_state_only_when_everything_is_delivered(
    request_: SendRequest,
) -> None:
    prepared = command.prepare(replace(request_, forget=True))
    command.codename(prepared)
    prepared.state.save()
    outcome = command.finish(prepared, Report())
    assert outcome.delivered
    assert outcome.forgotten
    assert outcome.exit_code == 0
    assert not prepared.state_path.exists()
