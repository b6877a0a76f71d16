"""The command line declared as data: each command is a :class:`Command` value, its options
:class:`Arg` values, and :func:`add_command` turns them into argparse parsers.

Declarations are plain values in light modules (``tainik.cli.syntax``), so building the whole
parser for ``tainik --help`` imports no command's code: a command names its code in the table
of ``tainik.cli.commands``, loaded only when it runs. Help texts are msgids (marked ``N_``),
translated when the parser is built for a language.

Options that set a field of a settings dataclass are declared with :func:`field_arg`, which takes
the default (and type) from the field, and read back with :func:`values_of`: the dataclass
stays the one place where a setting's default is written.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from tainik.cli.context import Context

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True)
class Arg:
    """One positional argument or option: argparse's ``add_argument``, its help a msgid."""

    flags: tuple[str, ...]
    help: str
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    """Options shown together under a title, or (``exclusive``) of which at most one is given
    (exactly one when ``required``)."""

    args: tuple[Arg, ...]
    title: str | None = None
    exclusive: bool = False
    required: bool = False


@dataclass(frozen=True)
class Command:
    """A command: its help texts (msgids), its arguments, and its sub-commands.

    A command runs the code the table in :mod:`tainik.cli.commands` names for its path ("vault
    import"), unless it needs a sub-command (``sub_required``) and so never runs itself.
    """

    name: str
    help: str
    description: str
    epilog: str
    args: tuple[Arg | Group, ...] = ()
    subcommands: tuple[Command, ...] = ()
    sub_metavar: str = "COMMAND"
    sub_required: bool = True

    @property
    def runs(self) -> bool:
        """Whether this command runs code of its own (else a sub-command does)."""
        return not (self.subcommands and self.sub_required)


def arg(*flags: str, help: str, **settings: Any) -> Arg:
    """An argument as ``add_argument(*flags, help=help, **settings)`` would add it."""
    return Arg(flags, help, settings)


def group(title: str, *args: Arg) -> Group:
    """Options listed under ``title`` (a msgid) in the help."""
    return Group(args, title=title)


def one_of(*args: Arg, required: bool = False) -> Group:
    """Options that exclude each other."""
    return Group(args, exclusive=True, required=required)


def field_arg(owner: type[Any], name: str, *flags: str, help: str, **settings: Any) -> Arg:
    """An option that sets field ``name`` of the dataclass ``owner``.

    Its default is the field's default, its type the default's type (``settings`` may say
    otherwise); :func:`values_of` reads it back. A metavar or choices must be given: the help
    never shows the internal destination name.
    """
    field = {f.name: f for f in dataclasses.fields(owner)}[name]
    if field.default is dataclasses.MISSING:
        raise TypeError(f"{owner.__name__}.{name} has no default to declare")
    if "metavar" not in settings and "choices" not in settings:
        raise TypeError(f"{flags[0]}: give a metavar or choices")
    default = field.default
    return Arg(
        flags,
        help,
        {"dest": _dest(owner, name), "default": default, "type": type(default), **settings},
    )


def values_of(owner: type[Any], args: argparse.Namespace) -> dict[str, Any]:
    """The values of ``owner``'s fields that options declared by :func:`field_arg` were given."""
    values = {}
    for field in dataclasses.fields(owner):
        dest = _dest(owner, field.name)
        if hasattr(args, dest):
            values[field.name] = getattr(args, dest)
    return values


def _dest(owner: type[Any], name: str) -> str:
    return f"{owner.__name__}.{name}"


def add_command(commands: Subparsers, command: Command, ctx: Context, parent: str = "") -> None:
    """Add ``command`` and its sub-commands, their help in ``ctx``'s language.

    Each command that runs gets its path ("vault import") as the ``run`` default, which the
    entry point looks up in the command table.
    """
    _ = ctx._
    path = f"{parent} {command.name}".strip()
    parser = commands.add_parser(
        command.name,
        help=_(command.help),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(command.description),
        epilog=_(command.epilog),
    )
    for item in command.args:
        if isinstance(item, Group):
            _add_group(parser, item, ctx)
        else:
            _add_arg(parser, item, ctx)
    if command.runs:
        parser.set_defaults(run=path)
    if command.subcommands:
        sub = parser.add_subparsers(
            dest=f"{command.name}_command",
            required=command.sub_required,
            metavar=command.sub_metavar,
        )
        for child in command.subcommands:
            add_command(sub, child, ctx, path)


def _add_group(parser: argparse.ArgumentParser, group: Group, ctx: Context) -> None:
    target: argparse._ActionsContainer
    if group.exclusive:
        target = parser.add_mutually_exclusive_group(required=group.required)
    else:
        target = parser.add_argument_group(ctx._(group.title) if group.title else None)
    for item in group.args:
        _add_arg(target, item, ctx)


def _add_arg(target: argparse._ActionsContainer, item: Arg, ctx: Context) -> None:
    target.add_argument(*item.flags, help=ctx._(item.help), **item.settings)
