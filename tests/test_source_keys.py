"""Source keys from a codename (docs/codenames.md): the vectors, and the reference tools agree."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tainik import crypto, wordlists
from tainik.core.codename import normalize
from tainik.core.errors import NotARecipientError
from tainik.crypto import KdfParams, Secret, derive_source_keys

FAST = KdfParams.FAST_TEST_PARAMS
TYPED = "Legacy  T-Shirt oxygen ribbon unplug verdict zoom"
CANONICAL = "legacy t shirt oxygen ribbon unplug verdict zoom"
SALT = b"tainik.org/codenames/test-vector"


@dataclass(frozen=True)
class Vector:
    """One test vector of docs/codenames.md."""

    params: KdfParams
    out: str
    identity: str
    recipient: str


FAST_VECTOR = Vector(
    params=FAST,
    out="39507970e6315dddd3c391e7dc06caeea5b104fcae7102e53e76a2de212dfc62"
    "0dbf72d577134543c7c8cb0fb7ca847013cab1cdc68d1bf663d3551c94c26d20",
    identity="AGE-SECRET-KEY-1PKLH94THZDZ5837GEV8M0J5YWQFU4VWDC6X3HANR6D23E9XZD5SQXRHR43",
    recipient="age12nl44hwquxgh3gdglqf5t4sgnwk0kxhw2rcqrra2rgldl577x90qyamfxx",
)
DEFAULT_VECTOR = Vector(
    params=KdfParams(),
    out="e40936271b2da8a6a275e9c63ffb64c57bea941d4e606f8c6748ab6b349fa499"
    "4d6deba2f65b9ef9beb77f987c0b47b528bb331aa7eab435efb8521e80b06473",
    identity="AGE-SECRET-KEY-1F4K7HGHKTW00N04H07V8CZ68K55TKVC65L4TGD00HPFPAQ9SV3ESZRU6QL",
    recipient="age1p8mndjn22mtgrh30ac3eh74ya6wejcm343e8uea299z33d6pluss32nqnh",
)
DOC = Path(__file__).resolve().parents[1] / "docs" / "codenames.md"


@pytest.fixture(scope="module")
def argon2_cli() -> str:
    """The reference ``argon2`` command (the Makefile installs Debian's package)."""
    path = shutil.which("argon2")
    if path is None:
        pytest.fail("the argon2 CLI is missing: run 'make setup' (Debian package 'argon2')")
    return path


def reference_argon2id(cli: str, password: str, salt: bytes, params: KdfParams) -> bytes:
    """Argon2id with a 64-byte tag, computed by the reference command-line tool."""
    command: list[str | bytes] = [cli, salt, "-id", "-t", str(params.time_cost)]
    command += ["-k", str(params.memory_kib), "-p", str(params.parallelism), "-l", "64", "-r"]
    result = subprocess.run(
        command,
        input=password.encode("utf-8"),  # read as is: no newline is added or stripped
        capture_output=True,
        check=True,
        timeout=60,
    )
    return bytes.fromhex(result.stdout.decode("ascii").strip())


@pytest.mark.parametrize("vector", [FAST_VECTOR, DEFAULT_VECTOR], ids=["fast", "default"])
def test_vectors(vector: Vector) -> None:
    keys = derive_source_keys(Secret(TYPED), SALT, vector.params)
    assert keys.lookup.hex() == vector.out[:64]
    assert keys.identity.secret.reveal() == vector.identity
    assert keys.recipient.text == vector.recipient


def test_vectors_are_the_documented_ones() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert CANONICAL in doc
    assert SALT.decode() in doc
    for vector in [FAST_VECTOR, DEFAULT_VECTOR]:
        assert f"lookup    {vector.out[:64]}" in doc
        assert f"out       {vector.out[:64]}\n          {vector.out[64:]}" in doc
        assert f"identity  {vector.identity}" in doc
        assert f"recipient {vector.recipient}" in doc


@pytest.mark.parametrize("vector", [FAST_VECTOR, DEFAULT_VECTOR], ids=["fast", "default"])
def test_the_reference_argon2_agrees_with_the_vectors(argon2_cli: str, vector: Vector) -> None:
    assert normalize(TYPED) == CANONICAL
    assert reference_argon2id(argon2_cli, CANONICAL, SALT, vector.params).hex() == vector.out


def test_the_reference_argon2_agrees_on_fresh_codenames(argon2_cli: str) -> None:
    for _ in range(5):
        codename = wordlists.generate()
        salt = secrets.token_hex(16).encode("ascii")  # printable: it goes on a command line
        keys = derive_source_keys(codename, salt, FAST)
        reference = reference_argon2id(argon2_cli, normalize(codename.reveal()), salt, FAST)
        assert keys.lookup == reference[:32]
        assert keys.identity.secret.reveal() == (
            crypto.Identity.from_x25519_scalar(reference[32:]).secret.reveal()
        )


def test_the_stock_age_keygen_agrees_on_the_recipient(tmp_path: Path) -> None:
    keygen = shutil.which("age-keygen")
    if keygen is None:
        pytest.fail("age-keygen is missing: run 'make setup' (Debian package 'age')")
    key = tmp_path / "source.key"
    key.write_text(FAST_VECTOR.identity + "\n")
    result = subprocess.run([keygen, "-y", str(key)], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == FAST_VECTOR.recipient


def test_derivation_is_deterministic_and_normalized() -> None:
    a = derive_source_keys(Secret(CANONICAL), SALT, FAST)
    for typed in [TYPED, CANONICAL.upper(), f"  {CANONICAL.replace(' ', '-')}\n", CANONICAL]:
        b = derive_source_keys(Secret(typed), SALT, FAST)
        assert b.lookup == a.lookup
        assert b.recipient == a.recipient


def test_salt_codename_and_cost_each_change_both_keys() -> None:
    base = derive_source_keys(Secret(CANONICAL), SALT, FAST)
    other_codename = CANONICAL.replace("zoom", "zoology")
    variants = [
        derive_source_keys(Secret(CANONICAL), SALT[::-1], FAST),
        derive_source_keys(Secret(other_codename), SALT, FAST),
        derive_source_keys(Secret(CANONICAL), SALT, KdfParams(time_cost=2, memory_kib=1024)),
    ]
    for keys in variants:
        assert keys.lookup != base.lookup
        assert keys.recipient != base.recipient
    assert len({v.lookup for v in variants}) == len(variants)


def test_the_derived_identity_opens_replies_to_its_recipient() -> None:
    keys = derive_source_keys(wordlists.generate(), SALT, FAST)
    reply = crypto.encrypt(b"we got it, thank you", [keys.recipient])
    assert crypto.decrypt(reply, [keys.identity], what="reply") == b"we got it, thank you"
    other = derive_source_keys(wordlists.generate(), SALT, FAST)
    with pytest.raises(NotARecipientError):
        crypto.decrypt(reply, [other.identity], what="reply")


def test_source_keys_hide_their_secrets() -> None:
    keys = derive_source_keys(Secret(CANONICAL), SALT, FAST)
    for text in [repr(keys), str(keys)]:
        assert keys.lookup.hex() not in text
        assert str(keys.lookup) not in text
        assert "AGE-SECRET-KEY" not in text
        assert keys.recipient.text in text
    assert len(keys.lookup) == 32


def test_matches_compares_the_lookup() -> None:
    keys = derive_source_keys(Secret(CANONICAL), SALT, FAST)
    assert keys.matches(bytes.fromhex(FAST_VECTOR.out[:64]))
    assert not keys.matches(bytes(32))
    assert not keys.matches(keys.lookup[:31])


def test_short_salts_are_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        derive_source_keys(Secret(CANONICAL), b"x" * 15, FAST)
    derive_source_keys(Secret(CANONICAL), b"x" * 16, FAST)


@pytest.mark.parametrize(
    "kwargs",
    [{"time_cost": 0}, {"parallelism": 0}, {"memory_kib": 7}, {"memory_kib": 8, "parallelism": 2}],
)
def test_kdf_params_are_checked(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="Argon2id"):
        KdfParams(**kwargs)


def test_fast_params_are_cheap_and_defaults_are_documented() -> None:
    assert (FAST.time_cost, FAST.memory_kib, FAST.parallelism) == (1, 1024, 1)
    assert crypto.FAST_TEST_PARAMS is FAST
    assert KdfParams() == crypto.DEFAULT_KDF_PARAMS == KdfParams(3, 65536, 1)
