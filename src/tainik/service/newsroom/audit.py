"""The audit log: which staff member did what, when. Nothing in it identifies a source.

Entries name sources by row number and submissions and replies by their random sealed-file id;
never a designation, a file name, a message or a reply. Each entry is written in the same
transaction as the action it records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from tainik.core.errors import N_
from tainik.storage import newsroom_schema as ns

COMMAND_LINE = "(command line)"

# Every action the log records, with its description for the audit page.
ACTIONS: dict[str, str] = {
    "login": N_("logged in"),
    "login-failed": N_("failed to log in"),
    "logout": N_("logged out"),
    "password-changed": N_("changed their password"),
    "token-issued": N_("obtained an API token"),
    "token-revoked": N_("revoked an API token"),
    "user-added": N_("added a staff account"),
    "user-deactivated": N_("deactivated a staff account"),
    "user-activated": N_("reactivated a staff account"),
    "user-2fa-reset": N_("reset the two-factor secret of an account"),
    "user-password-reset": N_("reset the password of an account"),
    "settings-changed": N_("changed instance settings"),
    "recipients-changed": N_("changed the organisation's encryption keys"),
    "recipient-added": N_("added an encryption key: what sources send is now readable with it"),
    "recipient-removed": N_("removed an encryption key"),
    "recipients-change-refused": N_(
        "tried to change the organisation's encryption keys and was refused"
    ),
    "profile-changed": N_("changed what sources see of the organisation"),
    "logo-changed": N_("changed the logo"),
    "logo-removed": N_("removed the logo"),
    "download": N_("downloaded"),
    "download-head": N_("asked for the size of a download (no content sent)"),
    "download-selection": N_("downloaded a selection"),
    "reply": N_("replied to a source"),
    "delete-submission": N_("deleted a submission"),
    "delete-reply": N_("deleted a reply"),
    "delete-source": N_("deleted a source and everything from it"),
    "star": N_("starred a source"),
    "unstar": N_("unstarred a source"),
}


class Account(Protocol):
    """What the log needs of a staff account (``auth.Staff`` is one): its row and name. A
    protocol, not an import: ``auth`` writes to this log, so the log must not import ``auth``
    (no import cycles: an import-linter contract in pyproject.toml)."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff account, or the command line on the server (no account)."""

    id: int | None
    name: str

    @classmethod
    def of(cls, staff: Account) -> Actor:
        """The actor for an authenticated staff member."""
        return cls(staff.id, staff.name)


CLI_ACTOR = Actor(None, COMMAND_LINE)


@dataclass(frozen=True)
class Entry:
    """One line of the audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    object_kind: str | None
    object_ref: str | None
    detail: str | None


def record(
    db: Connection,
    at: datetime,
    actor: Actor,
    action: str,
    object_kind: str | None = None,
    object_ref: str | int | None = None,
    detail: str | None = None,
) -> None:
    """Add an entry, inside the caller's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    db.execute(
        insert(ns.audit_log).values(
            at=at,
            actor_id=actor.id,
            actor=actor.name,
            action=action,
            object_kind=object_kind,
            object_ref=None if object_ref is None else str(object_ref),
            detail=detail[:500] if detail else None,
        )
    )
