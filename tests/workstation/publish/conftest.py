"""Fixtures: a CA, a small redacted clip with its record, and its publication."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli
from tainik.workstation.publish.ca import CertificateAuthority
from tainik.workstation.publish.publication import Publication, publish_file
from workstation.redact.scene import make_clip

NOW = datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class Published:
    ca: CertificateAuthority
    original: Path
    redacted: Path
    record: dict[str, Any]
    publication: Publication


@pytest.fixture(scope="session")
def ca() -> CertificateAuthority:
    return CertificateAuthority.create("Test NGO", NOW)


@pytest.fixture(scope="session")
def small_redacted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("small")
    original = make_clip(
        folder / "original.mp4", width=192, height=144, frames=12, scale_a=0.35, scale_b=0.2
    ).path
    out = folder / "public.mp4"
    result = run_cli(["redact", str(original), "--out", str(out), "--no-report"])
    assert result.code == 0, result.stderr
    return original, out


@pytest.fixture(scope="session")
def published(
    ca: CertificateAuthority,
    small_redacted: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Published:
    original, redacted = small_redacted
    record = json.loads(redacted.with_name(redacted.name + ".redaction.json").read_text())
    out = tmp_path_factory.mktemp("published")
    publication = publish_file(redacted, record, ca, out, NOW)
    return Published(ca, original, redacted, record, publication)
