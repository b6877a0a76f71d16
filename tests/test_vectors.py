"""The implementation against the committed vectors of docs/format.md."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tainik import crypto
from tainik.core.errors import FormatError
from tainik.core.manifest import Manifest
from tainik.sealed.reader import SealedOpener, read_manifest

VECTORS = Path(__file__).parent / "vectors"
CONTAINERS = sorted(VECTORS.glob("*.sealed"))


@pytest.fixture(scope="module")
def vector_identity() -> crypto.Identity:
    [identity] = crypto.parse_identity_file((VECTORS / "identity.txt").read_bytes(), None)
    return identity


def test_there_are_vectors() -> None:
    assert len(CONTAINERS) >= 6
    assert len(list((VECTORS / "manifests" / "invalid").iterdir())) >= 8


@pytest.mark.parametrize("container", CONTAINERS, ids=lambda p: p.name)
def test_sealed_vectors_open_as_expected(
    container: Path, vector_identity: crypto.Identity, tmp_path: Path
) -> None:
    expected = json.loads(
        container.with_name(container.name.replace(".sealed", ".expected.json")).read_text()
    )
    manifest = read_manifest(container, [vector_identity])
    assert manifest.kind.value == expected["kind"]
    opened = SealedOpener([vector_identity], jobs=1).open(container, tmp_path)
    data = opened.path.read_bytes()
    assert len(data) == expected["size"]
    assert hashlib.sha256(data).hexdigest() == expected["sha256"]
    assert opened.path.name == expected["output_name"]


@pytest.mark.parametrize(
    "path", sorted((VECTORS / "manifests" / "valid").iterdir()), ids=lambda p: p.name
)
def test_valid_manifests_parse_and_reserialise_exactly(path: Path) -> None:
    data = path.read_bytes()
    assert Manifest.decode(data).encode() == data


@pytest.mark.parametrize(
    "path", sorted((VECTORS / "manifests" / "invalid").iterdir()), ids=lambda p: p.name
)
def test_invalid_manifests_are_rejected(path: Path) -> None:
    with pytest.raises(FormatError):
        Manifest.decode(path.read_bytes())
