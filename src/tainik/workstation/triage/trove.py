"""A whole trove from the evidence vault: every video item, near-duplicates collapsed.

``tainik triage --vault VAULT`` triages every stored original that is a video (by what FFmpeg
finds in it, not by its name). The vault vouches for each file's SHA-256, so nothing is hashed
again, and results are cached by that hash: a run that is stopped (or killed) and started
again analyses only the videos it had not finished (docs/triage.md, "A whole trove").

Near-duplicates (a re-encoded, rescaled or trimmed copy of the same footage) are collapsed
with the vault's own vPDQ matches (:mod:`tainik.workstation.vault.duplicates`): the first
member of each group (by item number) is analysed and lists the others as ``near_copies``.
Only the features the vault already keeps are used ('tainik vault duplicates' computes them):
computing them here would decode the whole trove once more.

A fixed camera looking at an empty corridor makes files that vPDQ finds alike although they
hold different hours. So a match is collapsed only when the overlays agree: where both
burned-in clocks can be read, their times must overlap by more than a second, and where both
camera names can be read, they must be the same. Reading an overlay costs a fraction of a
second (and is kept for the analysis, in the report folder's cache).
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tainik.workstation.triage.clock import Overlay
from tainik.workstation.triage.items import TriageItem
from tainik.workstation.triage.results import NearCopy
from tainik.workstation.triage.wallclock import cached_overlay
from tainik.workstation.vault import duplicates
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault.perceptual import is_video
from tainik.workstation.vault.vault import Vault

#: Two videos' clocks must share more than this many seconds for them to be one footage.
OVERLAP_SECONDS = 1.0


@dataclass(frozen=True)
class Trove:
    """The vault's videos to triage, and how many near-duplicates were left out."""

    items: tuple[TriageItem, ...]
    collapsed: int


def from_vault(root: Path, report_dir: Path, jobs: int = 1) -> Trove:
    """Every video item of the vault at ``root`` (one per stored file, by item number)."""
    with Vault.open(root) as vault:
        first: dict[str, vault_items.Item] = {}
        for item in vault_items.all_items(vault):
            first.setdefault(item.ref.sha256, item)
        groups = [g for g in duplicates.find(vault, compute_missing=False) if g.kind == "near"]
        members = sorted({m.sha256 for g in groups for m in g.members})
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as readers:
            read = readers.map(
                lambda sha: cached_overlay(vault.objects.path(sha), sha, report_dir), members
            )
            overlays = dict(zip(members, read, strict=True))
        near: dict[str, list[NearCopy]] = defaultdict(list)
        left_out: set[str] = set()
        for group in groups:
            kept: list[duplicates.Member] = []
            for member in group.members:
                same = next(
                    (k for k in kept if _agree(overlays[k.sha256], overlays[member.sha256])), None
                )
                if same is None:
                    kept.append(member)
                    continue
                left_out.add(member.sha256)
                similarity = round(member.similarity, 3)
                near[same.sha256].append(
                    NearCopy(member.sha256, _label(member.items[0]), similarity)
                )
        found = []
        for sha256, item in first.items():
            path = vault.objects.path(sha256)
            if sha256 in left_out or not is_video(path):
                continue
            found.append(
                TriageItem(
                    path=path,
                    label=_label(item),
                    sha256=sha256,
                    origin=f"vault item #{item.id}",
                    near_copies=tuple(near.get(sha256, ())),
                )
            )
    return Trove(tuple(found), len(left_out))


def _agree(a: Overlay | None, b: Overlay | None) -> bool:
    """Whether two overlays allow the videos to be the same footage."""
    if a is None or b is None:
        return True
    if a.camera is not None and b.camera is not None and a.camera != b.camera:
        return False
    if a.start is None or a.end is None or b.start is None or b.end is None:
        return True
    # Consecutive files of one camera touch (one ends as the next starts): that is no overlap.
    overlap = (min(a.end, b.end) - max(a.start, b.start)).total_seconds()
    return overlap > OVERLAP_SECONDS


def _label(item: vault_items.Item) -> str:
    return f"#{item.id} {item.display_name}"
