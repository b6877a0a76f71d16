"""``tainik vault`` sub-commands that look at, clean, compare and hand out stored files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tainik.cli.context import Context
from tainik.cli.progress import CountLine
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
from tainik.core.errors import N_
from tainik.core.units import human_bytes
from tainik.sealed import pool
from tainik.workstation.vault.errors import VaultIntegrityError

# Each command imports the vault's modules when it runs (they load SQLAlchemy, PyAV, NumPy,
# bagit...), so that building the parser stays light.


def register(sub: Sub, ctx: Context) -> None:
    """Add info, scrub, copy, duplicates, export, check-bag and show."""
    _ = ctx._
    info = command(
        sub,
        "info",
        _("technical metadata of a stored file, with warnings"),
        _(
            "Show what PyAV (FFmpeg) and exiftool read in a stored file: container, codecs,\n"
            "duration, creation times, device tags, embedded GPS, frame side data; and warn\n"
            "about each tag that could identify the source. ITEM is an item number (as\n"
            "'vault list' shows it) or the start of a stored file's SHA-256. Burned-in text\n"
            "in the picture is not metadata and is not found."
        ),
        _(
            "examples:\n"
            "  tainik vault info evidence 12\n"
            "  tainik vault info evidence 3fa2c91b --all"
        ),
    )
    add_vault_argument(info, ctx)
    info.add_argument("item", metavar="ITEM", help=_("item number or SHA-256 prefix"))
    info.add_argument("--all", action="store_true", help=_("also print every tag"))
    info.add_argument("--json", action="store_true", help=_("print JSON instead of text"))
    info.set_defaults(run=run_info)

    scrub = command(
        sub,
        "scrub",
        _("make a metadata-free working copy of a stored file"),
        _(
            "Make a copy of ITEM without metadata: videos are fully re-encoded by ffmpeg (not\n"
            "remuxed, so no side data survives), documents, images and audio are cleaned by\n"
            "mat2. The result is checked with exiftool or mat2 and refused if anything beyond\n"
            "what the container needs is left. It is stored in the vault, recorded as derived\n"
            "from the original's hash, and copied to DIR as scrubbed-HASH.EXT. The original is\n"
            "never modified."
        ),
        _("example:\n  tainik vault scrub evidence 12 --out work/"),
    )
    add_vault_argument(scrub, ctx)
    scrub.add_argument("item", metavar="ITEM", help=_("item number or SHA-256 prefix"))
    scrub.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help=_("where to put the copy")
    )
    add_actor_argument(scrub, ctx)
    scrub.set_defaults(run=run_scrub)

    copy = command(
        sub,
        "copy",
        _("copy a stored original out, recorded"),
        _(
            "Copy the stored bytes of ITEM into DIR under its original name made safe (never\n"
            "over an existing file), check the copy's SHA-256, and record the copy."
        ),
        _("example:\n  tainik vault copy evidence 12 --out work/"),
    )
    add_vault_argument(copy, ctx)
    copy.add_argument("item", metavar="ITEM", help=_("item number or SHA-256 prefix"))
    copy.add_argument("--out", required=True, type=Path, metavar="DIR", help=_("where to copy"))
    add_actor_argument(copy, ctx)
    copy.set_defaults(run=run_copy)

    dup = command(
        sub,
        "duplicates",
        _("find exact and near-duplicate files"),
        _(
            "Report groups of duplicates: exact (the same bytes received more than once) and\n"
            "near (re-encoded, trimmed or rescaled copies of the same video, by vPDQ\n"
            "perceptual hashes, one a second). Hashes are computed once, on every core, and\n"
            "kept in the catalogue."
        ),
        _(
            "examples:\n"
            "  tainik vault duplicates evidence\n"
            "  tainik vault duplicates evidence --json"
        ),
    )
    add_vault_argument(dup, ctx)
    dup.add_argument("--json", action="store_true", help=_("print JSON instead of text"))
    add_jobs_argument(dup, ctx)
    dup.set_defaults(run=run_duplicates)

    exp = command(
        sub,
        "export",
        _("write a BagIt bag of stored files with their custody records"),
        _(
            "Write a BagIt bag (SHA-256 and SHA-512 manifests) at DIR holding the given files,\n"
            "named by their SHA-256, their custody records and the vault's public key, so that\n"
            "a partner or a court can check it with standard BagIt tools and the records with\n"
            "any Ed25519 verifier. The export is recorded in the custody log."
        ),
        _("example:\n  tainik vault export evidence 12 14 3fa2c91b --out bag-2025-05/"),
    )
    add_vault_argument(exp, ctx)
    exp.add_argument("items", nargs="+", metavar="ITEM", help=_("item numbers or SHA-256 prefixes"))
    exp.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help=_("the new bag's folder")
    )
    add_jobs_argument(exp, ctx)
    add_actor_argument(exp, ctx)
    exp.set_defaults(run=run_export)

    check = command(
        sub,
        "check-bag",
        _("check a bag made by 'vault export'"),
        _(
            "Validate a bag made by 'vault export': BagIt completeness and fixity, the\n"
            "signature of every custody record in it, and that every file in it is vouched\n"
            "for by an import or derive record. Needs no vault."
        ),
        _("example:\n  tainik vault check-bag bag-2025-05/"),
    )
    check.add_argument("bag", type=Path, metavar="BAG", help=_("the bag's folder"))
    add_jobs_argument(check, ctx)
    check.set_defaults(run=run_check_bag)

    view = command(
        sub,
        "show",
        _("write a static HTML view of the vault"),
        _(
            "Write an HTML view of the vault into DIR: sources, their threads in order, files\n"
            "with thumbnails, metadata, warnings and hashes. It opens in a browser without a\n"
            "server and runs no script. Thumbnails are blurred until pointed at, unless\n"
            "--no-blur is given."
        ),
        _("example:\n  tainik vault show evidence --out view/ && chromium view/index.html"),
    )
    add_vault_argument(view, ctx)
    view.add_argument("--out", required=True, type=Path, metavar="DIR", help=_("the view's folder"))
    view.add_argument("--no-blur", action="store_true", help=_("do not blur thumbnails"))
    add_jobs_argument(view, ctx)
    view.set_defaults(run=run_show)


def run_info(args: argparse.Namespace, ctx: Context) -> int:
    """Describe a stored file."""
    from tainik.workstation.vault import items as vault_items  # noqa: PLC0415
    from tainik.workstation.vault import media, show  # noqa: PLC0415
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415

    with Vault.open(args.vault) as vault:
        stored = vault_items.resolve(vault, args.item)
        info = media.describe(vault_items.path_of(vault, stored))
    if args.json:
        value = info.to_json()
        value["sha256"] = stored.ref.sha256
        value["blake3"] = stored.ref.blake3
        value["size"] = stored.ref.size
        json.dump(value, ctx.stdout, indent=2, ensure_ascii=False)
        ctx.stdout.write("\n")
        return 0
    out = ctx.stdout
    print(f"{printable(stored.display_name)}  ({human_bytes(stored.ref.size)})", file=out)
    print(f"  SHA-256 {stored.ref.sha256}\n  BLAKE3  {stored.ref.blake3}", file=out)
    if stored.derived_from:
        print(ctx._("  derived from {sha}").format(sha=stored.derived_from), file=out)
    for key in ("File:FileType", "File:MIMEType"):
        if key in info.tags:
            print(f"  {key.split(':')[1]}: {printable(str(info.tags[key]))}", file=out)
    if info.container is not None:
        print(f"  {ctx._('container')}: {show.summary(info.container)}", file=out)
        streams = info.container.get("streams")
        for entry in streams if isinstance(streams, list) else []:
            print(f"    {printable(json.dumps(entry, ensure_ascii=False))}", file=out)
    if info.warnings:
        print(
            ctx._("Could identify the source ({count}):").format(count=len(info.warnings)), file=out
        )
        for w in info.warnings:
            print(f"  [{ctx._(w.concern)}] {printable(w.tag)} = {printable(w.value)}", file=out)
    else:
        print(ctx._("No identifying tags found (burned-in text is not checked)."), file=out)
    if args.all:
        print(ctx._("All tags:"), file=out)
        for tag, tag_value in info.tags.items():
            if not media.is_local(tag):
                print(f"  {printable(tag)} = {printable(str(tag_value))[:300]}", file=out)
    return 0


def run_scrub(args: argparse.Namespace, ctx: Context) -> int:
    """Make a scrubbed working copy."""
    from tainik.workstation.vault import items as vault_items  # noqa: PLC0415
    from tainik.workstation.vault.derive import scrub_item  # noqa: PLC0415
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415

    with Vault.open(args.vault) as vault:
        stored = vault_items.resolve(vault, args.item)
        key = unlock(vault, ctx)
        with vault.writer(key, actor(args)) as writer:
            derived = scrub_item(writer, stored, args.out)
        say_head(vault, ctx)
    print(derived.working_copy, file=ctx.stdout)
    ctx.say(
        ctx._("Scrubbed with {tool}; stored as {sha}, recorded in custody record {seq}.").format(
            tool=derived.tool, sha=derived.derived.sha256[:16], seq=derived.record.seq
        )
    )
    return 0


def run_copy(args: argparse.Namespace, ctx: Context) -> int:
    """Copy a stored file out."""
    from tainik.workstation.vault import items as vault_items  # noqa: PLC0415
    from tainik.workstation.vault.derive import check_original, copy_item  # noqa: PLC0415
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415

    with Vault.open(args.vault) as vault:
        stored = vault_items.resolve(vault, args.item)
        key = unlock(vault, ctx)
        with vault.writer(key, actor(args)) as writer:
            check_original(writer, stored)
            path, record = copy_item(writer, stored, args.out)
        say_head(vault, ctx)
    print(path, file=ctx.stdout)
    ctx.say(ctx._("Recorded in custody record {seq}.").format(seq=record.seq))
    return 0


def run_duplicates(args: argparse.Namespace, ctx: Context) -> int:
    """Report duplicate groups."""
    from tainik.workstation.vault import duplicates  # noqa: PLC0415
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415

    with Vault.open(args.vault) as vault:
        bar = CountLine(ctx.stderr, ctx._("stored files hashed"), duplicates.count_originals(vault))
        try:
            groups = duplicates.find(vault, jobs=jobs(args.jobs) or pool.default_jobs(), tick=bar)
        finally:
            bar.close()
    if args.json:
        value = [
            {
                "kind": g.kind,
                "members": [
                    {
                        "sha256": m.sha256,
                        "similarity": round(m.similarity, 3),
                        "items": [i.id for i in m.items],
                    }
                    for m in g.members
                ],
            }
            for g in groups
        ]
        json.dump(value, ctx.stdout, indent=2)
        ctx.stdout.write("\n")
        return 0
    if not groups:
        print(ctx._("No duplicates."), file=ctx.stdout)
    for number, group in enumerate(groups, 1):
        label = ctx._("exact duplicates") if group.kind == "exact" else ctx._("near-duplicates")
        print(f"{ctx._('group')} {number}: {label}", file=ctx.stdout)
        for member in group.members:
            for item in member.items:
                print(
                    f"  #{item.id}  {member.sha256[:16]}  {member.similarity:5.0%}  "
                    f"{printable(item.display_name)}",
                    file=ctx.stdout,
                )
    return 0


def run_export(args: argparse.Namespace, ctx: Context) -> int:
    """Export a bag."""
    from tainik.workstation.vault import items as vault_items  # noqa: PLC0415
    from tainik.workstation.vault.derive import check_original  # noqa: PLC0415
    from tainik.workstation.vault.export import export  # noqa: PLC0415
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415

    with Vault.open(args.vault) as vault:
        stored = vault_items.resolve_all(vault, args.items)
        key = unlock(vault, ctx)
        with vault.writer(key, actor(args)) as writer:
            for one in stored:
                check_original(writer, one)
            bag = export(writer, stored, args.out, jobs=jobs(args.jobs) or 1)
        say_head(vault, ctx)
    print(bag.path, file=ctx.stdout)
    ctx.say(
        ctx._(
            "{files} file(s) and {records} custody record(s) in the bag; recorded as {seq}."
        ).format(files=bag.files, records=bag.records, seq=bag.record.seq)
    )
    return 0


def run_check_bag(args: argparse.Namespace, ctx: Context) -> int:
    """Check an exported bag."""
    from tainik.workstation.vault.export import check_bag  # noqa: PLC0415

    problems = check_bag(args.bag, jobs=jobs(args.jobs) or 1)
    for problem in problems:
        ctx.say(ctx._("problem: {message}").format(message=problem))
    if problems:
        raise VaultIntegrityError(
            N_("The bag failed its checks: {count} problem(s), listed above"), count=len(problems)
        )
    print(ctx._("OK: {path}").format(path=args.bag), file=ctx.stdout)
    return 0


def run_show(args: argparse.Namespace, ctx: Context) -> int:
    """Write the HTML view."""
    from tainik.workstation.vault import items as vault_items  # noqa: PLC0415
    from tainik.workstation.vault import show  # noqa: PLC0415
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415

    with Vault.open(args.vault) as vault:
        count = len([i for i in vault_items.all_items(vault) if i.kind.value == "file"])
        bar = CountLine(ctx.stderr, ctx._("files shown"), count)
        try:
            index = show.render(
                vault,
                args.out,
                blur=not args.no_blur,
                jobs=jobs(args.jobs) or pool.default_jobs(),
                tick=bar,
            )
        finally:
            bar.close()
    print(index, file=ctx.stdout)
    return 0
