"""``tainik vault``: the offline evidence vault (docs/workstation.md).

Sub-commands: init, import, verify, head, list, info, scrub, copy, duplicates, export, show.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tainik.cli import vault_media
from tainik.cli.context import Context
from tainik.cli.keys import load_identities
from tainik.cli.passphrase import read_passphrase
from tainik.cli.progress import CountLine, ProgressLine
from tainik.cli.vault_options import (
    Sub,
    actor,
    add_actor_argument,
    add_jobs_argument,
    add_vault_argument,
    command,
    jobs,
    printable,
    say_head,
    unlock,
)
from tainik.core.errors import N_, ExitCode, UsageError
from tainik.core.manifest import Kind
from tainik.core.units import human_bytes
from tainik.workstation.signing import SigningKey
from tainik.workstation.vault import keyfile
from tainik.workstation.vault.errors import VaultIntegrityError
from tainik.workstation.vault.events import ImportObserver, ImportResult, Progress

# The vault's modules load SQLAlchemy, PyAV, NumPy...: each command imports them when it runs,
# so that building the parser (every tainik command) stays light.
if TYPE_CHECKING:
    from tainik.workstation.vault import items as vault_items
    from tainik.workstation.vault.vault import Vault

MAX_MESSAGE_SHOWN = 100_000


def register(commands: Sub, ctx: Context) -> None:
    """Add ``vault`` and its sub-commands."""
    _ = ctx._
    vault = commands.add_parser(
        "vault",
        help=_("keep opened submissions as evidence, with a chain of custody"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "The evidence vault of the offline workstation: a folder with a catalogue, the\n"
            "originals stored once by their hashes, read-only, and a custody log signed with\n"
            "the vault's own Ed25519 key (see docs/workstation.md)."
        ),
        epilog=_(
            "examples:\n"
            "  tainik vault init evidence --identity org.key\n"
            "  tainik vault import evidence pulled/\n"
            "  tainik vault verify evidence"
        ),
    )
    sub = vault.add_subparsers(dest="vault_command", required=True, metavar="COMMAND")
    _add_init(sub, ctx)
    _add_import(sub, ctx)
    _add_verify(sub, ctx)
    _add_head(sub, ctx)
    _add_list(sub, ctx)
    vault_media.register(sub, ctx)


# -- init -----------------------------------------------------------------------------------------


def _add_init(sub: Sub, ctx: Context) -> None:
    _ = ctx._
    init = command(
        sub,
        "init",
        _("make a new vault"),
        _(
            "Make a vault in VAULT (a new or empty folder): a catalogue, a folder for the\n"
            "originals, and the vault's own Ed25519 signing key, protected by a passphrase\n"
            "(asked twice, or read from TAINIK_PASSPHRASE_FILE). The identity file is where\n"
            "'vault import' finds the organisation's key by default; its recipient is written\n"
            "into the first custody record. Prints the vault key's fingerprint: write it down\n"
            "somewhere else, and give it to 'vault verify --expect-key'."
        ),
        _("example:\n  tainik vault init evidence --identity org.key"),
    )
    add_vault_argument(init, ctx)
    init.add_argument(
        "--identity", "-i", required=True, type=Path, metavar="PATH", help=_("identity file")
    )
    init.add_argument(
        "--no-passphrase",
        action="store_true",
        help=_("leave the vault key unprotected (only for tests)"),
    )
    add_actor_argument(init, ctx)
    init.set_defaults(run=run_init)


def run_init(args: argparse.Namespace, ctx: Context) -> int:
    """Make a vault."""
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415 - heavy, see above

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


def _add_import(sub: Sub, ctx: Context) -> None:
    _ = ctx._
    imp = command(
        sub,
        "import",
        _("verify sealed files and store them in the vault"),
        _(
            "Open and verify every sealed file in the given folders (as 'tainik pull' leaves\n"
            "them) or sealed-file directories; store each original once under its SHA-256,\n"
            "read-only; file it in its source's thread; and sign an 'import' custody record.\n"
            "Nothing that fails verification enters. Sealed files already in the vault are\n"
            "skipped, so a re-run after an interruption finishes the work. Sealed files with\n"
            "no pull metadata go to the 'unsorted' thread."
        ),
        _(
            "examples:\n"
            "  tainik vault import evidence pulled/\n"
            "  tainik vault import evidence inbox/*.sealed --identity org.key --jobs 4"
        ),
    )
    add_vault_argument(imp, ctx)
    imp.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        metavar="PULLED_DIR_OR_SEALED",
        help=_("folders written by 'tainik pull', or sealed-file directories"),
    )
    imp.add_argument(
        "--identity",
        "-i",
        type=Path,
        default=None,
        metavar="PATH",
        help=_("identity file (default: the one given to 'vault init')"),
    )
    add_jobs_argument(imp, ctx)
    add_actor_argument(imp, ctx)
    imp.set_defaults(run=run_import)


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
    from tainik.workstation.vault.importer import Importer  # noqa: PLC0415
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415

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


def _add_verify(sub: Sub, ctx: Context) -> None:
    _ = ctx._
    ver = command(
        sub,
        "verify",
        _("check the custody log, the vault key and every stored file"),
        _(
            "Check that the custody log is complete and in order, that every record and the\n"
            "signed head verify with the vault key, that the key is the one the log started\n"
            "with, that the catalogue agrees with the log, and that every stored file still\n"
            "has its SHA-256 and BLAKE3. Each problem is named; the exit code is 4 if there is\n"
            "any. Needs no passphrase."
        ),
        _(
            "examples:\n"
            "  tainik vault verify evidence\n"
            "  tainik vault verify evidence --expect-key SHA256:...  # from a note kept elsewhere\n"
            "  tainik vault verify evidence --expect-head /media/usb/evidence-heads.txt"
        ),
    )
    add_vault_argument(ver, ctx)
    ver.add_argument(
        "--expect-key",
        metavar="FINGERPRINT",
        default=None,
        help=_("fail unless the vault key has this fingerprint (as 'vault init' printed it)"),
    )
    ver.add_argument(
        "--expect-head",
        metavar="HEAD",
        action="append",
        default=[],
        help=_(
            "fail unless the custody log still holds this head, COUNT:HASH as 'vault head' "
            "printed it, kept outside the vault (or a file with one head a line: every one is "
            "checked); may be repeated"
        ),
    )
    add_jobs_argument(ver, ctx)
    ver.set_defaults(run=run_verify)


def run_verify(args: argparse.Namespace, ctx: Context) -> int:
    """Verify a vault."""
    from tainik.workstation.vault import heads  # noqa: PLC0415
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415
    from tainik.workstation.vault.verify import verify  # noqa: PLC0415

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


def _add_head(sub: Sub, ctx: Context) -> None:
    _ = ctx._
    head = command(
        sub,
        "head",
        _("print the custody log's head, to keep outside the vault"),
        _(
            "Print the head of the custody log, COUNT:HASH: the number of records and the\n"
            "SHA-256 of the last one, after checking that it is the head the vault signed.\n"
            "Keep every head outside the vault (printed, sent to a colleague, appended to a\n"
            "file on another medium) after each import, redaction or publication: an older\n"
            "copy of the vault, log and signed head included, passes every other check, and\n"
            "only 'vault verify --expect-head' with a head kept outside shows the records\n"
            "cut off since. Needs no passphrase."
        ),
        _(
            "examples:\n"
            "  tainik vault head evidence\n"
            "  tainik vault head evidence >> /media/usb/evidence-heads.txt"
        ),
    )
    add_vault_argument(head, ctx)
    head.set_defaults(run=run_head)


def run_head(args: argparse.Namespace, ctx: Context) -> int:
    """Print the vault's head."""
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415
    from tainik.workstation.vault.verify import current_head  # noqa: PLC0415

    with Vault.open(args.vault) as vault:
        head = current_head(vault)
    print(head, file=ctx.stdout, flush=True)
    return ExitCode.OK


def vault_total_bytes(vault: Vault) -> int:
    """The size of every stored file together."""
    from tainik.workstation.vault import items as vault_items  # noqa: PLC0415

    return sum(
        item.ref.size for item in {i.ref.sha256: i for i in vault_items.all_items(vault)}.values()
    )


# -- list -----------------------------------------------------------------------------------------


def _add_list(sub: Sub, ctx: Context) -> None:
    _ = ctx._
    lst = command(
        sub,
        "list",
        _("show sources and their threads"),
        _(
            "Print each source's thread in order: messages and replies with their text, and\n"
            "files with their item number, size, name and SHA-256. Item numbers are what the\n"
            "other sub-commands take as ITEM."
        ),
        _("examples:\n  tainik vault list evidence\n  tainik vault list evidence --json"),
    )
    add_vault_argument(lst, ctx)
    lst.add_argument("--json", action="store_true", help=_("print JSON instead of text"))
    lst.set_defaults(run=run_list)


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    """List threads."""
    from tainik.workstation.vault import items as vault_items  # noqa: PLC0415
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415

    with Vault.open(args.vault) as vault:
        threads = [(s, vault_items.thread(vault, s.id)) for s in vault_items.sources(vault)]
        if args.json:
            _list_json(vault, threads, ctx.stdout)
        else:
            _list_text(vault, threads, ctx)
    return 0


def message_text(vault: Vault, item: vault_items.Item) -> str:
    """The text of a message or reply (decoded leniently, cut at 100,000 characters)."""
    from tainik.workstation.vault import items as vault_items  # noqa: PLC0415

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
