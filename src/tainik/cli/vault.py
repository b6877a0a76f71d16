"""``tainik vault``: the offline evidence vault (docs/workstation.md).

Sub-commands init, import, verify, head and list, and what every command that changes a vault
shares (unlocking its key, saying its new head); the others are in ``vault_media``.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from tainik.cli.context import Context
from tainik.cli.keys import load_identities
from tainik.cli.passphrase import read_passphrase
from tainik.cli.progress import CountLine, ProgressLine
from tainik.cli.vault_options import actor, jobs, printable
from tainik.core.errors import N_, ExitCode, TainikError, UsageError
from tainik.core.manifest import Kind
from tainik.core.units import human_bytes
from tainik.workstation.signing import SigningKey
from tainik.workstation.vault import heads, keyfile, upgrade
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault.errors import VaultIntegrityError
from tainik.workstation.vault.events import ImportObserver, ImportResult, Progress
from tainik.workstation.vault.importer import Importer
from tainik.workstation.vault.vault import Vault
from tainik.workstation.vault.verify import current_head, verify

MAX_MESSAGE_SHOWN = 100_000


def unlock(vault: Vault, ctx: Context) -> SigningKey:
    """The vault's signing key, asking for its passphrase when it has one."""
    path = vault.paths.key_file
    passphrase = None
    if keyfile.needs_passphrase(path):
        passphrase = read_passphrase(
            ctx._("Passphrase for the vault key {path}: ").format(path=path)
        )
    return keyfile.load(path, passphrase)


def say_head(vault: Vault, ctx: Context) -> None:
    """After a change to the vault: the custody log's new head, to be kept outside it."""
    try:
        head = current_head(vault)
    except TainikError as error:
        ctx.say(ctx._("warning: {message}").format(message=error.message(ctx._)))
        return
    ctx.say(
        ctx._("custody log head {head}: keep it outside the vault ('tainik vault head')").format(
            head=head
        )
    )


# -- migrate --------------------------------------------------------------------------------------


def run_migrate(args: argparse.Namespace, ctx: Context) -> int:
    """Upgrade the vault's catalogue, the custody log recording it."""
    _ = ctx._
    with Vault.open(args.vault, upgrading=True) as vault:
        key = unlock(vault, ctx)
        with vault.writer(key, actor(args)) as writer:
            done = upgrade.upgrade(writer, datetime.now(UTC))
        if done.record is None:
            current = _(
                "Vault {path}: catalogue at revision {head}, this Tainik's newest; nothing to do."
            )
            ctx.say(current.format(path=args.vault, head=done.after))
            return ExitCode.OK
        ctx.say(_("Vault {path}: catalogue at {found}.").format(path=args.vault, found=done.before))
        ctx.say(_("Copied to {path} before upgrading.").format(path=done.backup))
        for what, doc in done.steps:
            ctx.say(_("  applied {what}: {doc}").format(what=what, doc=doc))
        ctx.say(
            _("Upgraded to revision {head}; custody record {seq} records it.").format(
                head=done.after, seq=done.record.seq
            )
        )
        say_head(vault, ctx)
    return ExitCode.OK


# -- init -----------------------------------------------------------------------------------------


def run_init(args: argparse.Namespace, ctx: Context) -> int:
    """Make a vault."""

    Vault.check_new_location(args.vault)  # before asking for any passphrase
    identities = load_identities(args.identity, ctx)
    key = SigningKey.generate()
    passphrase = None
    if not args.no_passphrase:
        passphrase = read_passphrase(
            ctx._("New passphrase for the vault key: "), ctx._("Repeat the passphrase: ")
        )
    vault = Vault.create(
        args.vault,
        key,
        keyfile.key_file_bytes(key, passphrase),
        actor=actor(args),
        recipients=[i.recipient.text for i in identities],
        identity_path=args.identity,
    )
    vault.close()
    print(key.verify_key.fingerprint, file=ctx.stdout)
    ctx.say(
        ctx._(
            "Made the vault {path}. Its key's fingerprint is {fingerprint}: keep a copy of it "
            "outside the vault."
        ).format(path=args.vault, fingerprint=key.verify_key.fingerprint)
    )
    return 0


# -- import ---------------------------------------------------------------------------------------


class _ImportLines(ImportObserver):
    """Prints one line per sealed file and progress for large ones."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._bar: ProgressLine | None = None
        self._files: CountLine | None = None
        self.counts = {"imported": 0, "present": 0, "failed": 0}

    def begin(self, count: int) -> None:
        self._files = CountLine(self._ctx.stderr, self._ctx._("sealed files"), count)

    def finish(self) -> None:
        if self._files is not None:
            self._files.close()

    def large_file(self, container: Path, size: int) -> Progress | None:
        self._bar = ProgressLine(self._ctx.stderr, container.name, size)
        return self._bar

    def large_file_done(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def result(self, result: ImportResult) -> None:
        self.counts[result.status] += 1
        if self._files is not None and result.status != "present":
            self._files(1)
        ctx = self._ctx
        if result.status == "failed":
            assert result.error is not None
            ctx.say(
                ctx._("{path}: not imported: {reason}").format(
                    path=result.container,
                    reason=result.error.message(ctx._),
                )
            )
            return
        label = ctx._("imported") if result.status == "imported" else ctx._("already in the vault")
        print(
            f"#{result.item_id}\t{(result.sha256 or '')[:16]}\t{label}\t{result.container}",
            file=ctx.stdout,
            flush=True,
        )
        if result.warning is not None:
            reason = result.warning.message(ctx._)
            ctx.say(ctx._("warning: {message}").format(message=f"{result.container}: {reason}"))


def run_import(args: argparse.Namespace, ctx: Context) -> int:
    """Import sealed files."""
    return import_into(args.vault, args.inputs, args.identity, jobs(args.jobs), actor(args), ctx)


def import_into(
    vault_path: Path,
    inputs: list[Path],
    identity: Path | None,
    job_count: int | None,
    actor_name: str,
    ctx: Context,
) -> int:
    """Import the sealed files in ``inputs`` into the vault at ``vault_path``, reporting as
    ``vault import`` does (``tainik pull --into-vault`` too); returns the exit code."""

    with Vault.open(vault_path) as vault:
        identity = identity or vault.identity_path()
        if identity is None:
            raise UsageError(N_("No identity file: give --identity"))
        identities = load_identities(identity, ctx)
        key = unlock(vault, ctx)
        lines = _ImportLines(ctx)
        with vault.writer(key, actor_name) as writer:
            importer = Importer(writer, identities, jobs=job_count, observer=lines)
            try:
                results = importer.run(inputs)
            finally:
                lines.finish()
        say_head(vault, ctx)
    ctx.say(
        ctx._("{imported} imported, {present} already in the vault, {failed} failed").format(
            **lines.counts
        )
    )
    errors = [r.error for r in results if r.error is not None]
    return errors[0].exit_code if errors else 0


# -- verify ---------------------------------------------------------------------------------------


def run_verify(args: argparse.Namespace, ctx: Context) -> int:
    """Verify a vault."""

    kept = [head for value in args.expect_head for head in heads.read(value)]
    with Vault.open(args.vault) as vault:
        total = vault_total_bytes(vault)
        bar = ProgressLine(ctx.stderr, ctx._("verifying"), total)
        try:
            report = verify(
                vault,
                expect_key=args.expect_key,
                expect_heads=kept,
                jobs=jobs(args.jobs) or os.cpu_count() or 1,
                progress=bar,
            )
        finally:
            bar.close()
    for warning in report.warnings:
        ctx.say(ctx._("warning: {message}").format(message=warning.message(ctx._)))
    for problem in report.problems:
        ctx.say(ctx._("problem: {message}").format(message=problem.message(ctx._)))
    if not report.ok:
        raise VaultIntegrityError(
            N_("The vault failed verification: {count} problem(s), listed above"),
            count=len(report.problems),
        )
    print(
        ctx._(
            "OK: {records} custody records, {files} stored files ({size}); "
            "vault key {key}; head {head}"
        ).format(
            records=report.records,
            files=report.files,
            size=human_bytes(report.bytes),
            key=report.key.fingerprint if report.key else "?",
            head=report.head_text,
        ),
        file=ctx.stdout,
    )
    return ExitCode.OK


# -- head -----------------------------------------------------------------------------------------


def run_head(args: argparse.Namespace, ctx: Context) -> int:
    """Print the vault's head."""

    with Vault.open(args.vault) as vault:
        head = current_head(vault)
    print(head, file=ctx.stdout, flush=True)
    return ExitCode.OK


def vault_total_bytes(vault: Vault) -> int:
    """The size of every stored file together."""

    return sum(
        item.ref.size for item in {i.ref.sha256: i for i in vault_items.all_items(vault)}.values()
    )


# -- list -----------------------------------------------------------------------------------------


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    """List threads."""

    with Vault.open(args.vault) as vault:
        threads = [(s, vault_items.thread(vault, s.id)) for s in vault_items.sources(vault)]
        if args.json:
            _list_json(vault, threads, ctx.stdout)
        else:
            _list_text(vault, threads, ctx)
    return 0


def message_text(vault: Vault, item: vault_items.Item) -> str:
    """The text of a message or reply (decoded leniently, cut at 100,000 characters)."""

    with vault_items.path_of(vault, item).open("rb") as handle:
        data = handle.read(MAX_MESSAGE_SHOWN * 4)
    return data.decode("utf-8", errors="replace")[:MAX_MESSAGE_SHOWN]


def _list_text(
    vault: Vault, threads: list[tuple[vault_items.Source, list[vault_items.Item]]], ctx: Context
) -> None:
    out = ctx.stdout
    for source, thread in threads:
        print(f"== {printable(source.designation)}  [{printable(source.key)}]", file=out)
        for item in thread:
            when = item.sent_at or "-"
            head = f"  #{item.id}  {when}  {item.kind.value:<7}  {human_bytes(item.ref.size):>9}"
            if item.kind == Kind.FILE:
                print(f"{head}  {printable(item.display_name)}  {item.ref.sha256[:16]}", file=out)
            else:
                print(head, file=out)
                for line in printable(message_text(vault, item)).splitlines() or [""]:
                    print(f"      | {line}", file=out)
        print(file=out)


def _list_json(
    vault: Vault, threads: list[tuple[vault_items.Source, list[vault_items.Item]]], out: TextIO
) -> None:
    value = [
        {
            "source": {"key": s.key, "designation": s.designation},
            "items": [
                {
                    "item": i.id,
                    "kind": i.kind.value,
                    "sent_at": i.sent_at,
                    "name": i.display_name,
                    "sha256": i.ref.sha256,
                    "blake3": i.ref.blake3,
                    "size": i.ref.size,
                    "sealed_id": i.sealed_id,
                    **({"text": message_text(vault, i)} if i.kind != Kind.FILE else {}),
                }
                for i in thread
            ],
        }
        for s, thread in threads
    ]
    json.dump(value, out, indent=2, ensure_ascii=False)
    out.write("\n")
