"""``tainik init`` and ``tainik serve``: create and run a server instance."""

from __future__ import annotations

from pathlib import Path

from tainik.cli.declare import Command, arg
from tainik.core.errors import N_

INIT = Command(
    "init",
    help=N_("create a server instance folder"),
    description=N_(
        "Create an instance folder: settings (with the organisation's recipients: public\n"
        "keys only), an SQLite database in WAL mode, a folder for sealed files, and a\n"
        "per-instance secret salt for codenames. The private key never goes on the server."
    ),
    epilog=N_("example:\n  tainik init --data /srv/tainik --recipient $(cat org.pub)"),
    args=(
        arg(
            "--data",
            required=True,
            type=Path,
            metavar="DIR",
            help=N_("the instance folder to create"),
        ),
        arg(
            "--recipient",
            dest="recipients",
            action="append",
            required=True,
            metavar="RECIPIENT",
            help=N_("an organisation recipient (age1...); repeat"),
        ),
    ),
)

SERVE = Command(
    "serve",
    help=N_("run the source and newsroom interfaces"),
    description=N_(
        "Serve the source interface and the newsroom interface on two listeners. With\n"
        "[tor] enabled in tainik.toml, first start tor and publish each listener as its own\n"
        "onion service (the newsroom's behind client authorization, one key per staff\n"
        "member), and print both addresses; serve nothing if tor cannot. No access log is\n"
        "kept."
    ),
    epilog=N_(
        "example:\n  tainik serve --data /srv/tainik --source-port 8080 --newsroom-port 8081"
    ),
    args=(
        arg("--data", required=True, type=Path, metavar="DIR", help=N_("the instance folder")),
        arg("--host", default="127.0.0.1", help=N_("address to listen on (default: %(default)s)")),
        arg(
            "--source-port",
            type=int,
            default=8080,
            metavar="PORT",
            help=N_("source interface port (default: %(default)s)"),
        ),
        arg(
            "--newsroom-port",
            type=int,
            default=8081,
            metavar="PORT",
            help=N_("newsroom interface port (default: %(default)s)"),
        ),
        arg(
            "--workers",
            type=int,
            default=1,
            metavar="N",
            help=N_(
                "processes serving both interfaces, sharing the ports (default: %(default)s; "
                "about one per core)"
            ),
        ),
    ),
)

ONION = Command(
    "onion",
    help=N_("the instance's onion services"),
    description=N_("The onion services 'tainik serve' publishes when [tor] is enabled."),
    epilog=N_("example:\n  tainik onion show --data /srv/tainik"),
    sub_metavar="ACTION",
    subcommands=(
        Command(
            "show",
            help=N_("print the two onion addresses"),
            description=N_(
                "Print the onion addresses of the source interface and of the newsroom\n"
                "interface. They are made once, with [tor] enabled, and kept in the instance\n"
                "folder (DIR/tor/): they stay the same across restarts."
            ),
            epilog=N_("example:\n  tainik onion show --data /srv/tainik"),
            args=(
                arg(
                    "--data",
                    required=True,
                    type=Path,
                    metavar="DIR",
                    help=N_("the instance folder"),
                ),
            ),
        ),
    ),
)

MIGRATE = Command(
    "migrate",
    help=N_("upgrade an instance's database to this version of Tainik"),
    description=N_(
        "Upgrade the instance's database to the schema this version of Tainik needs, in one\n"
        "transaction, and say what was done. An SQLite database is first copied into\n"
        "DIR/backups/ (keep the copy until the upgraded instance is checked: it is the way\n"
        "back). Stop 'tainik serve' first; 'tainik serve' also upgrades at start, the same\n"
        "way. A database made by a newer Tainik is refused: nothing is ever downgraded.\n"
        "With PostgreSQL no copy is taken: make one with pg_dump before."
    ),
    epilog=N_("example:\n  tainik migrate --data /srv/tainik"),
    args=(arg("--data", required=True, type=Path, metavar="DIR", help=N_("the instance folder")),),
)
