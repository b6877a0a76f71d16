"""The triage reports' codec: any record survives encode and parse; main's files still parse,
and encode back to their very bytes; a damaged file is refused naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tainik.core.jsonfields import RecordError
from tainik.workstation.triage.params import (
    SUBTRACTORS,
    AnalysisParams,
    DetectorSpec,
    SegmentRules,
)
from tainik.workstation.triage.report_json import (
    PATH_KINDS,
    PATH_REASONS,
    Analysis,
    FailureEntry,
    RankedEntry,
    RunRecord,
    Totals,
    VideoEntry,
    VideoFile,
    VideoRecord,
)
from tainik.workstation.triage.results import (
    Clip,
    DecodePath,
    MediaInfo,
    Note,
    Segment,
    Timeline,
)

OLD = Path(__file__).parents[2] / "vectors" / "records"

numbers = st.floats(allow_nan=False) | st.integers(-(2**60), 2**60)
counts = st.integers(0, 2**53)
texts = st.text(max_size=12)
sha256s = st.text("0123456789abcdef", min_size=64, max_size=64)
names = st.text(min_size=1, max_size=8)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts


def tuples(strategy: st.SearchStrategy[object], size: int = 4) -> st.SearchStrategy[object]:
    return st.lists(strategy, max_size=size).map(tuple)


clips = st.builds(Clip, path=texts, sha256=sha256s, start=numbers, end=numbers)
segments = st.builds(
    Segment,
    index=counts,
    start=numbers,
    end=numbers,
    review_start=numbers,
    review_end=numbers,
    score=numbers,
    why=tuples(names),
    peak_time=numbers,
    peaks=st.dictionaries(names, numbers, max_size=3),
    thumbnail=st.none() | texts,
    clip=st.none() | clips,
)
detectors = st.builds(DetectorSpec, path=texts, name=names, sha256=sha256s, threshold=numbers)
analysis_params = st.builds(
    AnalysisParams,
    fps=numbers,
    width=st.integers(),
    subtractor=st.sampled_from(SUBTRACTORS),
    history_s=numbers,
    sensitivity=numbers,
    light_jump=numbers,
    skip_nonref=st.booleans(),
    detectors=tuples(detectors, 2),
    detector_rate=numbers,
    coarse=st.booleans(),
)
decode_paths = st.builds(
    DecodePath,
    kind=st.sampled_from(PATH_KINDS),
    reason=st.sampled_from(PATH_REASONS),
    keyframe_interval=st.none() | numbers,
    fine_seconds=numbers,
)
rules = st.builds(SegmentRules, *([numbers] * 8))
media = st.builds(
    MediaInfo,
    container=texts,
    duration=st.none() | numbers,
    width=st.integers(),
    height=st.integers(),
    fps=st.none() | numbers,
    video_codec=texts,
    audio_codec=st.none() | texts,
)
video_records = st.builds(
    VideoRecord,
    tool=texts,
    video=st.builds(
        VideoFile,
        sha256=sha256s,
        label=texts,
        path=texts,
        origin=texts,
        size=counts,
        copies=tuples(texts),
        info=media,
    ),
    analysis=st.builds(
        Analysis,
        fingerprint=st.text("0123456789abcdef", min_size=16, max_size=16),
        settings=analysis_params,
        rules=rules,
        analysed_seconds=numbers,
        frames_decoded=counts,
        decode_errors=counts,
        reused_from_cache=st.booleans(),
        path=st.none() | decode_paths,
    ),
    notes=tuples(st.builds(Note, template=texts, params=st.dictionaries(names, scalars))),
    light_changes=tuples(numbers),
    review_seconds=numbers,
    segments=tuples(segments, 3),
    timeline=st.builds(
        Timeline, bin_seconds=numbers, series=st.dictionaries(names, tuples(numbers, 6))
    ),
)
run_records = st.builds(
    RunRecord,
    tool=texts,
    settings=analysis_params,
    rules=rules,
    totals=st.builds(Totals, counts, counts, numbers, numbers, counts),
    ranking=tuples(
        st.builds(
            RankedEntry, rank=counts, sha256=sha256s, label=texts, result=texts, segment=segments
        ),
        3,
    ),
    videos=tuples(st.builds(VideoEntry, sha256s, texts, texts, texts)),
    failures=tuples(
        st.builds(
            FailureEntry,
            label=texts,
            path=texts,
            template=texts,
            params=st.dictionaries(names, texts),
            message=texts,
        )
    ),
)


@settings(max_examples=150)
@given(video_records)
def test_a_video_record_survives_encode_and_parse(record: VideoRecord) -> None:
    data = record.encode()
    assert VideoRecord.parse(data, "videos/x.json") == record
    assert VideoRecord.parse(data, "videos/x.json").encode() == data
    assert VideoRecord.from_json(record.to_json(), "videos/x.json") == record


@settings(max_examples=150)
@given(run_records)
def test_a_run_record_survives_encode_and_parse(record: RunRecord) -> None:
    data = record.encode()
    assert RunRecord.parse(data, "report.json") == record
    assert RunRecord.parse(data, "report.json").encode() == data


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("triage-run.json", RunRecord),
        ("triage-run-no-clips.json", RunRecord),
        ("triage-video-scene.json", VideoRecord),
        ("triage-video-cut-short.json", VideoRecord),
        ("triage-video-no-clips.json", VideoRecord),
    ],
)
def test_files_main_wrote_parse_and_encode_to_the_same_bytes(
    name: str, kind: type[RunRecord | VideoRecord]
) -> None:
    data = (OLD / name).read_bytes()
    assert kind.parse(data, name).encode() == data


def test_what_main_wrote_reads_as_it_was_meant() -> None:
    run = RunRecord.parse((OLD / "triage-run.json").read_bytes(), "report.json")
    assert run.totals == Totals(
        videos=2, failed=1, footage_seconds=57.9, review_seconds=40.9, segments=3
    )
    assert [d.name for d in run.settings.detectors] == ["bright"]
    assert run.failures[0].params["path"] == "garbage.mp4"
    top = run.ranking[0]
    assert (top.rank, top.label, top.segment.why) == (1, "scene.mp4", ("motion", "bright"))
    assert top.segment.clip is not None
    assert top.segment.clip.start == top.segment.review_start
    scene = VideoRecord.parse((OLD / "triage-video-scene.json").read_bytes(), "scene")
    assert scene.video.copies == ("copy.mp4",)
    assert scene.video.info.width == 320
    # The recorded settings still give the recorded cache key.
    assert scene.analysis.settings.fingerprint() == scene.analysis.fingerprint
    cut = VideoRecord.parse((OLD / "triage-video-no-clips.json").read_bytes(), "cut")
    assert cut.analysis.settings.subtractor == "knn"
    assert all(s.clip is None for s in cut.segments)
    assert cut.notes[0].params == {"at": 17.9, "claimed": 30.0}


def damaged(name: str, change: object) -> bytes:
    document = json.loads((OLD / name).read_bytes())
    change(document)  # type: ignore[operator]
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="tainik.org/triage/v2"),
         "report.json: format should be tainik.org/triage/v1"),
        (lambda d: d["ranking"][1]["clip"].update(sha256="ABC"),
         "report.json: ranking[1].clip.sha256 should be 64 lowercase hexadecimal digits"),
        (lambda d: d["ranking"][0].pop("score"), "report.json: ranking[0].score is missing"),
        (lambda d: d["totals"].update(videos=2.0),
         "report.json: totals.videos should be a whole number"),
        (lambda d: d["settings"].update(subtractor="gmg"),
         "report.json: settings.subtractor should be one of: mog2, knn"),
        (lambda d: d["settings"]["detectors"][0].update(threshold="0.5"),
         "report.json: settings.detectors[0].threshold should be a number"),
        (lambda d: d["failures"][0]["params"].update(path=3),
         "report.json: failures[0].params.path should be text"),
        (lambda d: d.update(extra=1), "report.json: extra is not part of this format"),
        (lambda d: d["videos"][0].update(size=1),
         "report.json: videos[0].size is not part of this format"),
    ],
)  # fmt: skip
def test_a_damaged_run_record_is_refused_naming_the_field(change: object, message: str) -> None:
    with pytest.raises(RecordError) as caught:
        RunRecord.parse(damaged("triage-run.json", change), "report.json")
    assert caught.value.english() == message


def test_a_damaged_video_record_is_refused_naming_the_field() -> None:
    def change(d: dict[str, dict[str, dict[str, list[object]]]]) -> None:
        d["timeline"]["series"]["motion"][3] = None

    with pytest.raises(RecordError, match=r"x.json: timeline.series.motion\[3\] should be a "):
        VideoRecord.parse(damaged("triage-video-scene.json", change), "x.json")
