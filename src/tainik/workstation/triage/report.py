"""The run's reports: ``report.json`` and ``index.html`` in the report folder.

Layout of a report folder (docs/triage.md, "Report folder"):

    index.html              the page reviewers open (report_html)
    report.json             totals, the ranking across videos, failures (report_json)
    videos/SHA256.json      one per video: segments, notes, timeline, settings
    thumbs/, clips/         one thumbnail and one clip per segment
    cache/                  raw measurements, reused by the next run (cache)
"""

from __future__ import annotations

import gettext
from pathlib import Path

from tainik.workstation.triage.files import write_atomic
from tainik.workstation.triage.params import TriageParams
from tainik.workstation.triage.report_html import ReportPage
from tainik.workstation.triage.report_json import RunRecord
from tainik.workstation.triage.runner import RunResult
from tainik.workstation.triage.scoring import rank


def write_reports(
    report_dir: Path,
    run: RunResult,
    params: TriageParams,
    translations: gettext.NullTranslations,
) -> Path:
    """Write ``report.json`` and ``index.html``; returns the page's path."""
    ranked = rank(run.results)
    record = RunRecord.of(run.results, run.failures, ranked, params)
    write_atomic(report_dir / "report.json", record.encode())
    page = ReportPage(translations, gentle=params.gentle).render(run.results, run.failures, ranked)
    index = report_dir / "index.html"
    write_atomic(index, page.encode("utf-8"))
    return index
