"""Translations: the template matches the code, and Russian covers all of it, correctly."""

from __future__ import annotations

import io
import re
import string
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tainik import i18n
from tainik.cli import reference
from tainik.cli.context import Context
from tainik.cli.main import build_parser, run
from tainik.core.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot"
RUSSIAN = i18n.LOCALE_DIR / "ru" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
CYRILLIC = re.compile("[\u0400-\u04ff]")  # the Cyrillic block
# printf-style directives: argparse expands help strings with %, so a stray % breaks --help.
PERCENT = re.compile(r"%(?:\([^)]*\))?[#0 +-]*\d*(?:\.\d+)?[a-zA-Z%]|%")


@dataclass(frozen=True)
class Entry:
    """One catalogue message; singular and plural parts as tuples."""

    ids: tuple[str, ...]
    strings: tuple[str, ...]
    fuzzy: bool


@dataclass(frozen=True)
class Catalogue:
    """A parsed .po or .pot file."""

    entries: dict[tuple[str, ...], Entry]
    fuzzy: bool


def read(path: Path) -> Catalogue:
    """The messages of a .po or .pot file, keyed by msgid (and msgid_plural)."""
    with path.open("rb") as file:
        catalog = read_po(file)
    entries: dict[tuple[str, ...], Entry] = {}
    for message in catalog:
        if not message.id:
            continue  # the header
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        entries[ids] = Entry(ids, tuple(str(t or "") for t in texts), bool(message.fuzzy))
    return Catalogue(entries, bool(catalog.fuzzy))


def brace_fields(text: str) -> set[str]:
    """The ``{name}`` fields that ``str.format`` fills in ``text``."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_template_matches_the_sources(tmp_path: Path) -> None:
    pybabel = Path(sys.executable).parent / "pybabel"
    fresh = tmp_path / "fresh.pot"
    # The same command as `make extract-messages`.
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "N_", "-k", "_",
         "--no-location", "--sort-output", "-o", str(fresh), "src/tainik"],
        cwd=ROOT,
        check=True,
    )  # fmt: skip
    expected = set(read(fresh).entries)
    committed = set(read(TEMPLATE).entries)
    assert committed == expected, (
        "src/tainik/locale/tainik.pot is out of date: run make extract-messages, then "
        f"translate what is new.\nmissing: {sorted(expected - committed)}\n"
        f"stale: {sorted(committed - expected)}"
    )


def test_every_message_has_a_russian_translation() -> None:
    russian = read(RUSSIAN)
    assert not russian.fuzzy, f"{RUSSIAN}: the catalogue header is marked fuzzy"
    problems = []
    for ids in read(TEMPLATE).entries:
        entry = russian.entries.get(ids)
        if entry is None:
            problems.append(f"missing (run make extract-messages): {ids[0]!r}")
        elif entry.fuzzy or not all(entry.strings):
            problems.append(f"untranslated or fuzzy: {ids[0]!r}")
    assert not problems, "\n".join(problems)


def test_russian_keeps_the_placeholders() -> None:
    problems = []
    for entry in read(RUSSIAN).entries.values():
        source = entry.ids[-1]  # with plurals, the translations follow msgid_plural
        for text in entry.strings:
            try:
                same_fields = brace_fields(text) == brace_fields(source)
            except ValueError as exc:  # an unbalanced brace
                problems.append(f"{text!r}: {exc}")
                continue
            if not same_fields or sorted(PERCENT.findall(text)) != sorted(PERCENT.findall(source)):
                problems.append(f"{source!r}\n  -> {text!r}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)


def test_compiled_catalogue_matches_the_po_file() -> None:
    translations = i18n.translations(["ru"])
    stale = [
        ids[0]
        for ids, entry in read(RUSSIAN).entries.items()
        if len(ids) == 1 and translations.gettext(ids[0]) != entry.strings[0]
    ]
    assert not stale, (
        f"the compiled Russian catalogue is missing or stale: run make catalogs\n{stale}"
    )


def test_cli_error_in_russian(tmp_path: Path) -> None:
    source = tmp_path / "evidence.txt"
    source.write_text("x")
    stdout, stderr = io.StringIO(), io.StringIO()
    ctx = Context(i18n.translations(["ru"]), stdout=stdout, stderr=stderr)

    code = run(["seal", str(source), "--to", "notakey", "--out", str(tmp_path / "out")], ctx)

    assert code == ExitCode.USAGE
    message = stderr.getvalue()
    assert "notakey" in message
    assert CYRILLIC.search(message), f"expected a Russian message, got {message!r}"
    assert stdout.getvalue() == ""


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_help_renders(language: str) -> None:
    # argparse %-formats help strings: a translation with a stray % would crash here.
    ctx = Context(i18n.translations([language]), stdout=io.StringIO(), stderr=io.StringIO())
    for parser in reference.commands(build_parser(ctx)):
        assert parser.format_help()


def test_sizes_are_said_in_each_language() -> None:
    """Sizes in CLDR's words and digits (decimal units, as the browser's Intl has them)."""
    cases = {
        0: ("0 bytes", "0 байт"),
        1: ("1 byte", "1 байт"),
        999: ("999 bytes", "999 байт"),
        1000: ("1.0 kB", "1,0 кБ"),
        999_949: ("999.9 kB", "999,9 кБ"),
        999_950: ("1.0 MB", "1,0 МБ"),
        10_485_760: ("10.5 MB", "10,5 МБ"),
        2_500_000_000_000: ("2.5 TB", "2,5 ТБ"),
        12_345 * 10**12: ("12,345.0 TB", "12 345,0 ТБ"),
    }
    for count, (english, russian) in cases.items():
        assert i18n.format_size(count, "en") == english
        assert i18n.format_size(count, "ru").replace("\u00a0", " ") == russian
