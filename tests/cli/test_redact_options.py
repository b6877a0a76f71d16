"""``tainik redact``'s options are declared from RedactOptions: check what the parser gives."""

from __future__ import annotations

import gettext
import io

import pytest

from tainik.cli.context import Context
from tainik.cli.declare import values_of
from tainik.cli.main import build_parser
from tainik.core.errors import UsageError
from tainik.workstation.redact.audio import AudioMode
from tainik.workstation.redact.options import RedactOptions
from tainik.workstation.redact.records import RenderMode


def parse(*argv: str) -> RedactOptions:
    ctx = Context(gettext.NullTranslations(), stdout=io.StringIO(), stderr=io.StringIO())
    args = build_parser(ctx).parse_args(["redact", "in.mp4", "--out", "out.mp4", *argv])
    return RedactOptions(**values_of(RedactOptions, args))


def test_render_modes_match_the_enum() -> None:
    assert tuple(parse("--mode", m.value).mode for m in RenderMode) == tuple(RenderMode)
    assert parse().mode == RedactOptions.mode == RenderMode.SOLID
    assert tuple(parse("--audio", m.value).audio for m in AudioMode) == tuple(AudioMode)


def test_defaults_match_the_options() -> None:
    assert parse() == RedactOptions()
    assert parse("--threshold", "0.5", "--margin", "0", "--detect-scale", "0.5") == RedactOptions(
        threshold=0.5, margin=0.0, detect_scale=0.5
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--threshold", "1"), "--threshold must be between 0 and 1"),
        (("--margin", "3"), "--margin must be between 0 and 2"),
        (("--detect-scale", "0.05"), "--detect-scale must be between 0.1 and 1"),
    ],
)
def test_values_out_of_range_are_refused(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(*argv).check()
