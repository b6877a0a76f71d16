"""Typed codenames: normalization forgives what hands do, checking refuses what is not one."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tainik import wordlists
from tainik.core.codename import MAX_CHARS, WORDS, check_words, normalize, split
from tainik.core.errors import CodenameError, ExitCode, UsageError

SEPARATORS = " \t\n-_.\u00a0\u2014\u2212\u3000"
CASINGS = [str.lower, str.upper, str.title, str.capitalize, str.swapcase]

entries = st.sampled_from(wordlists.eff_wordlist())
separator_runs = st.text(alphabet=SEPARATORS, min_size=1, max_size=4)


@st.composite
def typed_codenames(draw: st.DrawFn) -> tuple[list[str], str]:
    """Seven list entries, and how a source might type them: any case, any separators."""
    words = draw(st.lists(entries, min_size=WORDS, max_size=WORDS))
    typed = draw(st.text(alphabet=SEPARATORS, max_size=3))
    for word in words:
        typed += draw(st.sampled_from(CASINGS))(word) + draw(separator_runs)
    return words, typed


def canonical(words: list[str]) -> str:
    return " ".join(word.replace("-", " ") for word in words)


@given(st.text())
@example("İ\u0323")
@example("a-\u0301")
@example("\ufb01 \u2160")
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == once.strip(" ")
    assert "  " not in once


@given(st.text(alphabet=SEPARATORS + "abcXYZ"))
def test_normalized_text_keeps_only_single_spaces_between_tokens(text: str) -> None:
    normalized = normalize(text)
    assert not set(normalized) & set(SEPARATORS.replace(" ", ""))
    assert normalized == " ".join(split(text))
    assert all(split(text))


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ -_."))
def test_normalize_ignores_case_and_separator_choice(text: str) -> None:
    assert normalize(text.upper()) == normalize(text.lower()) == normalize(text)
    assert normalize(text.replace(" ", " \t ")) == normalize(text)
    assert normalize(f"  {text}--") == normalize(text)


@given(typed_codenames())
def test_a_typed_codename_normalizes_to_its_canonical_form_and_checks(
    typed: tuple[list[str], str],
) -> None:
    words, text = typed
    assert normalize(text) == canonical(words)
    check_words(text, wordlists.vocabulary())


def test_normalize_examples() -> None:
    assert normalize("  Legacy  T-Shirt oxygen_ribbon.unplug\tverdict ZOOM\n") == (
        "legacy t shirt oxygen ribbon unplug verdict zoom"
    )
    assert normalize("\uff21\uff22\uff21\uff23\uff35\uff33") == "abacus"  # fullwidth letters (NFKC)
    assert normalize("") == ""
    assert normalize(" - _ . ") == ""
    assert split(" - ") == []
    assert split("Drop-Down  zoom") == ["drop", "down", "zoom"]


def test_generated_codenames_check() -> None:
    vocabulary = wordlists.vocabulary()
    for _ in range(200):
        check_words(wordlists.generate().reveal(), vocabulary)


def test_hyphenated_entries_check_however_they_are_typed() -> None:
    vocabulary = wordlists.vocabulary()
    rest = "abacus zoom abide ability"
    for hyphenated in [
        "t-shirt yo-yo drop-down",
        "T Shirt yo_yo drop.down",
        "t-shirt yoyo felt-tip",
    ]:
        check_words(f"{hyphenated} {rest}", vocabulary)
    with pytest.raises(CodenameError):
        check_words(f"tshirt yoyo felt-tip {rest}", vocabulary)  # "tshirt" is no entry


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abacus zoom abide ability ablaze able",  # 6 words
        "abacus zoom abide ability ablaze able abnormal abrasion",  # 8 words
        "abacus zoom abide ability ablaze able tainik",  # an unknown word
        "abacus zoom abide ability ablaze able t",  # half of "t-shirt"
        "abacus zoom abide ability ablaze able shirt t",
        "abacuszoom abide ability ablaze able abnormal abrasion",
        "abacus,zoom,abide,ability,ablaze,able,abnormal",  # commas are not separators
        "abacus zoom abide ability ablaze able abnormal" + " " * MAX_CHARS,
    ],
)
def test_check_words_rejects(text: str) -> None:
    with pytest.raises(CodenameError) as caught:
        check_words(text, wordlists.vocabulary())
    error = caught.value
    assert isinstance(error, UsageError)
    assert error.exit_code == ExitCode.USAGE
    assert error.english() == (
        f"That is not a valid codename: it should be {WORDS} words from the codename list"
    )


def test_check_words_never_repeats_the_text() -> None:
    secretish = "abacus zoom abide ability ablaze able abnormalx"
    with pytest.raises(CodenameError) as caught:
        check_words(secretish, wordlists.vocabulary())
    assert "abnormalx" not in str(caught.value)
    assert "abacus" not in repr(caught.value)


@given(st.text(max_size=600))
def test_check_words_raises_only_codename_errors(text: str) -> None:
    try:
        check_words(text, wordlists.vocabulary())
    except CodenameError:
        return
    assert len(split(text)) in range(WORDS, 2 * WORDS + 1)


def test_many_tokens_are_refused_quickly() -> None:
    with pytest.raises(CodenameError):
        check_words("t " * 250, wordlists.vocabulary())
