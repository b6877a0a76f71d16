"""The redaction record's and the boxes record's codec: any record survives encode and parse;
main's files still parse, and encode back to their very bytes; damage is refused by name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tainik.core.jsonfields import RecordError
from tainik.workstation.redact.audio import AudioMode
from tainik.workstation.redact.records import (
    BoxesRecord,
    BoxesSource,
    CoveredBox,
    CoverKind,
    Event,
    EventKind,
    FrameBoxes,
    NamedFile,
    RedactionRecord,
    RedactionSettings,
    RedactionSummary,
    RedactionTool,
    RenderMode,
    TrackSummary,
)

OLD = Path(__file__).parents[2] / "vectors" / "records"

numbers = st.floats(allow_nan=False) | st.integers(-(2**60), 2**60)
ints = st.integers(-(2**53), 2**53)
texts = st.text(max_size=12)
sha256s = st.text("0123456789abcdef", min_size=64, max_size=64)


def tuples(strategy: st.SearchStrategy[object], size: int = 4) -> st.SearchStrategy[object]:
    return st.lists(strategy, max_size=size).map(tuple)


redaction_settings = st.builds(RedactionSettings, *([numbers] * 6), crf=ints)
records = st.builds(
    RedactionRecord,
    original=st.builds(NamedFile, sha256s, texts),
    output=st.builds(NamedFile, sha256s, texts),
    tool=st.builds(RedactionTool, texts, texts, texts, sha256s),
    redaction=st.builds(
        RedactionSummary,
        mode=st.sampled_from(RenderMode),
        face_tracks=ints,
        frames=ints,
        frames_with_covered_regions=ints,
        manual_regions=tuples(texts),
        audio=st.sampled_from(AudioMode),
        metadata=texts,
        reencoded=st.booleans(),
    ),
    settings=redaction_settings,
)
boxes_records = st.builds(
    BoxesRecord,
    source=st.builds(BoxesSource, sha256s, ints, ints, numbers, ints),
    settings=redaction_settings,
    tracks=tuples(st.builds(TrackSummary, ints, ints, ints, ints, st.booleans())),
    events=tuples(st.builds(Event, st.sampled_from(EventKind), ints, ints, st.none() | ints)),
    frames=tuples(
        st.builds(
            FrameBoxes,
            index=ints,
            time=numbers,
            boxes=tuples(
                st.builds(
                    CoveredBox,
                    box=st.tuples(numbers, numbers, numbers, numbers),
                    kind=st.sampled_from(CoverKind),
                    track=st.none() | ints,
                    score=st.none() | numbers,
                ),
                3,
            ),
        ),
        4,
    ),
)


@settings(max_examples=200)
@given(records)
def test_a_redaction_record_survives_encode_and_parse(record: RedactionRecord) -> None:
    data = record.encode()
    assert RedactionRecord.parse(data, "out.redaction.json") == record
    assert RedactionRecord.parse(data, "out.redaction.json").encode() == data


@settings(max_examples=150)
@given(boxes_records)
def test_a_boxes_record_survives_encode_and_parse(record: BoxesRecord) -> None:
    data = record.encode()
    assert BoxesRecord.parse(data, "boxes.json") == record
    assert BoxesRecord.parse(data, "boxes.json").encode() == data


def test_files_main_wrote_parse_and_encode_to_the_same_bytes() -> None:
    data = (OLD / "redaction-record.json").read_bytes()
    record = RedactionRecord.parse(data, "redaction-record.json")
    assert record.encode() == data
    assert record.redaction.mode is RenderMode.SOLID
    assert record.redaction.audio is AudioMode.MUTE
    assert record.redaction.manual_regions == ("10,20,30,40@1-2.5",)
    assert record.original.name == "clip.mp4"
    data = (OLD / "redaction-boxes.json").read_bytes()
    boxes = BoxesRecord.parse(data, "redaction-boxes.json")
    assert boxes.encode() == data
    assert boxes.settings == record.settings
    assert boxes.source.frames == record.redaction.frames
    manual = [b for f in boxes.frames for b in f.boxes if b.kind is CoverKind.MANUAL]
    assert manual
    assert all(b.box == (10.0, 20.0, 40.0, 60.0) and b.score is None for b in manual)


def damaged(name: str, change: object) -> bytes:
    document = json.loads((OLD / name).read_bytes())
    change(document)  # type: ignore[operator]
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("format"), "r.json: format is missing"),
        (lambda d: d["redaction"].update(mode="pixelate"),
         "r.json: redaction.mode should be one of: solid, mosaic, blur"),
        (lambda d: d["redaction"].update(reencoded="yes"),
         "r.json: redaction.reencoded should be true or false"),
        (lambda d: d["original"].update(sha256=None), "r.json: original.sha256 should be text"),
        (lambda d: d["settings"].update(crf=18.5), "r.json: settings.crf should be a whole number"),
        (lambda d: d["tool"].update(seed=1), "r.json: tool.seed is not part of this format"),
        (lambda d: d.update(original=[]), "r.json: original should be an object"),
    ],
)  # fmt: skip
def test_a_damaged_redaction_record_is_refused_naming_the_field(
    change: object, message: str
) -> None:
    with pytest.raises(RecordError) as caught:
        RedactionRecord.parse(damaged("redaction-record.json", change), "r.json")
    assert caught.value.english() == message


def test_a_damaged_boxes_record_is_refused_naming_the_field() -> None:
    def short_box(d: dict[str, list[dict[str, list[dict[str, list[float]]]]]]) -> None:
        d["frames"][2]["boxes"][1]["box"].pop()

    with pytest.raises(RecordError) as caught:
        BoxesRecord.parse(damaged("redaction-boxes.json", short_box), "b.json")
    assert caught.value.english() == "b.json: frames[2].boxes[1].box should be [x1, y1, x2, y2]"


def test_reading_the_records_loads_no_video_library() -> None:
    """``tainik publish`` reads the record: that must not load OpenCV, NumPy or PyAV."""
    code = (
        "import sys; from tainik.workstation.redact import records; "
        "print(sorted({'cv2', 'numpy', 'av', 'onnxruntime'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
