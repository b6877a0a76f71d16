"""The JSON reports: one per video (``videos/SHA256.json``) and one per run (``report.json``).

Both are ``tainik.org/triage/v1`` documents, described field by field in docs/triage.md.
Times are seconds from the start of the video; paths are relative to the report folder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from tainik import __version__
from tainik.workstation.triage.params import TriageParams
from tainik.workstation.triage.results import Failure, Segment, VideoResult
from tainik.workstation.triage.scoring import Ranked, review_seconds

FORMAT = "tainik.org/triage/v1"

Document = dict[str, Any]


def segment_document(segment: Segment) -> Document:
    """One segment as JSON."""
    return {
        "index": segment.index,
        "start": segment.start,
        "end": segment.end,
        "review_start": segment.review_start,
        "review_end": segment.review_end,
        "score": segment.score,
        "why": list(segment.why),
        "peak_time": segment.peak_time,
        "peaks": dict(segment.peaks),
        "thumbnail": segment.thumbnail,
        "clip": None
        if segment.clip is None
        else {
            "path": segment.clip.path,
            "sha256": segment.clip.sha256,
            "start": segment.clip.start,
            "end": segment.clip.end,
            "derived_from": "ffmpeg stream copy (-c copy) of the video",
        },
    }


def video_document(result: VideoResult, params: TriageParams) -> Document:
    """Everything found in one video, recorded against its SHA-256."""
    return {
        "format": FORMAT,
        "tool": f"tainik {__version__}",
        "video": {
            "sha256": result.sha256,
            "label": result.label,
            "path": result.path,
            "origin": result.origin,
            "size": result.size,
            "copies": list(result.copies),
            **asdict(result.info),
        },
        "analysis": {
            "fingerprint": result.fingerprint,
            "settings": asdict(params.analysis),
            "rules": asdict(params.rules),
            "analysed_seconds": result.analysed,
            "frames_decoded": result.frames_decoded,
            "decode_errors": result.decode_errors,
            "reused_from_cache": result.cached,
        },
        "notes": [{"template": n.template, "params": dict(n.params)} for n in result.notes],
        "light_changes": list(result.light_changes),
        "review_seconds": round(review_seconds(result.segments), 3),
        "segments": [segment_document(s) for s in result.segments],
        "timeline": {
            "bin_seconds": result.timeline.bin_seconds,
            "series": {k: list(v) for k, v in result.timeline.series.items()},
        },
    }


def run_document(
    results: Sequence[VideoResult],
    failures: Sequence[Failure],
    ranked: Sequence[Ranked],
    params: TriageParams,
) -> Document:
    """The run: totals, the ranking across videos, and what failed."""
    footage = sum(r.analysed for r in results)
    review = sum(review_seconds(r.segments) for r in results)
    return {
        "format": FORMAT,
        "tool": f"tainik {__version__}",
        "settings": asdict(params.analysis),
        "rules": asdict(params.rules),
        "totals": {
            "videos": len(results),
            "failed": len(failures),
            "footage_seconds": round(footage, 3),
            "review_seconds": round(review, 3),
            "segments": len(ranked),
        },
        "ranking": [
            {
                "rank": r.rank,
                "sha256": r.video.sha256,
                "label": r.video.label,
                "result": r.video.result_file,
                **segment_document(r.segment),
            }
            for r in ranked
        ],
        "videos": [
            {"sha256": r.sha256, "label": r.label, "path": r.path, "result": r.result_file}
            for r in results
        ],
        "failures": [
            {
                "label": f.label,
                "path": f.path,
                "template": f.error.template,
                "params": {k: str(v) for k, v in f.error.params.items()},
                "message": f.error.english(),
            }
            for f in failures
        ],
    }


def dumps(document: Document) -> bytes:
    """Stable, readable JSON (sorted keys, UTF-8)."""
    return (json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
