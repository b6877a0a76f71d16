"""The organisation's profile: what is accepted, and the onion address down to its checksum."""

from __future__ import annotations

import pytest

from organisation_support import onion_address
from tainik.core.profile import (
    Profile,
    ProfileError,
    address_groups,
    parse_name,
    parse_onion_address,
    parse_public_pages,
    parse_welcome,
    profile_from,
)


def test_a_valid_v3_address_is_accepted_in_any_usual_form() -> None:
    address = onion_address()
    assert parse_onion_address(address) == address
    assert parse_onion_address(f"  http://{address.upper()}/ ") == address
    assert parse_onion_address("") == ""


@pytest.mark.parametrize("position", [0, 20, 51])
def test_a_typo_anywhere_in_the_address_is_refused(position: int) -> None:
    address = onion_address()
    swapped = "a" if address[position] != "a" else "b"
    typo = address[:position] + swapped + address[position + 1 :]
    with pytest.raises(ProfileError, match="checksum"):
        parse_onion_address(typo)


@pytest.mark.parametrize(
    "text",
    ["expyuzz4wqqyqhjn.onion", "example.org", "x" * 56 + ".onion", onion_address() + ".evil"],
)
def test_what_is_not_a_v3_address_is_refused(text: str) -> None:
    with pytest.raises(ProfileError):
        parse_onion_address(text)


def test_public_pages_must_be_https_or_onion_and_at_most_three() -> None:
    onion = onion_address()
    assert parse_public_pages("https://a.example/x\n\nhttps://a.example/x\n") == (
        "https://a.example/x",
    )
    assert parse_public_pages(f"http://{onion}/tips") == (f"http://{onion}/tips",)
    for bad in ("http://a.example/", "javascript:alert(1)", "https://a b.example/", "ftp://x.y"):
        with pytest.raises(ProfileError):
            parse_public_pages(bad)
    with pytest.raises(ProfileError, match="at most"):
        parse_public_pages("\n".join(f"https://a.example/{i}" for i in range(4)))


def test_names_and_welcome_texts_are_plain_text() -> None:
    assert parse_name("  Prison\n Watch\u200b\x07 ") == "Prison Watch"
    with pytest.raises(ProfileError):
        parse_name("x" * 81)
    text = "First\r\nline  \n\n\n\nSecond\u202e paragraph\x00"
    assert parse_welcome(text, "en") == "First\nline\n\nSecond paragraph"
    with pytest.raises(ProfileError, match="1000"):
        parse_welcome("x" * 1001, "ru")


def test_the_welcome_text_falls_back_to_the_other_language() -> None:
    profile = Profile(welcome={"en": "Hello", "ru": ""})
    assert profile.welcome_in("ru") == ("Hello", "en")
    assert profile.welcome_in("en") == ("Hello", "en")
    assert Profile().welcome_in("ru") == ("", "ru")


def test_addresses_are_grouped_by_four_for_comparing() -> None:
    address = onion_address()
    groups = address_groups(address)
    assert len(groups) == 15
    assert groups[-1] == ".onion"
    assert "".join(groups) == address


def test_the_toml_table_is_checked_when_loaded() -> None:
    with pytest.raises(ProfileError):
        profile_from({"recipients": [], "logo": "../../etc/passwd"})
    with pytest.raises(ProfileError):
        profile_from({"public_pages": "https://a.example/"})
    assert profile_from({"recipients": []}) == Profile(welcome={"en": "", "ru": ""})


def test_a_profile_can_be_hashed_like_the_configuration_it_is_part_of() -> None:
    assert hash(Profile(name="x", welcome={"en": "Hello"})) == hash(Profile(name="x"))
