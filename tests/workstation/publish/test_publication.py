"""Published files verify; one changed byte of the file or of its manifest fails them."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest

from conftest import run_cli
from tainik.core.errors import ExitCode
from tainik.workstation.publish import credentials, sidecar
from tainik.workstation.publish.ca import CertificateAuthority
from tainik.workstation.publish.errors import ProvenanceError
from tainik.workstation.publish.verify import verify
from workstation.publish.conftest import NOW, Published


def _boxes(data: bytes) -> dict[bytes, tuple[int, int]]:
    """Top-level MP4 boxes: type -> (offset, size)."""
    found, offset = {}, 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        found[kind] = (offset, size)
        offset += size
    return found


def _flip(source: Path, target: Path, index: int) -> Path:
    data = bytearray(source.read_bytes())
    data[index] ^= 0x01
    target.write_bytes(bytes(data))
    return target


def test_publication_verifies_against_its_ca(published: Published) -> None:
    p = published.publication
    result = verify(p.path, published.ca.certificate_pem(), p.sidecar_path)
    assert result.trusted
    assert result.sidecar_checked
    assert result.original_commitment == p.commitment
    assert result.original_sha256 is None  # not without the opening
    assert any("Faces obscured" in a for a in result.actions)
    assert p.ca_path.read_bytes() == published.ca.certificate_pem()


def test_another_ca_is_not_trusted(published: Published) -> None:
    stranger = CertificateAuthority.create("Someone else", NOW)
    with pytest.raises(ProvenanceError):
        verify(published.publication.path, stranger.certificate_pem(), None)
    document = json.loads(published.publication.sidecar_path.read_text())
    _, problem = sidecar.check(document, stranger.certificate_pem())
    assert problem == "the sidecar's certificate was not issued by the trusted CA"


@pytest.mark.parametrize("box", [b"mdat", b"moov"])
def test_one_changed_byte_of_the_media_fails(
    published: Published, tmp_path: Path, box: bytes
) -> None:
    source = published.publication.path
    offset, size = _boxes(source.read_bytes())[box]
    tampered = _flip(source, tmp_path / "t.mp4", offset + size // 2)
    with pytest.raises(ProvenanceError):
        verify(tampered, published.ca.certificate_pem(), None)


def test_one_changed_byte_of_the_manifest_fails(published: Published, tmp_path: Path) -> None:
    source = published.publication.path
    offset, size = _boxes(source.read_bytes())[b"uuid"]
    for index in (offset + size // 3, offset + size // 2, offset + size - 40):
        tampered = _flip(source, tmp_path / "m.mp4", index)
        with pytest.raises(ProvenanceError):
            verify(tampered, published.ca.certificate_pem(), None)


def test_the_sidecar_covers_bytes_c2pa_leaves_out(published: Published, tmp_path: Path) -> None:
    """C2PA's MP4 hash excludes the ftyp box; the signed sidecar's SHA-256 does not."""
    p = published.publication
    tampered = _flip(p.path, tmp_path / "f.mp4", 20)  # inside ftyp
    verify(tampered, published.ca.certificate_pem(), None)  # C2PA alone cannot see it
    with pytest.raises(ProvenanceError, match="differs from the one signed"):
        verify(tampered, published.ca.certificate_pem(), p.sidecar_path)


def test_an_edited_sidecar_fails(published: Published, tmp_path: Path) -> None:
    document = json.loads(published.publication.sidecar_path.read_text())
    document["original"]["commitment"] = "0" * 64
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    with pytest.raises(ProvenanceError, match="signature does not match"):
        verify(published.publication.path, published.ca.certificate_pem(), edited)


def test_manifest_holds_nothing_of_the_original(published: Published) -> None:
    data = published.publication.path.read_bytes()
    offset, size = _boxes(data)[b"uuid"]
    store = data[offset : offset + size]
    assert size < 16_000
    # No picture (JPEG, PNG), no video sample description; "ftyp" and "mdat" appear only as
    # the names of boxes the hash leaves out.
    for magic in (b"\xff\xd8\xff", b"\x89PNG", b"avc1", b"avcC", b"mp4a"):
        assert magic not in store
    original = published.original.read_bytes()
    name = published.original.name.encode()
    assert name not in data
    chunks = {original[i : i + 32] for i in range(0, len(original) - 32, 32)}
    assert not any(store[i : i + 32] in chunks for i in range(len(store) - 32))
    reading = credentials.read(data, published.ca.certificate_pem(), published.publication.path)
    text = json.dumps(reading.store)
    assert "thumbnail" not in text
    assert "resources" not in reading.active
    (ingredient,) = reading.active["ingredients"]
    assert set(ingredient) <= {"title", "format", "instance_id", "relationship", "label"}
    assert re.fullmatch(r"commitment-v1:[0-9a-f]{64}", ingredient["instance_id"])


def test_cli_verifies_and_prints_the_commitment(published: Published, tmp_path: Path) -> None:
    p = published.publication
    result = run_cli(["verify-publication", str(p.path), "--trust", str(p.ca_path)])
    assert result.code == 0, result.stderr
    assert f"original-commitment: {p.commitment}" in result.stdout
    assert "original-sha256" not in result.stdout
    offset, size = _boxes(p.path.read_bytes())[b"mdat"]
    bad = _flip(p.path, tmp_path / p.path.name, offset + size // 2)
    result = run_cli(["verify-publication", str(bad), "--trust", str(p.ca_path)])
    assert result.code == ExitCode.INTEGRITY
    assert "does not verify" in result.stderr


def test_cli_without_trust_says_the_signer_was_not_checked(published: Published) -> None:
    result = run_cli(["verify-publication", str(published.publication.path)])
    assert result.code == 0
    assert "NOT checked" in result.stderr
