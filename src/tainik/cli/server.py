"""``tainik init``, ``tainik serve`` and ``tainik migrate``: create, run and upgrade a server
instance."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import make_url

from tainik.cli.context import Context
from tainik.config import InstanceConfig, init_instance, load_config
from tainik.core.errors import N_, UsageError
from tainik.crypto import Recipient
from tainik.sealed.pool import default_jobs
from tainik.sealed.writer import SegmentWorkers
from tainik.server import logs, workers
from tainik.server.app import listen, published, serve_on
from tainik.service import onion
from tainik.service.instance import Instance
from tainik.service.maintenance import ServeLock, recover, run_housekeeping, run_lock_keeper
from tainik.service.newsroom import key_change
from tainik.service.schema_upgrade import upgrade_database
from tainik.storage import migrations
from tainik.storage.migrations import Found, Upgraded


def run_init(args: argparse.Namespace, ctx: Context) -> int:
    """Create the instance."""
    recipients = [Recipient.parse(text) for text in args.recipients]
    config = init_instance(args.data, recipients)
    instance = Instance.open(config)
    try:
        key_change.reconcile(instance)  # the keys it starts with, to tell a later hand edit
    finally:
        instance.close()
    ctx.say(ctx._("Created the instance in {path}.").format(path=args.data))
    return 0


def run_serve(args: argparse.Namespace, ctx: Context) -> int:
    """Run the server until interrupted: in this process, or in ``--workers`` processes
    (server/workers.py) while this one recovers, keeps house and replaces any that exits.

    The first server of an instance (no other serving it: the instance lock is free) upgrades
    the database, recovers and then shares the lock; one that starts beside others does
    neither, and its code must then be the database's revision (else it is refused)."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic says which dialect it drives at every start; our own upgrade lines say what
    # matters (what was found, copied and applied).
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if not 1 <= args.workers <= workers.MAX_WORKERS:
        raise UsageError(
            N_("The number of workers must be a whole number from 1 to {most}"),
            most=workers.MAX_WORKERS,
        )
    config = load_config(args.data)
    worker = workers.inherited()
    if worker is not None:
        return _serve_worker(config, worker)
    log = logging.getLogger("tainik.server")
    instance = Instance.open(config, upgrading=True)  # upgraded under the lock, below
    lock = None
    try:
        lock = ServeLock.serving(instance)
        if lock.exclusive:
            # Before anything reads the database (service/schema_upgrade.py says why).
            _upgrade(instance, lock, ctx, log=log.info)
            _recover(instance, lock)
            lock.share()
        else:
            # The first server upgraded it; this code must be at its revision to join.
            migrations.require_current(instance.engine)
            log.info(
                "other server processes serve this instance: upgrade and recovery at start "
                "skipped (they run when a server starts with none other serving)"
            )
        if key_change.reconcile(instance):
            log.warning(
                "the organisation's recipients in tainik.toml differ from those last recorded: "
                "recorded in the audit log as a change, and announced to every staff member"
            )
        sockets = listen(args.host, args.source_port, args.newsroom_port)
        logs.install()
        stop = threading.Event()
        threading.Thread(target=run_housekeeping, args=(instance, stop), daemon=True).start()
        threading.Thread(target=run_lock_keeper, args=(lock, stop), daemon=True).start()
        # Published once per host (the onion services): by this process, whatever the workers.
        try:
            with published(instance, args.host, sockets):
                if args.workers == 1:
                    jobs = default_jobs()
                    instance.segment_workers = SegmentWorkers(jobs, 2 * jobs + 2)
                    try:
                        serve_on(instance, sockets)
                    finally:
                        instance.segment_workers.close()
                else:
                    jobs = max(1, default_jobs() // args.workers)
                    workers.Supervisor(args.data, sockets, args.workers, jobs).run()
        finally:
            stop.set()
    finally:
        if lock is not None:
            lock.release()
        instance.close()
    return 0


def _recover(instance: Instance, lock: ServeLock) -> None:
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
    if recovered.missing:
        logging.getLogger("tainik.server").warning(
            "recovery: %d recorded sealed files are missing from the blob store",
            recovered.missing,
        )


def _serve_worker(config: InstanceConfig, worker: workers.WorkerSetup) -> int:
    """One worker of ``tainik serve --workers``: serve the inherited sockets (the parent holds
    the instance lock and keeps house)."""
    instance = Instance.open(config)
    try:
        instance.segment_workers = SegmentWorkers(worker.sealing_jobs, 2 * worker.sealing_jobs + 2)
        try:
            serve_on(instance, (worker.source_socket, worker.newsroom_socket), worker.orphaned)
        finally:
            instance.segment_workers.close()
    finally:
        instance.close()
    return 0


def run_onion_show(args: argparse.Namespace, ctx: Context) -> int:
    """Print both onion addresses (made now if Tor is enabled and they were not yet)."""
    config = load_config(args.data)
    addresses = onion.addresses(config)
    _ = ctx._
    if addresses is None:
        ctx.say(
            _(
                "No onion service: Tor is not enabled for this instance (set enabled = true "
                "in [tor] of tainik.toml, then run 'tainik serve')."
            )
        )
        return 1
    print(
        _("source onion:       http://{address}/").format(address=addresses.source), file=ctx.stdout
    )
    print(
        _("newsroom onion:     http://{address}/").format(address=addresses.newsroom),
        file=ctx.stdout,
    )
    if not config.tor.enabled:
        ctx.say(_("Tor is not enabled now: 'tainik serve' does not publish these."))
    return 0


def run_migrate(args: argparse.Namespace, ctx: Context) -> int:
    """Upgrade the instance's database, saying what was found, copied and applied."""
    instance = Instance.open(load_config(args.data), upgrading=True)
    try:
        lock = ServeLock(instance)
        try:
            _upgrade(instance, lock, ctx, log=ctx.say)
        finally:
            lock.release()
    finally:
        instance.close()
    return 0


def _upgrade(
    instance: Instance, lock: ServeLock, ctx: Context, *, log: Callable[[str], None]
) -> Upgraded:
    """Upgrade under ``lock``, telling ``log`` what was found, where it was copied, each step
    as it is done, and the outcome."""
    _ = ctx._
    url = make_url(instance.config.database_url).render_as_string(hide_password=True)

    def start(found: Found, backup: Path | None) -> None:
        if found.empty:
            return
        log(_("Database {url}: {found}.").format(url=url, found=_found(found, _)))
        if backup is not None:
            log(_("Copied to {path} before upgrading.").format(path=backup))
        else:
            log(_("No copy was taken (not SQLite): keep your own from before, such as a pg_dump."))

    def step(what: str, doc: str) -> None:
        log(_("  applied {what}: {doc}").format(what=what, doc=doc))

    upgraded = upgrade_database(instance, lock, now=datetime.now(UTC), on_start=start, on_step=step)
    if upgraded.before.empty:
        log(
            _("Database {url}: new, created at revision {head}.").format(
                url=url, head=upgraded.after
            )
        )
    elif not upgraded.changed:
        log(
            _("Database {url}: at revision {head}, this Tainik's newest; nothing to do.").format(
                url=url, head=upgraded.after
            )
        )
    else:
        log(_("Upgraded to revision {head}, this Tainik's newest.").format(head=upgraded.after))
    return upgraded


def _found(found: Found, _: Callable[[str], str]) -> str:
    """What a database records, in the user's language."""
    if found.revision is not None:
        return _("revision {revision}").format(revision=found.revision)
    if found.legacy_version is not None:
        return _("schema version {version}").format(version=found.legacy_version)
    return _("no tables")
