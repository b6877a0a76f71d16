"""``tainik init`` and ``tainik serve``: create and run a server instance."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from tainik.cli.context import Context
from tainik.crypto import Recipient
from tainik.instance import init_instance, load_config


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], ctx: Context) -> None:
    """Add ``init`` and ``serve``."""
    _ = ctx._
    init = commands.add_parser(
        "init",
        help=_("create a server instance folder"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Create an instance folder: settings (with the organisation's recipients: public\n"
            "keys only), an SQLite database in WAL mode, a folder for sealed files, and a\n"
            "per-instance secret salt for codenames. The private key never goes on the server."
        ),
        epilog=_("example:\n  tainik init --data /srv/tainik --recipient $(cat org.pub)"),
    )
    init.add_argument(
        "--data", required=True, type=Path, metavar="DIR", help=_("the instance folder to create")
    )
    init.add_argument(
        "--recipient",
        dest="recipients",
        action="append",
        required=True,
        metavar="RECIPIENT",
        help=_("an organisation recipient (age1...); repeat"),
    )
    init.set_defaults(run=run_init)
    serve = commands.add_parser(
        "serve",
        help=_("run the source and newsroom interfaces"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Serve the source interface and the newsroom interface on two listeners, each to\n"
            "be published as its own onion service. No access log is kept."
        ),
        epilog=_(
            "example:\n  tainik serve --data /srv/tainik --source-port 8080 --newsroom-port 8081"
        ),
    )
    serve.add_argument(
        "--data", required=True, type=Path, metavar="DIR", help=_("the instance folder")
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help=_("address to listen on (default: %(default)s)")
    )
    serve.add_argument(
        "--source-port",
        type=int,
        default=8080,
        metavar="PORT",
        help=_("source interface port (default: %(default)s)"),
    )
    serve.add_argument(
        "--newsroom-port",
        type=int,
        default=8081,
        metavar="PORT",
        help=_("newsroom interface port (default: %(default)s)"),
    )
    serve.set_defaults(run=run_serve)


def run_init(args: argparse.Namespace, ctx: Context) -> int:
    """Create the instance."""
    recipients = [Recipient.parse(text) for text in args.recipients]
    config = init_instance(args.data, recipients)
    from tainik.service.instance import Instance  # noqa: PLC0415 - heavy imports, only here
    from tainik.service.newsroom import key_change  # noqa: PLC0415

    instance = Instance.open(config)
    try:
        key_change.reconcile(instance)  # the keys it starts with, to tell a later hand edit
    finally:
        instance.close()
    ctx.say(ctx._("Created the instance in {path}.").format(path=args.data))
    return 0


def run_serve(args: argparse.Namespace, ctx: Context) -> int:
    """Run the server until interrupted."""
    from tainik.sealed.pool import default_jobs  # noqa: PLC0415 - heavy imports, only here
    from tainik.sealed.writer import SegmentWorkers  # noqa: PLC0415
    from tainik.server.app import serve  # noqa: PLC0415
    from tainik.service.instance import Instance  # noqa: PLC0415
    from tainik.service.maintenance import (  # noqa: PLC0415
        ServeLock,
        recover,
        run_housekeeping,
    )
    from tainik.service.newsroom import key_change  # noqa: PLC0415

    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = load_config(args.data)
    instance = Instance.open(config)
    lock = None
    try:
        lock = ServeLock(instance)
        recovered = recover(instance, lock)
        if (
            recovered.partials
            or recovered.orphans
            or recovered.expired_uploads
            or recovered.empty_sources
        ):
            logging.getLogger("tainik.server").info(
                "recovery: removed %d incomplete and %d unrecorded sealed files, "
                "%d expired uploads, %d sources with nothing",
                recovered.partials,
                recovered.orphans,
                recovered.expired_uploads,
                recovered.empty_sources,
            )
        if key_change.reconcile(instance):
            logging.getLogger("tainik.server").warning(
                "the organisation's recipients in tainik.toml differ from those last recorded: "
                "recorded in the audit log as a change, and announced to every staff member"
            )
        jobs = default_jobs()
        instance.segment_workers = SegmentWorkers(jobs, 2 * jobs + 2)
        stop = threading.Event()
        threading.Thread(target=run_housekeeping, args=(instance, stop), daemon=True).start()
        try:
            serve(instance, args.host, args.source_port, args.newsroom_port)
        finally:
            stop.set()
            instance.segment_workers.close()
    finally:
        if lock is not None:
            lock.release()
        instance.close()
    return 0
