"""``tainik redact``'s parser repeats a few values so as not to import the pipeline: check them."""

from __future__ import annotations

from tainik.cli import redact
from tainik.workstation.redact.pipeline import RedactOptions
from tainik.workstation.redact.records import RenderMode


def test_render_modes_match_the_enum() -> None:
    assert tuple(m.value for m in RenderMode) == redact.RENDER_MODES
    assert redact.RENDER_MODES[0] == RedactOptions.mode.value


def test_defaults_match_the_options() -> None:
    assert RedactOptions.threshold == redact.DEFAULT_THRESHOLD
    assert RedactOptions.margin == redact.DEFAULT_MARGIN
    assert RedactOptions.detect_scale == redact.DEFAULT_DETECT_SCALE
