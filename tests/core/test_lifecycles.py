"""The lifecycles' tables (core/lifecycle.py): what they refuse, that every state in them is
reachable and none is a dead end, and that the docs draw exactly these tables."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tainik.core.lifecycle import Lifecycle
from tainik.core.staff_account import (
    ACCOUNT_LIFECYCLE,
    AccountEvent,
    AccountState,
    AccountStateError,
    account_transition,
)
from tainik.core.upload import (
    TRANSITIONS,
    UPLOAD_LIFECYCLE,
    UploadError,
    UploadEvent,
    UploadState,
    transition,
)

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
SERVICE = ROOT / "src" / "tainik" / "service"
LIFECYCLES: list[tuple[Lifecycle[Any, Any], type[StrEnum], type[StrEnum], str]] = [
    (UPLOAD_LIFECYCLE, UploadState, UploadEvent, "protocol.md"),
    (ACCOUNT_LIFECYCLE, AccountState, AccountEvent, "threat-model.md"),
]


@pytest.mark.parametrize("state", list(UploadState))
@pytest.mark.parametrize("event", list(UploadEvent))
def test_an_upload_moves_only_as_its_table_says(state: UploadState, event: UploadEvent) -> None:
    if (state, event) in TRANSITIONS:
        assert transition(state, event) is TRANSITIONS[(state, event)]
        return
    with pytest.raises(UploadError) as refused:
        transition(state, event)
    assert refused.value.code == "wrong_state"


def test_the_refusals_a_source_meets_say_why() -> None:
    with pytest.raises(UploadError, match="is complete; nothing more"):
        transition(UploadState.COMPLETE, UploadEvent.SEGMENT)
    with pytest.raises(UploadError, match="is being completed"):
        transition(UploadState.COMMITTING, UploadEvent.ABANDON)


@pytest.mark.parametrize(
    ("state", "event"),
    [
        # Reactivating an account that was never deactivated, pending or active.
        (AccountState.PENDING, AccountEvent.REACTIVATE),
        (AccountState.ACTIVE, AccountEvent.REACTIVATE),
        (AccountState.DEACTIVATED, AccountEvent.DEACTIVATE),
        (AccountState.DEACTIVATED_PENDING, AccountEvent.DEACTIVATE),
        # A deactivated account signs in to nothing, and cannot act for itself.
        (AccountState.DEACTIVATED, AccountEvent.SIGN_IN),
        (AccountState.DEACTIVATED_PENDING, AccountEvent.SIGN_IN),
        (AccountState.DEACTIVATED, AccountEvent.CHOOSE_PASSWORD),
        (AccountState.DEACTIVATED, AccountEvent.ISSUE_TOKEN),
        # A one-time password gets no token.
        (AccountState.PENDING, AccountEvent.ISSUE_TOKEN),
    ],
)
def test_illegal_account_transitions_fail(state: AccountState, event: AccountEvent) -> None:
    assert not ACCOUNT_LIFECYCLE.allows(state, event)
    with pytest.raises(AccountStateError):
        account_transition(state, event, "jo")


def test_a_deactivated_account_remembers_its_one_time_password() -> None:
    """Reactivating never turns a one-time password into a lasting one."""
    state = account_transition(AccountState.PENDING, AccountEvent.DEACTIVATE, "jo")
    assert account_transition(state, AccountEvent.REACTIVATE, "jo") is AccountState.PENDING
    state = account_transition(AccountState.ACTIVE, AccountEvent.DEACTIVATE, "jo")
    state = account_transition(state, AccountEvent.RESET_PASSWORD, "jo")
    assert account_transition(state, AccountEvent.REACTIVATE, "jo") is AccountState.PENDING


@pytest.mark.parametrize(("lifecycle", "states", "events", "doc"), LIFECYCLES)
def test_every_state_and_event_governs_something(
    lifecycle: Lifecycle[Any, Any], states: type[StrEnum], events: type[StrEnum], doc: str
) -> None:
    """No state the table cannot reach, none it cannot leave but a final one, no event it
    never uses: each member of the enums is in the table."""
    reached = {lifecycle.initial}
    frontier = [lifecycle.initial]
    while frontier:
        state = frontier.pop()
        for (before, _event), after in lifecycle.table.items():
            if before is state and after not in reached:
                reached.add(after)
                frontier.append(after)
    assert reached == set(states)
    for state in states:
        leaves = any(b is state and a is not state for (b, _e), a in lifecycle.table.items())
        assert leaves or state in lifecycle.final, state
    assert {event for _state, event in lifecycle.table} == set(events)


@given(
    st.lists(st.sampled_from(list(UploadEvent)), max_size=30),
    st.lists(st.sampled_from(list(AccountEvent)), max_size=30),
)
def test_any_sequence_of_events_stays_in_the_tables(
    upload_events: list[UploadEvent], account_events: list[AccountEvent]
) -> None:
    """A walk of events accepts exactly what the table has, refuses the rest and leaves the
    state as it was after a refusal."""
    upload = UPLOAD_LIFECYCLE.initial
    for event in upload_events:
        try:
            upload = transition(upload, event)
        except UploadError:
            assert (upload, event) not in TRANSITIONS
    account = ACCOUNT_LIFECYCLE.initial
    for step in account_events:
        allowed = ACCOUNT_LIFECYCLE.allows(account, step)
        try:
            account = account_transition(account, step, "jo")
        except AccountStateError:
            assert not allowed
        else:
            assert allowed


@pytest.mark.parametrize(("lifecycle", "states", "events", "doc"), LIFECYCLES)
def test_the_docs_draw_the_tables(
    lifecycle: Lifecycle[Any, Any], states: type[StrEnum], events: type[StrEnum], doc: str
) -> None:
    """The diagram in the docs is the table's own drawing: change one, and this fails until
    the other follows (the expected text is printed to paste)."""
    text = (DOCS / doc).read_text(encoding="utf-8")
    marker = f"<!-- lifecycle: {lifecycle.name} -->"
    assert marker in text, f"{doc} has no {marker!r}"
    found = re.search(re.escape(marker) + r"\n```mermaid\n(.*?)```", text, re.S)
    assert found is not None, f"{marker} is not followed by a mermaid block"
    drawn = lifecycle.mermaid()
    assert found.group(1) == drawn, f"{doc}: replace the block with\n{drawn}"


@pytest.mark.parametrize(("lifecycle", "states", "events", "doc"), LIFECYCLES)
def test_the_service_layer_runs_every_event(
    lifecycle: Lifecycle[Any, Any], states: type[StrEnum], events: type[StrEnum], doc: str
) -> None:
    """An event of the table that no use case sends would be a row that governs nothing."""
    code = "\n".join(path.read_text(encoding="utf-8") for path in SERVICE.rglob("*.py"))
    unused = [e.name for e in events if f"{events.__name__}.{e.name}" not in code]
    assert not unused, f"{events.__name__}: no service code sends {unused}"
