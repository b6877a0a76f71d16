"""The original is committed to, never named: nothing in a publication lets a holder of candidate
copies test them, and the organisation's opening (salt + hash) proves the link to a court."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from conftest import run_cli
from tainik.core.errors import ExitCode
from tainik.workstation.publish import credentials
from tainik.workstation.publish.commitment import SALT_BYTES, Opening, commit
from tainik.workstation.publish.errors import ProvenanceError
from tainik.workstation.publish.verify import read_commitment, verify
from workstation.publish.conftest import Published


def forms_of(digest_hex: str) -> list[bytes]:
    """Every usual way of writing a SHA-256: hex (both cases), base64 and base64url (with and
    without padding), and the raw 32 bytes."""
    raw = bytes.fromhex(digest_hex)
    forms = [digest_hex.encode(), digest_hex.upper().encode(), raw]
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms += [encoded, encoded.rstrip(b"=")]
    return forms


def test_spec_vector() -> None:
    """docs/redaction.md, "What publication commits to": the worked example."""
    salt = bytes(range(32))
    original = hashlib.sha256(b"").hexdigest()
    expected = "65ec95602e23c8b4e8640438f461f91ec926ef08403a660477133e8b909f7a52"
    assert commit(salt, original) == expected
    assert (
        hashlib.sha256(b"tainik.org/commitment/v1\n" + salt + bytes.fromhex(original)).hexdigest()
        == expected
    )


def test_the_publication_does_not_hold_the_originals_hash(published: Published) -> None:
    p = published.publication
    original = hashlib.sha256(published.original.read_bytes()).hexdigest()
    assert p.opening.original_sha256 == original
    data = p.path.read_bytes()
    reading = credentials.read(data, published.ca.certificate_pem(), p.path)
    manifest_text = json.dumps(reading.store).encode()
    sidecar = p.sidecar_path.read_bytes()
    for form in forms_of(original):
        assert form not in manifest_text, form
        assert form not in data, form
        assert form not in sidecar, form
    # What stands in its place: the commitment, the same in the ingredient and the assertion.
    (ingredient,) = reading.active["ingredients"]
    assert ingredient["instance_id"] == f"commitment-v1:{p.commitment}"
    [derivation] = [
        a for a in reading.active["assertions"] if a["label"] == "org.tainik.derivation"
    ]
    assert derivation["data"]["original"] == {
        "scheme": "tainik.org/commitment/v1",
        "commitment": p.commitment,
    }
    # Nor the salt, in any form: with it anyone could test candidate copies.
    for form in forms_of(p.opening.salt.hex()):
        assert form not in manifest_text
        assert form not in data
        assert form not in sidecar


def test_two_publications_of_one_original_commit_differently(published: Published) -> None:
    again = Opening.new(published.publication.opening.original_sha256)
    assert again.commitment() != published.publication.commitment


def test_the_opening_verifies_and_a_wrong_salt_does_not(published: Published) -> None:
    p = published.publication
    trust = published.ca.certificate_pem()
    result = verify(p.path, trust, p.sidecar_path, p.opening, published.original)
    assert result.original_sha256 == hashlib.sha256(published.original.read_bytes()).hexdigest()
    assert result.original_checked
    wrong_salt = bytearray(p.opening.salt)
    wrong_salt[0] ^= 1
    for wrong in (
        Opening(bytes(wrong_salt), p.opening.original_sha256),
        Opening(bytes(SALT_BYTES), p.opening.original_sha256),
        Opening(p.opening.salt, hashlib.sha256(published.redacted.read_bytes()).hexdigest()),
    ):
        with pytest.raises(ProvenanceError, match="does not open the commitment"):
            verify(p.path, trust, p.sidecar_path, wrong)
    with pytest.raises(ProvenanceError, match="not the original the opening names"):
        verify(p.path, trust, None, p.opening, published.redacted)


def test_cli_checks_an_opening_and_the_original(published: Published, tmp_path: Path) -> None:
    p = published.publication
    opening = tmp_path / "opening.json"
    opening.write_text(json.dumps(p.opening.to_json()))
    argv = ["verify-publication", str(p.path), "--trust", str(p.ca_path), "--opening", str(opening)]
    result = run_cli([*argv, "--original", str(published.original)])
    assert result.code == 0, result.stderr
    assert f"original-sha256: {p.opening.original_sha256}" in result.stdout
    assert "the original file is that original" in result.stderr
    document = p.opening.to_json()
    document["salt"] = "00" * SALT_BYTES
    opening.write_text(json.dumps(document))
    refused = run_cli(argv)
    assert refused.code == ExitCode.INTEGRITY
    assert "does not open the commitment" in refused.stderr
    alone = run_cli(["verify-publication", str(p.path), "--original", str(published.original)])
    assert alone.code == ExitCode.USAGE


def test_the_commitment_is_read_without_trusting_the_signer(published: Published) -> None:
    assert read_commitment(published.publication.path) == published.publication.commitment
