"""A failing media test names the versions it ran with."""

from __future__ import annotations

import pytest

from media_versions import media_versions

pytest_plugins = ["pytester"]


def test_the_versions_name_every_component() -> None:
    text = media_versions()
    for label in ("ffmpeg", "libx264", "onnxruntime", "opencv", "PyAV", "numpy"):
        assert f"\n{label}" in f"\n{text}", label
    assert "x264 - core " in text
    assert "not importable" not in text


def test_a_failing_media_test_prints_them(pytester: pytest.Pytester) -> None:
    """Run a failing test marked ``media`` under this suite's conftest; read its output."""
    pytester.makeconftest("from media_versions import pytest_runtest_makereport  # noqa: F401\n")
    pytester.makeini("[pytest]\nmarkers =\n    media: a media test\n")
    pytester.makepyfile(
        test_fails="""
import pytest

@pytest.mark.media
def test_exposed():
    assert False

def test_plain():
    assert False
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert out.count("media versions") == 1
    assert "onnxruntime: " in out
