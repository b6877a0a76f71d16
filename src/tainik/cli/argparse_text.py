"""argparse's own words ("usage:", "options", its error messages), in our catalogue.

argparse translates through the process-wide gettext functions (``gettext.gettext``), so
:func:`install` points the process's text domain at the ``tainik`` catalogue. The strings
below are argparse's msgids, listed so that ``pybabel extract`` carries them into
``tainik.pot`` and translators see them; tests/cli/test_argparse_text.py fails when the
running Python's argparse asks for a user-facing string that is not here (its wording changes
between Python versions). Strings that only a programmer misusing argparse would meet are
left out.
"""

from __future__ import annotations

import gettext

from tainik import i18n
from tainik.core.errors import N_


def ngettext(singular: str, plural: str, count: int) -> str:
    """Mark a plural for extraction only."""
    return singular if count == 1 else plural


MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("unrecognized arguments: %s"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("unexpected option string: %s"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
    N_("can't open '%(filename)s': %(error)s"),
)
PLURALS = (ngettext("expected %s argument", "expected %s arguments", 2),)


def install() -> None:
    """Make argparse speak the user's language (the process's text domain becomes ours)."""
    gettext.bindtextdomain(i18n.DOMAIN, str(i18n.LOCALE_DIR))
    gettext.textdomain(i18n.DOMAIN)
