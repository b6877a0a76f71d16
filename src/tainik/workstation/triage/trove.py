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
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tainik.workstation.triage.items import TriageItem
from tainik.workstation.triage.results import NearCopy
from tainik.workstation.vault import duplicates
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault.perceptual import is_video
from tainik.workstation.vault.vault import Vault


@dataclass(frozen=True)
class Trove:
    """The vault's videos to triage, and how many near-duplicates were left out."""

    items: tuple[TriageItem, ...]
    collapsed: int


def from_vault(root: Path) -> Trove:
    """Every video item of the vault at ``root`` (one per stored file, by item number)."""
    with Vault.open(root) as vault:
        first: dict[str, vault_items.Item] = {}
        for item in vault_items.all_items(vault):
            first.setdefault(item.ref.sha256, item)
        near: dict[str, list[NearCopy]] = defaultdict(list)
        left_out: set[str] = set()
        for group in duplicates.find(vault, compute_missing=False):
            if group.kind != "near":
                continue
            keep = group.members[0]
            for member in group.members[1:]:
                left_out.add(member.sha256)
                label = _label(member.items[0])
                near[keep.sha256].append(
                    NearCopy(member.sha256, label, round(member.similarity, 3))
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


def _label(item: vault_items.Item) -> str:
    return f"#{item.id} {item.display_name}"
