"""Addresses typed by people are checked without ever raising."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tainik.core.urls import is_url

WEB = ("http", "https")


@pytest.mark.parametrize(
    "text",
    [
        "http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvw.onion",
        "https://news.example.org/",
        "http://127.0.0.1:8080",
        "http://[::1]:8080/path",
    ],
)
def test_good_addresses(text: str) -> None:
    assert is_url(text, WEB)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc.onion",
        "ftp://abc.onion",
        "http://",
        "http:///path",
        "http://[::1",
        "http://abc.onion:99999",
        "http://abc.onion:port",
        "socks5h://127.0.0.1:9050",
    ],
)
def test_bad_addresses(text: str) -> None:
    assert not is_url(text, WEB)


def test_proxy_schemes_are_the_callers_choice() -> None:
    assert is_url("socks5h://127.0.0.1:9050", ("socks5", "socks5h"))


@given(st.text())
def test_never_raises(text: str) -> None:
    assert is_url(text, WEB) in (True, False)
