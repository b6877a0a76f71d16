"""Duplicates: a re-encoded, a trimmed and a rescaled copy join their original; distinct clips
stay apart; exact duplicates are one stored file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tainik import crypto
from tainik.workstation.vault import duplicates
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault.perceptual import Features, compute, similarity
from tainik.workstation.vault.vault import Vault
from workstation.vault.support import clip, ffmpeg, import_into, seal


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An original, three altered copies of it, and three distinct clips."""
    d = tmp_path_factory.mktemp("clips")
    made = {
        "original": clip(d / "original.mp4", "testsrc2", overlay="red", y=40),
        "mandelbrot": clip(d / "mandelbrot.mp4", "mandelbrot", overlay="blue", y=80),
        "life": clip(d / "life.mp4", "life", overlay="yellow", y=20, options="mold=10:ratio=0.3"),
        "cells": clip(d / "cells.mp4", "cellauto", overlay="white", y=100, options="rule=30"),
    }
    source = str(made["original"])
    ffmpeg("-i", source, "-c:v", "mpeg4", "-q:v", "9", str(d / "reencoded.mp4"))
    ffmpeg(
        "-ss",
        "3",
        "-i",
        source,
        "-t",
        "6",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        str(d / "trimmed.mp4"),
    )
    ffmpeg(
        "-i",
        source,
        "-vf",
        "scale=640:360",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        str(d / "rescaled.mp4"),
    )
    made.update({k: d / f"{k}.mp4" for k in ("reencoded", "trimmed", "rescaled")})
    return made


def test_near_duplicates_are_grouped(
    vault: Vault, org_identity: crypto.Identity, clips: dict[str, Path], tmp_path: Path
) -> None:
    for name, path in clips.items():
        seal(
            path.read_bytes(), tmp_path / "in", org_identity.recipient, name=f"{name}.mp4".encode()
        )
    seal(clips["original"].read_bytes(), tmp_path / "in", org_identity.recipient, name=b"again.mp4")
    import_into(vault, [org_identity], [tmp_path / "in"], jobs=2)
    groups = duplicates.find(vault, jobs=2)
    named = [(g.kind, sorted(i.display_name for m in g.members for i in m.items)) for g in groups]
    assert ("exact", ["again.mp4", "original.mp4"]) in named
    near = [names for kind, names in named if kind == "near"]
    assert near == [["again.mp4", "original.mp4", "reencoded.mp4", "rescaled.mp4", "trimmed.mp4"]]
    # The features are kept: a second run computes nothing and finds the same.
    assert duplicates.find(vault, jobs=1) == groups


def test_distinct_clips_do_not_match(clips: dict[str, Path]) -> None:
    features = {k: Features.decode(compute(p)) for k, p in clips.items()}
    distinct = ["original", "mandelbrot", "life", "cells"]
    for a in distinct:
        assert len(features[a]) >= 10
        for b in distinct:
            if a != b:
                assert similarity(features[a], features[b]) < 0.2, (a, b)
    for copy in ("reencoded", "trimmed", "rescaled"):
        assert similarity(features["original"], features[copy]) >= 0.9, copy


def test_still_images_are_not_hashed_as_video(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    photo = tmp_path / "still.jpg"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", str(photo))
    seal(photo.read_bytes(), tmp_path / "in", org_identity.recipient)
    import_into(vault, [org_identity], [tmp_path / "in"])
    assert duplicates.find(vault) == []
    assert vault_items.all_items(vault)
