"""Paths built from what a server or a sender says stay inside their folder (property tests)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tainik.core.errors import FormatError
from tainik.workstation.pull.layout import PulledPaths

ROOT = Path("/srv/pulled")
ANY = st.one_of(st.text(), st.integers(), st.none(), st.binary(), st.floats())


@given(source=ANY, sealed=ANY)
def test_pulled_paths_stay_inside(source: object, sealed: object) -> None:
    paths = PulledPaths(ROOT)
    for build in (paths.tar, paths.partial, paths.partial_state, paths.sidecar):
        try:
            built = build(source, sealed)
        except FormatError:
            continue
        assert built.parent.parent == ROOT / "sources"
        assert ".." not in built.parts
        assert built.resolve().is_relative_to(ROOT)


@given(st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz234567./\\-_ ", max_size=40))
def test_only_canonical_source_ids(text: str) -> None:
    paths = PulledPaths(ROOT)
    try:
        folder = paths.source_dir(text)
    except FormatError:
        return
    assert text.isdigit()
    assert folder == ROOT / "sources" / text
