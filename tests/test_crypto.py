from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from tainik import crypto
from tainik.core.errors import IdentityError, IntegrityError, NotARecipientError, UsageError


def test_encrypt_decrypt_and_wrong_identity(identity: crypto.Identity) -> None:
    ciphertext = crypto.encrypt(b"evidence", [identity.recipient])
    assert ciphertext.startswith(b"age-encryption.org/v1\n")
    assert crypto.decrypt(ciphertext, [identity], what="x") == b"evidence"
    with pytest.raises(NotARecipientError):
        crypto.decrypt(ciphertext, [crypto.Identity.generate()], what="x")


def test_tampered_payload_is_an_integrity_error(identity: crypto.Identity) -> None:
    ciphertext = bytearray(crypto.encrypt(b"evidence" * 100, [identity.recipient]))
    ciphertext[-3] ^= 1
    with pytest.raises(IntegrityError, match="corrupt or truncated"):
        crypto.decrypt(bytes(ciphertext), [identity], what="x")


def test_several_recipients_each_can_open() -> None:
    a, b = crypto.Identity.generate(), crypto.Identity.generate()
    ciphertext = crypto.encrypt(b"m", [a.recipient, b.recipient])
    assert crypto.decrypt(ciphertext, [b], what="x") == b"m"


def test_recipient_parsing() -> None:
    good = crypto.Identity.generate().recipient.text
    assert crypto.Recipient.parse(f"  {good}\n").text == good
    for bad in ["", "age1", "ssh-ed25519 AAAA", good[:-1] + ("q" if good[-1] != "q" else "p")]:
        with pytest.raises(UsageError):
            crypto.Recipient.parse(bad)


def test_secrets_hide_in_repr(identity: crypto.Identity) -> None:
    assert "AGE-SECRET-KEY" not in repr(identity)
    assert "AGE-SECRET-KEY" not in repr(identity.secret)
    assert "AGE-SECRET-KEY" not in str(identity.secret)
    assert identity.secret.reveal().startswith("AGE-SECRET-KEY-1")


def test_identity_file_round_trip(identity: crypto.Identity) -> None:
    text = crypto.identity_file_text(identity)
    assert f"# public key: {identity.recipient.text}" in text
    [loaded] = crypto.parse_identity_file(text.encode(), None)
    assert loaded.recipient == identity.recipient


def test_identity_file_says_when_in_the_one_utc_spelling(identity: crypto.Identity) -> None:
    moment = datetime(2026, 12, 6, 7, 57, 3, 250017, tzinfo=timezone(timedelta(hours=3)))
    text = crypto.identity_file_text(identity, moment)
    assert text.splitlines()[0] == "# created: 2026-12-06T04:57:03.250017Z"


def test_passphrase_protected_identity_file(identity: crypto.Identity) -> None:
    data = crypto.seal_identity_file(crypto.identity_file_text(identity), crypto.Secret("pw-123"))
    assert crypto.is_passphrase_protected(data)
    assert identity.secret.reveal().encode() not in data
    [loaded] = crypto.parse_identity_file(data, crypto.Secret("pw-123"))
    assert loaded.recipient == identity.recipient
    with pytest.raises(IdentityError, match=r"(?i)wrong passphrase"):
        crypto.parse_identity_file(data, crypto.Secret("wrong"))
    with pytest.raises(IdentityError, match="protected by a passphrase"):
        crypto.parse_identity_file(data, None)


@pytest.mark.parametrize(
    "data", [b"", b"# only a comment\n", b"\xff\xfe", b"AGE-SECRET-KEY-1XYZ\n"]
)
def test_bad_identity_files(data: bytes) -> None:
    with pytest.raises(IdentityError):
        crypto.parse_identity_file(data, None)


def test_identity_from_scalar_is_deterministic_and_works() -> None:
    scalar = hashlib.sha256(b"derived from a codename by a KDF").digest()
    first, second = (crypto.Identity.from_x25519_scalar(scalar) for _ in range(2))
    assert first.recipient == second.recipient
    ciphertext = crypto.encrypt(b"reply", [first.recipient])
    assert crypto.decrypt(ciphertext, [second], what="reply") == b"reply"
    other = crypto.Identity.from_x25519_scalar(hashlib.sha256(b"other").digest())
    assert other.recipient != first.recipient
