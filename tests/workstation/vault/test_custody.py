"""Custody records: canonical encoding, signatures, strict parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tainik.workstation.signing import SigningKey, VerifyKey
from tainik.workstation.vault import canonical
from tainik.workstation.vault.canonical import NotCanonical
from tainik.workstation.vault.custody import (
    GENESIS_PREV,
    SIGNATURE_CONTEXT,
    Action,
    CustodyRecord,
    FileRef,
    new_record,
)

KEY = SigningKey.generate()
JSON = st.recursive(
    st.one_of(st.text(), st.integers(-(2**53) + 1, 2**53 - 1), st.booleans()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), JSON, max_size=6))
def test_canonical_round_trip(value: dict[str, canonical.JsonValue]) -> None:
    data = canonical.encode(value)
    assert data.isascii()
    assert canonical.decode_object(data) == value


@pytest.mark.parametrize(
    "text",
    [
        b'{"b":1,"a":2}',  # keys out of order
        b'{"a": 1}',  # whitespace
        b'{"a":1.0}',  # a float
        b'{"a":null}',  # null
        b'{"a":1,"a":1}',  # a duplicate key
        b'{"a":"\xc3\xa9"}',  # not ASCII
        b'{"a":"\\u00E9"}',  # uppercase escape
        b"[1]",  # not an object
    ],
)
def test_canonical_rejects(text: bytes) -> None:
    with pytest.raises(NotCanonical):
        canonical.decode_object(text)


def record() -> CustodyRecord:
    ref = FileRef("ab" * 32, "cd" * 32, 12)
    return new_record(
        seq=1,
        prev=GENESIS_PREV,
        moment=datetime(2025, 5, 1, tzinfo=UTC),
        actor="Ана",
        action=Action.IMPORT,
        inputs=[{"sealed_id": "a" * 26, "manifest_sha256": "ef" * 32}],
        outputs=[ref.to_json()],
        details={"kind": "file"},
    ).signed(KEY)


def test_signature_input_is_the_context_and_the_body() -> None:
    signed = record()
    assert KEY.verify_key.verify(signed.signature, SIGNATURE_CONTEXT + signed.body_bytes())
    assert signed.signature_valid(KEY.verify_key)
    assert not signed.signature_valid(SigningKey.generate().verify_key)
    line = signed.line()
    assert b'"actor":"\\u0410\\u043d\\u0430"' in line
    assert line.startswith(b'{"action":"import","actor"')
    assert CustodyRecord.parse(line) == signed


def test_parse_is_strict() -> None:
    line = record().line()
    for bad in (
        line.replace(b'"v":1', b'"v":2'),
        line.replace(b'"seq":1', b'"seq":-1'),
        line[:-1] + b',"extra":1}',
        line.replace(b',"details":{"kind":"file"}', b""),
        line.replace(b'"sig":"', b'"sig":"AA'),
    ):
        with pytest.raises(NotCanonical):
            CustodyRecord.parse(bad)


def test_keys_round_trip_as_text() -> None:
    again = SigningKey.from_text(KEY.to_text())
    assert again.verify_key == KEY.verify_key
    assert VerifyKey.parse(KEY.verify_key.text) == KEY.verify_key
    assert "SIGNING-KEY" not in repr(KEY)
    assert KEY.verify_key.fingerprint.startswith("SHA256:")


def test_a_record_made_from_the_document_alone_verifies() -> None:
    """docs/workstation.md, "Custody records", followed by hand with hashlib and cryptography."""
    import base64
    import hashlib
    import json

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    body = {
        "v": 1,
        "seq": 7,
        "time": "2025-05-01T12:00:00.000000Z",
        "actor": "Zoë",
        "action": "copy",
        "inputs": [{"sha256": "1" * 64, "blake3": "2" * 64, "size": 5}],
        "outputs": [{"sha256": "1" * 64, "blake3": "2" * 64, "size": 5}],
        "details": {"purpose": "working copy"},
        "prev": "3" * 64,
    }

    def canon(value: object) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()

    signature = private.sign(b"tainik.org/custody/v1\n" + canon(body))
    line = canon({**body, "sig": base64.b64encode(signature).decode().rstrip("=")})
    assert len(base64.b64encode(signature).decode().rstrip("=")) == 86
    record = CustodyRecord.parse(line)
    assert record.signature_valid(VerifyKey(public))
    assert record.hash == hashlib.sha256(line).hexdigest()
    assert record.line() == line
    assert b'"actor":"Zo\\u00eb"' in line
