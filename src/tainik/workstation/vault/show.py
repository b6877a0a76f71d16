"""``vault show``: a static HTML view of the vault that opens in a browser with no server.

``index.html`` lists the sources; ``source-N.html`` shows one thread in order: messages and
replies as text, files as cards with a thumbnail, technical metadata, warnings about
identifying tags and both hashes. No script, no remote resource, a strict Content-Security-
Policy. Thumbnails are blurred until pointed at or focused, so that nobody has to see
distressing footage by accident (``blur=False`` turns that off).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tainik.core.errors import TainikError
from tainik.core.manifest import Kind
from tainik.sealed import durable
from tainik.workstation.vault import acquired, media, thumbnails
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault.canonical import JsonValue
from tainik.workstation.vault.items import Item, Source
from tainik.workstation.vault.vault import Vault

Tick = Callable[[int], None]
MAX_TEXT = 100_000
CSP = "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'"

STYLE = """\
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
h1, h2 { font-weight: 600; }
a { color: #1a4f8b; }
.item { border: 1px solid #ccc; border-radius: 6px; padding: .8rem 1rem; margin: 1rem 0; }
.message { background: #f3f6fa; }
.reply { background: #f4faf3; margin-left: 3rem; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; font-family: inherit; margin: .4rem 0; }
.meta { color: #555; font-size: 13px; }
.hash { font-family: ui-monospace, monospace; font-size: 12px; overflow-wrap: anywhere; }
.warn { color: #8a1c1c; }
.thumb { display: inline-block; }
.thumb img { max-width: 320px; border-radius: 4px; }
.blur .thumb img { filter: blur(14px); transition: filter .2s; }
.blur .thumb:hover img, .blur .thumb:focus img { filter: none; }
table { border-collapse: collapse; }
td, th { text-align: left; padding: .2rem .8rem .2rem 0; }
"""


@dataclass(frozen=True, slots=True)
class FileView:
    """What a file card shows."""

    thumbnail: str | None
    summary: str
    warnings: list[media.Warning]


def _page(title: str, body: str, blur: bool) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="referrer" content="no-referrer">'
        f'<title>{html.escape(title)}</title><link rel="stylesheet" href="style.css">'
        f'</head><body class="{"blur" if blur else ""}">\n{body}\n</body></html>\n'
    )


def summary(info: dict[str, JsonValue] | None) -> str:
    """One line: container, duration, codecs and picture size."""
    if not info:
        return "not audio or video"
    parts = [str(info.get("format_long") or info.get("format"))]
    if info.get("duration_s"):
        parts.append(f"{info['duration_s']} s")
    streams = info.get("streams")
    for stream in streams if isinstance(streams, list) else []:
        if isinstance(stream, dict) and stream.get("type") == "video":
            parts.append(f"{stream.get('codec')} {stream.get('width')}×{stream.get('height')}")
        elif isinstance(stream, dict) and stream.get("type") == "audio":
            parts.append(f"{stream.get('codec')} audio")
    return ", ".join(parts)


def _view(vault: Vault, item: Item, thumbs: Path) -> FileView:
    path = vault.objects.path(item.ref.sha256)
    name = f"{item.ref.sha256}.jpg"
    thumbnail = name if (thumbs / name).is_file() or thumbnails.make(path, thumbs / name) else None
    try:
        info = media.describe(path)
    except TainikError:
        return FileView(thumbnail, "metadata unavailable (is exiftool installed?)", [])
    return FileView(thumbnail, summary(info.container), info.warnings)


def _text(vault: Vault, item: Item) -> str:
    with vault.objects.path(item.ref.sha256).open("rb") as handle:
        return handle.read(MAX_TEXT * 4).decode("utf-8", errors="replace")[:MAX_TEXT]


def _hashes(item: Item) -> str:
    return f'<div class="hash">SHA-256 {item.ref.sha256}<br>BLAKE3 {item.ref.blake3}</div>'


def _item_html(vault: Vault, item: Item, view: FileView | None) -> str:
    e = html.escape
    when = e(item.sent_at or "time unknown")
    if item.sealed_id.startswith("acq-"):
        when = f"modified {when} (the medium's clock)" if item.sent_at else "no time"
    head = f'<div class="meta">#{item.id} · {e(item.kind.value)} · {when}</div>'
    if item.kind != Kind.FILE:
        return (
            f'<div class="item {e(item.kind.value)}" id="item-{item.id}">{head}'
            f'<pre class="text">{e(_text(vault, item))}</pre>{_hashes(item)}</div>'
        )
    assert view is not None
    thumb = (
        f'<a class="thumb" href="thumbnails/{view.thumbnail}">'
        f'<img src="thumbnails/{view.thumbnail}" alt="thumbnail of item {item.id}"></a>'
        if view.thumbnail
        else '<div class="meta">no thumbnail</div>'
    )
    warnings = "".join(f"<li>{e(w.concern)}: {e(w.tag)} = {e(w.value)}</li>" for w in view.warnings)
    warn_html = (
        f'<details class="warn"><summary>{len(view.warnings)} tag(s) could identify the '
        f"source</summary><ul>{warnings}</ul></details>"
        if view.warnings
        else '<div class="meta">no identifying tags found</div>'
    )
    return (
        f'<div class="item file" id="item-{item.id}">{head}'
        f'<div><strong class="name">{e(_shown_name(item))}</strong> · {item.ref.size} bytes</div>'
        f'{thumb}<div class="meta">{e(view.summary)}</div>{warn_html}{_hashes(item)}</div>'
    )


def render(
    vault: Vault, out: Path, *, blur: bool = True, jobs: int = 2, tick: Tick | None = None
) -> Path:
    """Write the view into ``out`` (created if missing); returns ``out/index.html``."""
    thumbs = out / "thumbnails"
    try:
        thumbs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise durable.storage_error(exc, out) from exc
    sources = vault_items.sources(vault)
    threads = {s.id: vault_items.thread(vault, s.id) for s in sources}
    files = [i for thread in threads.values() for i in thread if i.kind == Kind.FILE]
    views: dict[int, FileView] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for item, view in zip(
            files, pool.map(lambda i: _view(vault, i, thumbs), files), strict=True
        ):
            views[item.id] = view
            if tick:
                tick(1)
    _write(out / "style.css", STYLE)
    for source in sources:
        body = [
            '<p><a href="index.html">All sources</a></p>',
            f"<h1>{html.escape(source.designation)}</h1>",
            f'<p class="meta">{html.escape(source.key)}</p>',
        ]
        if source.key.startswith(acquired.SOURCE_PREFIX):
            body.append(_acquisition_html(vault, source))
        body += [_item_html(vault, i, views.get(i.id)) for i in threads[source.id]]
        _write(out / f"source-{source.id}.html", _page(source.designation, "\n".join(body), blur))
    _write(out / "index.html", _page("Vault", _index(vault, sources, threads), blur))
    return out / "index.html"


def _shown_name(item: Item) -> str:
    """An acquired file's path on the medium; any other item's safe name."""
    if item.sealed_id.startswith("acq-"):
        return item.name.decode("utf-8", errors="replace")
    return item.display_name


def _acquisition_html(vault: Vault, source: Source) -> str:
    """The medium, who handed it over, counts, first and last modification times, and the
    files that could not be stored, from the acquisition's manifest."""
    e = html.escape
    sha = source.key.removeprefix(acquired.SOURCE_PREFIX)
    try:
        manifest = acquired.Manifest.parse(vault.objects.path(sha).read_bytes())
    except (OSError, ValueError):
        return (
            '<p class="warn">The acquisition manifest cannot be read: run tainik vault verify.</p>'
        )
    header = manifest.header
    medium = header.get("medium")
    medium = medium if isinstance(medium, dict) else {}
    rows = [
        ("medium", medium.get("kind")),
        ("path", medium.get("path")),
        ("file system", medium.get("fs_type")),
        ("label", medium.get("label")),
        ("UUID", medium.get("uuid")),
        ("device", medium.get("device")),
        ("model", medium.get("model")),
        ("serial", medium.get("serial")),
        ("mounted read-only", medium.get("read_only")),
        ("from", header.get("from")),
        ("note", header.get("note")),
        ("acquired by", header.get("actor")),
        ("started", header.get("started")),
        ("finished", header.get("finished")),
    ]
    counts = header.get("counts")
    if isinstance(counts, dict):
        rows += [(name, value) for name, value in sorted(counts.items())]
    mtimes = manifest.mtimes()
    if mtimes:
        rows += [("first modified", mtimes[0]), ("last modified", mtimes[1])]
    table = "".join(
        f"<tr><th>{e(name)}</th><td>{e(str(value))}</td></tr>"
        for name, value in rows
        if value not in (None, "")
    )
    problems = manifest.problems()
    listed = "".join(
        f"<li>{e(str(p.get('path')))}: {e(str(p.get('status')))}, {e(str(p.get('error')))}</li>"
        for p in problems
    )
    trouble = (
        f'<details class="warn" open><summary>{len(problems)} file(s) not stored</summary>'
        f"<ul>{listed}</ul></details>"
        if problems
        else '<p class="meta">every file was read and stored</p>'
    )
    return (
        f'<div class="item acquisition"><table>{table}</table>{trouble}'
        f'<div class="hash">manifest SHA-256 {e(sha)}</div></div>'
    )


def _index(vault: Vault, sources: list[Source], threads: dict[int, list[Item]]) -> str:
    e = html.escape
    rows = "".join(
        f'<tr><td><a href="source-{s.id}.html">{e(s.designation)}</a></td>'
        f"<td>{sum(1 for i in threads[s.id] if i.kind != Kind.FILE)}</td>"
        f"<td>{sum(1 for i in threads[s.id] if i.kind == Kind.FILE)}</td>"
        f"<td>{e(threads[s.id][-1].sent_at or '') if threads[s.id] else ''}</td></tr>"
        for s in sources
    )
    key = vault.public_key().fingerprint
    return (
        "<h1>Vault</h1>"
        f'<p class="meta">{e(str(vault.paths.root))} · vault key {e(key)}</p>'
        "<table><tr><th>source</th><th>messages and replies</th><th>files</th>"
        f"<th>latest</th></tr>{rows}</table>"
    )


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise durable.storage_error(exc, path) from exc
