"""The sender's resume state: whose it is, and what it records."""

from __future__ import annotations

from pathlib import Path

import pytest

from tainik.core.errors import UsageError
from tainik.crypto import Secret
from tainik.sender.state import SendState, owner_of

WORDS = "acorn blade cider dune ember fable gusto"


def test_the_state_owner_does_not_depend_on_how_the_codename_is_spelled() -> None:
    assert owner_of(Secret(WORDS)) == owner_of(
        Secret("  ACORN  blade\tcider dune ember fable gusto\n")
    )
    assert owner_of(Secret(WORDS)) != owner_of(Secret(WORDS.replace("gusto", "gutsy")))


def test_a_state_is_bound_to_its_first_codename(tmp_path: Path) -> None:
    path = tmp_path / "c.txt.state.json"
    state = SendState.load(path)
    state.claim(Secret(WORDS))
    state.files["x"] = {"done": True}
    state.save()
    again = SendState.load(path)
    again.claim(Secret(WORDS.upper()))  # the same codename
    with pytest.raises(UsageError, match="another codename"):
        SendState.load(path).claim(Secret(WORDS.replace("gusto", "gutsy")))
    assert WORDS not in path.read_text()


def test_a_state_from_before_owners_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "old.state.json"
    path.write_text('{"v": 1, "files": {"x": {"done": true}}}')
    state = SendState.load(path)
    state.claim(Secret(WORDS))
    assert state.owner == owner_of(Secret(WORDS))
    assert state.files == {"x": {"done": True}}
