"""``tainik publish``, ``tainik verify-publication`` and ``tainik open-commitment``
(docs/redaction.md, "Provenance" and "What publication commits to")."""

from __future__ import annotations

from pathlib import Path

from tainik.cli.declare import Command, arg
from tainik.cli.syntax.vault import ACTOR, VAULT
from tainik.core.errors import N_

PUBLISH = Command(
    "publish",
    help=N_("sign a redacted file for publication, with its provenance"),
    description=N_(
        "Write ITEM, a redacted copy stored in VAULT by 'tainik redact --vault', into DIR\n"
        "with a C2PA manifest signed by a certificate from the vault's own certificate\n"
        "authority. The manifest records the redaction and names the original only by a\n"
        "salted commitment: nobody can test a copy of the original against it, and the\n"
        "organisation can open it to a court ('tainik open-commitment'). Beside it:\n"
        "NAME.provenance.json (signed hashes) and ca.pem, the CA certificate verifiers\n"
        "trust. The CA is made on first use (--organisation names it). The publication,\n"
        "with the commitment's secret salt, is recorded in the custody log."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik vault copy evidence 12 --out work/\n"
        "  tainik redact work/cam3.mp4 --out work/cam3-public.mp4 --vault evidence\n"
        "  tainik publish evidence 5d41402abc4b2a76 --out public/ --organisation 'Our NGO'"
    ),
    args=(
        VAULT,
        arg("item", metavar="ITEM", help=N_("the redacted copy: a SHA-256 prefix")),
        arg(
            "--out", required=True, type=Path, metavar="DIR", help=N_("folder for the publication")
        ),
        arg(
            "--organisation",
            default="Tainik organisation",
            metavar="NAME",
            help=N_("the organisation named in a new CA (default: %(default)s)"),
        ),
        ACTOR,
    ),
)

VERIFY_PUBLICATION = Command(
    "verify-publication",
    help=N_("check a published file's manifest, signature and integrity"),
    description=N_(
        "Check that FILE carries a valid C2PA manifest, signed by a certificate issued by\n"
        "the CA in --trust, that FILE is unaltered, and print the commitment to the\n"
        "original it claims to derive from. FILE.provenance.json, when present, is checked\n"
        "too: it covers every byte of FILE. Without --trust the signer is not checked.\n"
        "With --opening (what 'tainik open-commitment' printed), check that it opens the\n"
        "commitment and print the original's SHA-256; with --original too, check that\n"
        "file is that original."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik verify-publication public/published-5d41402abc4b2a76.mp4 --trust ca.pem\n"
        "  tainik verify-publication video.mp4 --trust ca.pem --sidecar video.json\n"
        "  tainik verify-publication video.mp4 --trust ca.pem --opening opening.json \\\n"
        "      --original cam3.mp4"
    ),
    args=(
        arg("file", type=Path, metavar="FILE", help=N_("the published file")),
        arg("--trust", type=Path, metavar="CA.pem", help=N_("the publisher's CA certificate")),
        arg(
            "--sidecar",
            type=Path,
            metavar="JSON",
            help=N_("the signed sidecar (default: FILE.provenance.json if present)"),
        ),
        arg(
            "--opening",
            type=Path,
            metavar="JSON",
            help=N_("the opening of the commitment to the original, from 'tainik open-commitment'"),
        ),
        arg(
            "--original",
            type=Path,
            metavar="PATH",
            help=N_("the original file, to check against the opening (needs --opening)"),
        ),
    ),
)

OPEN_COMMITMENT = Command(
    "open-commitment",
    help=N_("reveal which original a publication derives from (for a court)"),
    description=N_(
        "Print the opening of the commitment to the original that PUBLISHED carries: the\n"
        "salt kept in VAULT's custody record of the publication and the original's\n"
        "SHA-256, as JSON. With it, 'tainik verify-publication --opening' (or anyone, by\n"
        "the recipe in docs/redaction.md) can check that the publication derives from that\n"
        "original. Whoever holds an opening can confirm that original: give it only to\n"
        "those who may know it. PUBLISHED is the published file, or its commitment (at\n"
        "least 16 hexadecimal digits). Needs no passphrase."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik open-commitment evidence public/published-5d41402abc4b2a76.mp4 "
        "--out opening.json\n"
        "  tainik open-commitment evidence 5d41402abc4b2a76"
    ),
    args=(
        VAULT,
        arg(
            "published",
            metavar="PUBLISHED",
            help=N_("the published file, or the start of its commitment"),
        ),
        arg(
            "--out",
            type=Path,
            metavar="FILE",
            help=N_("write the opening to FILE (never replaced) instead of printing it"),
        ),
    ),
)
