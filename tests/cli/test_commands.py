"""The command table and the declarations name the same commands, and each runs a function."""

from __future__ import annotations

import argparse
import gettext
import inspect
import io

from tainik.cli import commands, reference
from tainik.cli.context import Context
from tainik.cli.main import build_parser


def declared_runs() -> list[str]:
    """The ``run`` default of every command parser that has one (the command paths)."""
    ctx = Context(gettext.NullTranslations(), stdout=io.StringIO(), stderr=io.StringIO())
    runs = []
    for parser in reference.commands(build_parser(ctx)):
        default = parser.get_default("run")
        if default is not None:
            assert parser.prog == f"tainik {default}"
            runs.append(default)
    return runs


def test_every_declared_command_is_in_the_table_and_nothing_else() -> None:
    runs = declared_runs()
    assert len(runs) == len(set(runs))
    assert set(runs) == set(commands.COMMANDS)


def test_every_entry_loads_a_command_function() -> None:
    for name in commands.COMMANDS:
        run = commands.load(name)
        assert callable(run), name
        assert list(inspect.signature(run).parameters) == ["args", "ctx"], name


def test_a_command_with_sub_commands_runs_only_when_it_may_stand_alone() -> None:
    ctx = Context(gettext.NullTranslations(), stdout=io.StringIO(), stderr=io.StringIO())
    parser = build_parser(ctx)
    assert parser.parse_args(["pull", "--out", "x"]).run == "pull"
    assert parser.parse_args(["pull", "login", "--server", "u", "--user", "n"]).run == "pull login"
    assert isinstance(parser.parse_args(["vault", "head", "v"]), argparse.Namespace)
    assert parser.parse_args(["vault", "head", "v"]).run == "vault head"
