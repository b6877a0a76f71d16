"""Messages speak to a person: every translatable message starts with a capital, and the
Russian words are the ones a person would use."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

from tainik import i18n

SRC = Path(__file__).resolve().parents[1] / "src" / "tainik"
# Fragments, not sentences: the audit log's verbs follow a person's name ("alice logged in"),
# the triage report's labels and the account states sit in table cells, and argparse's own
# words are its own. Tor's reasons for failing follow "Tor could not reach HOST:".
FRAGMENTS = {
    "socks.py",
    "service/newsroom/audit.py",
    "service/newsroom/labels.py",
    "workstation/triage/report_html.py",
    "cli/argparse_text.py",
}
# Option help (argparse's convention: a lowercase phrase after the option's name).
HELP_TEXT = "cli/syntax/"


def marked_messages() -> list[tuple[str, int, str]]:
    """Every string literal marked with N_(...) (and _(...) in the server's error mapping)."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel in FRAGMENTS or rel.startswith(HELP_TEXT):
            continue
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
            if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)
        ]
        for i, token in enumerate(tokens[:-2]):
            marker = token.string == "N_" or (
                token.string == "_" and rel == "server/exception_handlers.py"
            )
            if marker and tokens[i + 1].string == "(" and tokens[i + 2].type == tokenize.STRING:
                literal = tokens[i + 2].string.lstrip("rbuRBUf").strip("\"'")
                found.append((rel, token.start[0], literal))
    return found


def test_error_messages_start_with_a_capital() -> None:
    messages = marked_messages()
    assert len(messages) > 150
    lowercase = [f"{rel}:{line}: {text[:50]}" for rel, line, text in messages if text[:1].islower()]
    assert not lowercase, "\n".join(lowercase)


def test_complete_is_not_in_stock() -> None:
    """An item whose every part is stored is "complete"; "в наличии" is what a shop says of
    goods on its shelves."""
    russian = i18n.translations(["ru"])
    assert russian.gettext("complete") == "получено полностью"
