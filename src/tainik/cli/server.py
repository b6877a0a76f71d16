"""``tainik init`` and ``tainik serve``: create and run a server instance."""

from __future__ import annotations

import argparse
import logging
import sys
import threading

from tainik.cli.context import Context
from tainik.config import init_instance, load_config
from tainik.crypto import Recipient
from tainik.sealed.pool import default_jobs
from tainik.sealed.writer import SegmentWorkers
from tainik.server.app import serve
from tainik.service import onion
from tainik.service.instance import Instance
from tainik.service.maintenance import ServeLock, recover, run_housekeeping
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
    """Run the server until interrupted."""
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
        if recovered.missing:
            logging.getLogger("tainik.server").warning(
                "recovery: %d recorded sealed files are missing from the blob store",
                recovered.missing,
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
