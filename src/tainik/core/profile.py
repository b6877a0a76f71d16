"""What sources see of the organisation: its name, welcome text, logo, and where to check the
address (docs/organisation.md).

A drop box that says only "Tainik" could be anybody's, and a fake one would look the same. The
organisation names itself, greets sources in their language, and tells them how to check the
onion address against the one it publishes elsewhere. Name and logo can be copied by a fake, so
the check page says so; only the address proves anything, which is why an onion address typed
here is checked down to its checksum: a typo published on the organisation's own site would
send sources elsewhere.

Pure: parsing and checking of the values, no I/O (the logo's bytes are the service's).
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tainik.core.errors import N_, UsageError

LANGUAGES = ("en", "ru")
MAX_NAME_CHARS = 80
MAX_WELCOME_CHARS = 1000
MAX_PUBLIC_PAGES = 3
MAX_URL_CHARS = 300
LOGO_MEDIA_TYPES = {"logo.png": "image/png", "logo.jpg": "image/jpeg", "logo.webp": "image/webp"}
ONION_V3_CHARS = 56
_ONION = re.compile(r"[a-z2-7]{56}\.onion")
_URL = re.compile(r"(?:https://[^\s/?#]+\.[^\s/?#]+|http://[a-z2-7]{56}\.onion)(?:[/?#]\S*)?")


class ProfileError(UsageError):
    """A value of the organisation's profile that is not allowed."""

    template = N_("{setting}: this value is not allowed")


@dataclass(frozen=True)
class Profile:
    """The organisation as sources see it (every field may be empty: then Tainik's defaults)."""

    name: str = ""
    welcome: Mapping[str, str] = field(default_factory=dict, hash=False)  # language -> text
    onion_address: str = ""  # the source interface's own v3 address, "….onion"
    public_pages: tuple[str, ...] = ()  # the organisation's pages that list that address
    logo: str = ""  # one of LOGO_MEDIA_TYPES' file names in the instance folder, or ""

    def welcome_in(self, language: str) -> tuple[str, str]:
        """(text, its language): the welcome text in ``language``, else in another one."""
        if self.welcome.get(language):
            return self.welcome[language], language
        for other in LANGUAGES:
            if self.welcome.get(other):
                return self.welcome[other], other
        return "", language

    def onion_groups(self) -> list[str]:
        """The address in groups of four characters, for comparing it by eye."""
        return address_groups(self.onion_address)


def address_groups(address: str) -> list[str]:
    """``abcdefgh….onion`` as ``["abcd", "efgh", …, ".onion"]``."""
    stem, dot, tld = address.rpartition(".")
    if not dot:
        return [address] if address else []
    return [stem[i : i + 4] for i in range(0, len(stem), 4)] + [f".{tld}"]


def _plain(text: str, setting: str, limit: int, *, lines: bool) -> str:
    """``text`` normalised (NFC, no control or format characters but line breaks)."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = "".join(
        c
        for c in text
        if (lines and c == "\n") or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    if lines:
        kept = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in kept.split("\n")))
    kept = kept.strip()
    if len(kept) > limit:
        raise ProfileError(
            N_("{setting}: at most {limit} characters, please"), setting=setting, limit=limit
        )
    return kept


def parse_name(text: str) -> str:
    """The organisation's name: one line, at most 80 characters (may be empty)."""
    return _plain(" ".join(text.split()), "name", MAX_NAME_CHARS, lines=False)


def parse_welcome(text: str, language: str) -> str:
    """A welcome text: plain text, paragraphs apart by an empty line, at most 1,000 characters."""
    return _plain(text, f"welcome_{language}", MAX_WELCOME_CHARS, lines=True)


def parse_onion_address(text: str) -> str:
    """A v3 onion address (``http://`` and a final ``/`` allowed), checked down to its
    checksum and version (Tor's rend-spec: base32 of key, SHA3-256 checksum, version 3)."""
    value = text.strip().lower()
    value = value.removeprefix("http://").removeprefix("https://").rstrip("/")
    if not value:
        return ""
    if not _ONION.fullmatch(value):
        raise ProfileError(
            N_("{setting}: a v3 onion address has 56 letters and digits before .onion"),
            setting="onion_address",
        )
    raw = base64.b32decode(value[:ONION_V3_CHARS].upper())
    key, checksum, version = raw[:32], raw[32:34], raw[34:]
    expected = hashlib.sha3_256(b".onion checksum" + key + version).digest()[:2]
    if version != b"\x03" or checksum != expected:
        raise ProfileError(
            N_(
                "{setting}: this is not a valid v3 onion address (its checksum does not match):"
                " check it for a typing mistake"
            ),
            setting="onion_address",
        )
    return value


def parse_public_pages(text: str | Iterable[str]) -> tuple[str, ...]:
    """One to three addresses (``https://…``, or ``http://….onion``) of the organisation's own
    pages that list its onion address; one a line."""
    items = text.splitlines() if isinstance(text, str) else list(text)
    listed = [item.strip() for item in items if item.strip()]
    if len(listed) > MAX_PUBLIC_PAGES:
        raise ProfileError(
            N_("{setting}: at most {limit} addresses, one a line"),
            setting="public_pages",
            limit=MAX_PUBLIC_PAGES,
        )
    for url in listed:
        if len(url) > MAX_URL_CHARS or not url.isprintable() or not _URL.fullmatch(url):
            raise ProfileError(
                N_(
                    "{setting}: each address must start with https:// (or be an http:// onion"
                    " address) and have at most {limit} characters"
                ),
                setting="public_pages",
                limit=MAX_URL_CHARS,
            )
    return tuple(dict.fromkeys(listed))


def parse_logo(name: str) -> str:
    """The logo's file name as the configuration names it: one of the names Tainik writes."""
    if name and name not in LOGO_MEDIA_TYPES:
        raise ProfileError(N_("{setting}: this value is not allowed"), setting="logo")
    return name


def profile_from(table: Mapping[str, object]) -> Profile:
    """The profile kept in the ``[organisation]`` table of ``tainik.toml`` (checked)."""
    pages = table.get("public_pages", [])
    if not isinstance(pages, list):
        raise ProfileError(N_("{setting}: this value is not allowed"), setting="public_pages")
    return Profile(
        name=parse_name(str(table.get("name", ""))),
        welcome={
            language: parse_welcome(str(table.get(f"welcome_{language}", "")), language)
            for language in LANGUAGES
        },
        onion_address=parse_onion_address(str(table.get("onion_address", ""))),
        public_pages=parse_public_pages(str(p) for p in pages),
        logo=parse_logo(str(table.get("logo", ""))),
    )
