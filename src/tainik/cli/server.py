"""``tainik init`` and ``tainik serve``: create and run a server instance."""

from __future__ import annotations

import argparse
import logging
import sys
import threading

from tainik.cli.context import Context
from tainik.config import InstanceConfig, init_instance, load_config
from tainik.core.errors import N_, UsageError
from tainik.crypto import Recipient
from tainik.sealed.pool import default_jobs
from tainik.sealed.writer import SegmentWorkers
from tainik.server import workers
from tainik.server.app import listen, serve_on
from tainik.service.instance import Instance
from tainik.service.maintenance import ServeLock, recover, run_housekeeping, run_lock_keeper
from tainik.service.newsroom import key_change


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
    (server/workers.py) while this one recovers, keeps house and replaces any that exits."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
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
    instance = Instance.open(config)
    lock = None
    try:
        lock = ServeLock.serving(instance)
        if lock.exclusive:
            _recover(instance, lock)
            lock.share()
        else:
            log.info(
                "other server processes serve this instance: recovery at start skipped "
                "(it runs when a server starts with none other serving)"
            )
        if key_change.reconcile(instance):
            log.warning(
                "the organisation's recipients in tainik.toml differ from those last recorded: "
                "recorded in the audit log as a change, and announced to every staff member"
            )
        sockets = listen(args.host, args.source_port, args.newsroom_port)
        stop = threading.Event()
        threading.Thread(target=run_housekeeping, args=(instance, stop), daemon=True).start()
        threading.Thread(target=run_lock_keeper, args=(lock, stop), daemon=True).start()
        try:
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
