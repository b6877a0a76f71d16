"""Duplicates: exact (one stored file received more than once) and near (the same footage).

Exact duplicates fall out of content addressing: items that share a SHA-256 share one stored
file. Near-duplicates are found among the stored originals that are videos, by comparing vPDQ
features (:mod:`.perceptual`) pairwise and joining matches into groups (transitively: a copy
of a copy is in its original's group). Features are computed once per file, in a process
pool, and kept in the catalogue. Derived files (scrubbed copies) are left out: they are known
to derive from their original.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from sqlalchemy import insert, select

from tainik.sealed import pool
from tainik.workstation.vault import catalogue
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault.items import Item
from tainik.workstation.vault.perceptual import (
    ALGORITHM,
    NEAR_DUPLICATE,
    Features,
    compute,
    is_video,
    similarity,
)
from tainik.workstation.vault.vault import Vault

Tick = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Member:
    """A stored file in a group, with the items that carry it."""

    sha256: str
    items: tuple[Item, ...]
    similarity: float  # to the group's first member (1.0 for exact duplicates)


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Files that are the same (``exact``) or show the same footage (``near``)."""

    kind: str
    members: tuple[Member, ...]


def _features_for(path: str) -> bytes:
    """Worker: the features of one video, or nothing when it is not a video."""
    return compute(Path(path)) if is_video(Path(path)) else b""


def _load_features(
    vault: Vault, jobs: int, tick: Tick | None, compute_missing: bool = True
) -> dict[str, Features]:
    originals = {item.ref.sha256 for item in vault_items.all_items(vault)}
    with vault.engine.connect() as db:
        cached = {
            str(r.sha256): bytes(r.data)
            for r in db.execute(
                select(catalogue.perceptual.c.sha256, catalogue.perceptual.c.data).where(
                    catalogue.perceptual.c.algorithm == ALGORITHM
                )
            )
        }
    missing = sorted(originals - set(cached))
    if tick:
        tick(len(originals) - len(missing))
    if missing and compute_missing:
        with pool.make_pool(max(1, jobs)) as workers:
            paths = [str(vault.objects.path(sha)) for sha in missing]
            for sha, data in zip(missing, workers.map(_features_for, paths), strict=True):
                cached[sha] = data
                with vault.engine.begin() as db:
                    db.execute(
                        insert(catalogue.perceptual)
                        .prefix_with("OR REPLACE")
                        .values(sha256=sha, algorithm=ALGORITHM, data=data)
                    )
                if tick:
                    tick(1)
    return {sha: Features.decode(cached[sha]) for sha in originals if cached.get(sha)}


def count_originals(vault: Vault) -> int:
    """How many stored originals there are (the progress total)."""
    return len({item.ref.sha256 for item in vault_items.all_items(vault)})


def find(
    vault: Vault, *, jobs: int = 1, tick: Tick | None = None, compute_missing: bool = True
) -> list[DuplicateGroup]:
    """Exact and near-duplicate groups, exact first, each ordered by item number.

    ``compute_missing=False`` uses only the features already kept (video triage does not
    decode a whole trove once more to find duplicates)."""
    by_hash: dict[str, list[Item]] = defaultdict(list)
    for item in vault_items.all_items(vault):
        by_hash[item.ref.sha256].append(item)
    groups = [
        DuplicateGroup("exact", (Member(sha, tuple(same), 1.0),))
        for sha, same in by_hash.items()
        if len(same) > 1
    ]
    features = _load_features(vault, jobs, tick, compute_missing)
    parent = {sha: sha for sha in features}

    def root(sha: str) -> str:
        while parent[sha] != sha:
            parent[sha] = parent[parent[sha]]
            sha = parent[sha]
        return sha

    scores: dict[tuple[str, str], float] = {}
    for a, b in combinations(sorted(features), 2):
        score = similarity(features[a], features[b])
        if score >= NEAR_DUPLICATE:
            scores[(a, b)] = scores[(b, a)] = score
            parent[root(a)] = root(b)
    clusters: dict[str, list[str]] = defaultdict(list)
    for sha in features:
        clusters[root(sha)].append(sha)
    for members in clusters.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda sha: min(i.id for i in by_hash[sha]))
        first = members[0]
        groups.append(
            DuplicateGroup(
                "near",
                tuple(
                    Member(
                        sha,
                        tuple(by_hash[sha]),
                        1.0
                        if sha == first
                        else scores.get((first, sha), similarity(features[first], features[sha])),
                    )
                    for sha in members
                ),
            )
        )
    return groups
