"""``tainik vault`` sub-commands that look at, clean, compare and hand out stored files."""

from __future__ import annotations

import argparse
import json

from tainik.cli.context import Context
from tainik.cli.progress import CountLine
from tainik.cli.vault import say_head, unlock
from tainik.cli.vault_options import actor, jobs, printable
from tainik.core.errors import N_
from tainik.core.units import human_bytes
from tainik.sealed import pool
from tainik.workstation.vault import duplicates, media, show
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault.derive import check_original, copy_item, scrub_item
from tainik.workstation.vault.errors import VaultIntegrityError
from tainik.workstation.vault.export import check_bag, export
from tainik.workstation.vault.vault import Vault


def run_info(args: argparse.Namespace, ctx: Context) -> int:
    """Describe a stored file."""

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
