"""Codenames come from the whole EFF list through the CSPRNG; designations say nothing of them."""

from __future__ import annotations

import secrets

import pytest

from tainik import crypto, wordlists
from tainik.core.codename import WORDS, normalize


def test_the_eff_list_is_whole() -> None:
    words = wordlists.eff_wordlist()
    assert len(words) == 7776
    assert len(set(words)) == 7776
    assert words[0] == "abacus"
    assert words[-1] == "zoom"
    assert {"t-shirt", "yo-yo", "yoyo"} <= set(words)
    assert wordlists.eff_wordlist() is words  # read once


def test_vocabulary_is_the_normalized_list() -> None:
    vocabulary = wordlists.vocabulary()
    assert len(vocabulary) == 7776
    assert "t shirt" in vocabulary
    assert "t-shirt" not in vocabulary
    assert vocabulary == {normalize(w) for w in wordlists.eff_wordlist()}


def test_generated_codenames_are_seven_list_words() -> None:
    words = set(wordlists.eff_wordlist())
    for rng in [None, secrets.SystemRandom()]:
        codename = wordlists.generate(rng)
        assert isinstance(codename, crypto.Secret)
        assert repr(codename) == str(codename) == "Secret('********')"
        parts = codename.reveal().split(" ")
        assert len(parts) == WORDS
        assert set(parts) <= words


def test_generations_differ() -> None:
    drawn = {wordlists.generate().reveal() for _ in range(50)}
    assert len(drawn) == 50


def test_generation_reaches_the_whole_list() -> None:
    # 7 * 4000 draws from 7776 entries: the first and last halves both show up.
    seen = set()
    for _ in range(4000):
        seen.update(wordlists.generate().reveal().split(" "))
    ordered = wordlists.eff_wordlist()
    assert seen & set(ordered[:3888])
    assert seen & set(ordered[3888:])
    assert len(seen) > 7000


def test_entropy() -> None:
    assert wordlists.entropy_bits() >= 90
    assert wordlists.entropy_bits() == pytest.approx(90.47, abs=0.01)


def test_designation_is_an_adjective_and_a_noun() -> None:
    for rng in [None, secrets.SystemRandom()]:
        adjective, noun = wordlists.designation(rng).split(" ")
        assert adjective.isalpha()
        assert noun.isalpha()
    assert len({wordlists.designation() for _ in range(50)}) > 40


# --- reading word lists -------------------------------------------------------------------------


def test_parse_plain_and_dice_numbered_lists() -> None:
    assert wordlists.parse_word_list("abacus\nzoom\n\n") == ("abacus", "zoom")
    assert wordlists.parse_word_list("11111\tabacus\r\n66666 zoom\n") == ("abacus", "zoom")


def test_parse_a_clear_signed_list() -> None:
    text = (
        "-----BEGIN PGP SIGNED MESSAGE-----\n"
        "Hash: SHA512\n"
        "\n"
        "11111\tabacus\n"
        "- drop-down\n"
        "-----BEGIN PGP SIGNATURE-----\n"
        "\n"
        "iQIzBAEBCgAdFiEE\n"
        "-----END PGP SIGNATURE-----\n"
    )
    assert wordlists.parse_word_list(text) == ("abacus", "drop-down")


@pytest.mark.parametrize(
    "text",
    [
        "two words\n",
        "Abacus\n",
        "abacus1\n",
        "11111 abacus extra\n",
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\nabacus\n",
    ],
)
def test_parse_rejects_what_is_not_a_list(text: str) -> None:
    with pytest.raises(ValueError, match=r"line|malformed"):
        wordlists.parse_word_list(text)
