"""The HTML report: one static page, ``REPORT_DIR/index.html``, written for reviewers' care.

- **Self-contained**: inline CSS and SVG, no script, no font or picture from elsewhere; the
  page's Content-Security-Policy forbids anything else. Thumbnails and clips are files beside
  it in the report folder, referred to by relative paths.
- **Gentle by default**: thumbnails and clip players are greyscale and blurred until the
  reviewer clicks the picture (a checkbox and CSS, so it works with scripts off); a second
  click blurs it again. Clips are muted and do not preload. ``gentle=False`` shows pictures
  plainly.
- **What to watch first**: a summary ("review these 37 minutes of 412 hours first"), the
  segments of every video ranked by score, then one timeline per video.

Every text is translated; every value from a video (names, paths) is escaped.
"""

from __future__ import annotations

import gettext
from collections.abc import Sequence
from html import escape

from tainik import __version__
from tainik.workstation.triage import timeline, walltime
from tainik.workstation.triage.results import Failure, Note, Segment, VideoResult
from tainik.workstation.triage.scoring import Ranked, review_seconds

Translations = gettext.NullTranslations

CSP = (
    "default-src 'none'; img-src 'self' file:; media-src 'self' file:; "
    "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)

STYLE = """
:root { color-scheme: light; --ink: #1d2329; --muted: #56606b; --line: #d5dae0;
  --band: rgba(31, 95, 153, 0.16); --paper: #fbfbfa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 70rem; padding: 1.5rem; font: 16px/1.5 system-ui, sans-serif;
  color: var(--ink); background: var(--paper); }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .75rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
.summary { font-size: 1.2rem; font-weight: 600; margin: .25rem 0; }
.care, .meta, .legend, .axis, .score, .settings { color: var(--muted); font-size: .9rem; }
ol.segments { list-style: none; padding: 0; margin: 0; counter-reset: rank; }
.segment { display: flex; gap: 1rem; align-items: flex-start; padding: .75rem 0;
  border-bottom: 1px solid var(--line); position: relative; }
.rank { min-width: 2.5rem; font-weight: 700; color: var(--muted); }
.thumb { display: block; width: 12rem; min-width: 12rem; aspect-ratio: 16 / 10;
  overflow: hidden; border-radius: .3rem; background: #c9ced4; cursor: pointer; }
.thumb img { display: block; width: 100%; height: 100%; object-fit: cover; }
.reveal { position: absolute; opacity: 0; width: 1px; height: 1px; margin: 0; }
.reveal:focus-visible + .thumb { outline: 3px solid #1f5f99; outline-offset: 2px; }
body.gentle .thumb img, body.gentle .clip video {
  filter: grayscale(1) blur(10px); transform: scale(1.08); }
body.gentle .reveal:checked + .thumb img,
body.gentle .reveal:checked ~ .facts .clip video { filter: none; transform: none; }
.facts p { margin: 0 0 .2rem; }
.where { font-weight: 600; overflow-wrap: anywhere; }
.clip video { display: block; max-width: 100%; width: 28rem; margin-top: .4rem; }
.video { padding: .75rem 0 1.25rem; border-bottom: 1px solid var(--line); }
svg.timeline { display: block; width: 100%; height: 5rem; margin: .5rem 0 0; }
svg.timeline .ground { fill: #ffffff; stroke: var(--line); }
svg.timeline .band { fill: var(--band); }
svg.timeline .threshold { stroke: #8a939c; stroke-dasharray: 6 4; stroke-width: 1;
  vector-effect: non-scaling-stroke; }
svg.timeline .light { stroke: #8d6e00; stroke-width: 1; vector-effect: non-scaling-stroke; }
svg.timeline .signal { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.axis { display: flex; justify-content: space-between; }
.swatch { display: inline-block; width: 1.2rem; height: .25rem; vertical-align: middle;
  margin: 0 .3rem 0 .8rem; }
.problems li { margin-bottom: .3rem; overflow-wrap: anywhere; }
"""


def clock(seconds: float) -> str:
    """``3725.4`` -> ``1:02:05``."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def anchor(video: VideoResult, segment: Segment) -> str:
    """The page id of a segment."""
    return f"s-{video.sha256[:16]}-{segment.index}"


class ReportPage:
    """Renders the report in one language."""

    def __init__(self, translations: Translations, gentle: bool = True) -> None:
        self._t = translations
        self._gentle = gentle

    def _(self, message: str) -> str:
        return self._t.gettext(message)

    def duration(self, seconds: float) -> str:
        """A rounded, readable duration: seconds, minutes or hours."""
        t = self._t
        if seconds < 90:
            n = round(seconds)
            return t.ngettext("{n} second", "{n} seconds", n).format(n=n)
        if seconds < 90 * 60:
            n = round(seconds / 60)
            return t.ngettext("{n} minute", "{n} minutes", n).format(n=n)
        n = round(seconds / 3600)
        return t.ngettext("{n} hour", "{n} hours", n).format(n=n)

    def render(
        self,
        results: Sequence[VideoResult],
        failures: Sequence[Failure],
        ranked: Sequence[Ranked],
    ) -> str:
        """The whole page."""
        _ = self._
        language = self._t.info().get("language", "en") or "en"
        body = [
            self._header(results, failures, ranked),
            self._problems(results, failures),
            f'<section aria-labelledby="ranked-title"><h2 id="ranked-title">'
            f"{escape(_('Review first'))}</h2>",
            self._ranked(ranked),
            "</section>",
            self._walltime(results),
            f'<section id="videos" aria-labelledby="videos-title"><h2 id="videos-title">'
            f"{escape(_('Videos'))}</h2>",
            *(self._video(r) for r in results),
            "</section>",
            self._footer(),
        ]
        return (
            f'<!doctype html>\n<html lang="{escape(language)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="referrer" content="no-referrer">'
            f"<title>{escape(_('Video triage report'))}</title>"
            f"<style>{STYLE}{walltime.STYLE}</style></head>"
            f'<body class="{"gentle" if self._gentle else "plain"}">'
            + "\n".join(body)
            + "</body></html>\n"
        )

    def _footer(self) -> str:
        made = self._("Made by {tool}.").format(tool=f"tainik {__version__}")
        details = self._("Details, settings and hashes are in report.json.")
        return f'<footer class="settings"><p>{escape(made)} {escape(details)}</p></footer>'

    def _header(
        self, results: Sequence[VideoResult], failures: Sequence[Failure], ranked: Sequence[Ranked]
    ) -> str:
        _, t = self._, self._t
        footage = self.duration(sum(r.analysed for r in results))
        review = self.duration(sum(review_seconds(r.segments) for r in results))
        with_segments = sum(1 for r in results if r.segments)
        if ranked:
            summary = _("Review these {review} of {footage} first.").format(
                review=review, footage=footage
            )
            detail = t.ngettext(
                "{count} segment in {with_segments} of {videos} videos.",
                "{count} segments in {with_segments} of {videos} videos.",
                len(ranked),
            ).format(count=len(ranked), with_segments=with_segments, videos=len(results))
        else:
            summary = _("Nothing stood out in {footage} of video.").format(footage=footage)
            detail = t.ngettext(
                "{videos} video analysed.", "{videos} videos analysed.", len(results)
            ).format(videos=len(results))
        if failures:
            detail += " " + t.ngettext(
                "{count} file could not be analysed (listed below).",
                "{count} files could not be analysed (listed below).",
                len(failures),
            ).format(count=len(failures))
        if self._gentle:
            care = _(
                "Pictures are shown greyscale and blurred: click one to see it plainly, and "
                "again to blur it. Clips are muted."
            )
        else:
            care = _("Pictures are shown plainly. Clips are muted.")
        return (
            f"<header><h1>{escape(_('Video triage'))}</h1>"
            f'<p class="summary" id="summary">{escape(summary)}</p>'
            f'<p class="detail">{escape(detail)}</p><p class="care">{escape(care)}</p></header>'
        )

    def _problems(self, results: Sequence[VideoResult], failures: Sequence[Failure]) -> str:
        _ = self._
        lines = [f"<li>{escape(f.error.message(_))}</li>" for f in failures]
        for result in results:
            lines += [
                f"<li><strong>{escape(result.label)}</strong>: {escape(self._note(n))}</li>"
                for n in result.notes
            ]
        if not lines:
            return ""
        return (
            f'<section class="problems" id="problems"><h2>{escape(_("Problems"))}</h2>'
            f"<ul>{''.join(lines)}</ul></section>"
        )

    def _note(self, note: Note) -> str:
        return note.message(self._)

    def _ranked(self, ranked: Sequence[Ranked]) -> str:
        if not ranked:
            return f"<p>{escape(self._('No segment to review.'))}</p>"
        items = [self._segment(r.video, r.segment, r.rank) for r in ranked]
        return f'<ol class="segments" id="ranked">{"".join(items)}</ol>'

    def _segment(self, video: VideoResult, segment: Segment, rank: int) -> str:
        _ = self._
        ident = anchor(video, segment)
        where = _("{video}, {start} to {end}").format(
            video=video.label, start=clock(segment.start), end=clock(segment.end)
        )
        picture = ""
        if segment.thumbnail:
            alt = _("Frame at {time} of {video}").format(
                time=clock(segment.peak_time), video=video.label
            )
            picture = f'<img src="{escape(segment.thumbnail)}" alt="{escape(alt)}" loading="lazy">'
        clip = ""
        if segment.clip is not None:
            src = escape(segment.clip.path)
            clip = (
                f'<details class="clip"><summary>{escape(_("Clip (muted)"))}</summary>'
                f'<video src="{src}" controls muted preload="none"></video>'
                f'<p><a href="{src}">{escape(_("Clip file"))}</a></p></details>'
            )
        score = _("score {score}").format(score=f"{segment.score:.2f}")
        length = self.duration(segment.end - segment.start)
        return (
            f'<li class="segment" id="{ident}"><span class="rank">{rank}</span>'
            f'<input type="checkbox" class="reveal" id="r-{ident}" '
            f'aria-label="{escape(_("Show this picture plainly"))}">'
            f'<label class="thumb" for="r-{ident}">{picture}</label>'
            f'<div class="facts"><p class="where"><a href="#v-{video.sha256[:16]}">'
            f"{escape(where)}</a> ({escape(length)})</p>"
            f'<p class="why">{escape(self._why(segment))}</p>'
            f'<p class="score">{escape(score)}</p>{clip}</div></li>'
        )

    def _why(self, segment: Segment) -> str:
        _ = self._
        reasons: list[str] = []
        for name in segment.why:
            peak = segment.peaks.get(name, 0.0)
            if name == "motion":
                # The unit goes in the value: a "%" in a message would confuse the catalogues.
                share = f"{peak * 100:.1f} %"
                reasons.append(_("motion in up to {share} of the picture").format(share=share))
            elif name == "sound":
                reasons.append(_("sound {lu} LU above the background").format(lu=f"{peak:.0f}"))
            elif name == "clock":
                amount = self.duration(abs(peak))
                if peak >= 0:
                    reasons.append(_("the burned-in clock jumps forward by {amount}"))
                else:
                    reasons.append(_("the burned-in clock jumps back by {amount}"))
                reasons[-1] = reasons[-1].format(amount=amount)
            else:
                reasons.append(_("{detector} (score {score})").format(
                    detector=name, score=f"{peak:.2f}"
                ))  # fmt: skip
        return "; ".join(reasons)

    def _video(self, result: VideoResult) -> str:
        _ = self._
        info = result.info
        count = self._t.ngettext("{count} segment", "{count} segments", len(result.segments))
        meta = _("{duration} analysed; {width}×{height} {codec}; {segments}; SHA-256 {sha256}")
        meta = meta.format(
            duration=clock(result.analysed),
            width=info.width,
            height=info.height,
            codec=info.video_codec,
            segments=count.format(count=len(result.segments)),
            sha256=result.sha256,
        )
        plot = timeline.svg(
            result.timeline,
            result.analysed,
            result.segments,
            result.light_changes,
            lambda s: anchor(result, s),
            _("Timeline of {video}").format(video=result.label),
            clock,
        )
        names = list(result.timeline.series)
        legend = "".join(
            f'<span class="swatch" style="background:{timeline.colour(n, names)}"></span>'
            f"{escape(self._signal_name(n))}"
            for n in names
        )
        legend += f" · {escape(_('dashed: threshold; shaded: segments to review'))}"
        if result.light_changes:
            legend += f" · {escape(_('thin marks: light changes (ignored)'))}"
        copies = ""
        if result.copies:
            copies = "<p class=\"meta\">" + escape(
                _("Identical copies: {paths}").format(paths=", ".join(result.copies))
            ) + "</p>"  # fmt: skip
        copies += self._overlay(result)
        return (
            f'<article class="video" id="v-{result.sha256[:16]}"><h3>{escape(result.label)}</h3>'
            f'<p class="meta">{escape(meta)}</p>{copies}{plot}'
            f'<p class="axis"><span>0:00:00</span><span>{clock(result.analysed)}</span></p>'
            f'<p class="legend">{legend}</p></article>'
        )

    def _walltime(self, results: Sequence[VideoResult]) -> str:
        """The trove timeline (cameras as rows, wall-clock time across), when overlays were
        read."""
        _ = self._
        if all(r.overlay is None for r in results):
            return ""
        legend = _(
            "Each camera is a row, and every video is placed by the clock burned into it. "
            "Grey: footage; blue: segments to review (each links to its entry above); red: "
            "the clock jumps (a cut, deleted footage or a recorder restart)."
        )
        title = _("Cameras and time")
        return (
            '<section id="walltime" aria-labelledby="walltime-title">'
            f'<h2 id="walltime-title">{escape(title)}</h2>'
            f'<p class="legend">{escape(legend)}</p>'
            f"{walltime.render(results, _, anchor)}</section>"
        )

    def _overlay(self, result: VideoResult) -> str:
        """What the burned-in overlay says about a video, in a line."""
        _, overlay = self._, result.overlay
        if overlay is None:
            return ""
        if overlay.camera is None and overlay.start is None:
            text = _("No burned-in camera name or clock could be read.")
        else:
            camera = overlay.camera or _("no camera name read")
            if overlay.start is None or overlay.end is None:
                clock_text = _("no clock read")
            else:
                clock_text = _("clock {start} to {end}").format(
                    start=overlay.start.isoformat(sep=" "), end=overlay.end.isoformat(sep=" ")
                )
            jumps = self._t.ngettext(
                "{count} clock jump", "{count} clock jumps", len(overlay.jumps)
            ).format(count=len(overlay.jumps))
            text = _("Overlay: {camera}; {clock}; {jumps}").format(
                camera=camera, clock=clock_text, jumps=jumps
            )
        return f'<p class="meta overlay">{escape(text)}</p>'

    def _signal_name(self, name: str) -> str:
        if name == "motion":
            return self._("motion")
        if name == "sound":
            return self._("sound")
        return name
