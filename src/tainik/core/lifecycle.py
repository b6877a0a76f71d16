"""Lifecycles as tables (magic-wormhole's habit): the states a thing can be in, the events that
move it, and one function that does, so that no code path can invent a move of its own.

A :class:`Lifecycle` is its table and nothing more. The service layer loads the state a thing
is in, asks :meth:`Lifecycle.next` for the state after an event, and writes that state in the
same transaction, only where the stored state is still the one it loaded (so that two requests
racing over one thing cannot both move it). The docs draw each lifecycle with
:meth:`Lifecycle.mermaid`, and a test compares the drawings with the tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class Lifecycle(Generic[S, E]):
    """A state machine: ``table`` maps (state, event) to the next state; a pair not in it is
    an event that state refuses."""

    name: str
    # What makes a new one, and the state it starts in.
    created_by: str
    initial: S
    table: Mapping[tuple[S, E], S]
    # States a thing leaves the machine from (its row is deleted, or nothing more happens).
    final: tuple[S, ...] = ()

    def next(self, state: S, event: E) -> S | None:
        """The state after ``event``, or None when ``state`` refuses it."""
        return self.table.get((state, event))

    def allows(self, state: S, event: E) -> bool:
        """True when ``state`` accepts ``event``."""
        return (state, event) in self.table

    def states(self) -> list[S]:
        """Every state the table names, the initial one first, in table order."""
        found = [self.initial]
        for (before, _event), after in self.table.items():
            for state in (before, after):
                if state not in found:
                    found.append(state)
        return found

    def mermaid(self) -> str:
        """The lifecycle as a Mermaid state diagram (the docs hold this exact text): one arrow
        per pair of states, labelled with every event that takes it, in table order."""
        edges: dict[tuple[S, S], list[str]] = {}
        for (before, event), after in self.table.items():
            edges.setdefault((before, after), []).append(event.value)
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial.value}: {self.created_by}"]
        lines += [
            f"    {before.value} --> {after.value}: {', '.join(events)}"
            for (before, after), events in edges.items()
        ]
        lines += [f"    {state.value} --> [*]" for state in self.final]
        return "\n".join(lines) + "\n"
