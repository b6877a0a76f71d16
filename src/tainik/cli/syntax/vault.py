"""``tainik vault``: the offline evidence vault (docs/workstation.md), and the options that
every command using a vault shares."""

from __future__ import annotations

from pathlib import Path

from tainik.cli.declare import Command, arg
from tainik.core.errors import N_

VAULT = arg("vault", type=Path, metavar="VAULT", help=N_("the vault folder"))
ACTOR = arg(
    "--actor",
    metavar="NAME",
    default=None,
    help=N_(
        "who does this, as the custody log records it (default: $TAINIK_ACTOR, else the login name)"
    ),
)
JOBS = arg(
    "--jobs",
    type=int,
    default=None,
    metavar="N",
    help=N_("worker processes (default: one per core)"),
)
ITEM = arg("item", metavar="ITEM", help=N_("item number or SHA-256 prefix"))
JSON = arg("--json", action="store_true", help=N_("print JSON instead of text"))

INIT = Command(
    "init",
    help=N_("make a new vault"),
    description=N_(
        "Make a vault in VAULT (a new or empty folder): a catalogue, a folder for the\n"
        "originals, and the vault's own Ed25519 signing key, protected by a passphrase\n"
        "(asked twice, or read from TAINIK_PASSPHRASE_FILE). The identity file is where\n"
        "'vault import' finds the organisation's key by default; its recipient is written\n"
        "into the first custody record. Prints the vault key's fingerprint: write it down\n"
        "somewhere else, and give it to 'vault verify --expect-key'."
    ),
    epilog=N_("example:\n  tainik vault init evidence --identity org.key"),
    args=(
        VAULT,
        arg("--identity", "-i", required=True, type=Path, metavar="PATH", help=N_("identity file")),
        arg(
            "--no-passphrase",
            action="store_true",
            help=N_("leave the vault key unprotected (only for tests)"),
        ),
        ACTOR,
    ),
)

IMPORT = Command(
    "import",
    help=N_("verify sealed files and store them in the vault"),
    description=N_(
        "Open and verify every sealed file in the given folders (as 'tainik pull' leaves\n"
        "them) or sealed-file directories; store each original once under its SHA-256,\n"
        "read-only; file it in its source's thread; and sign an 'import' custody record.\n"
        "Nothing that fails verification enters. Sealed files already in the vault are\n"
        "skipped, so a re-run after an interruption finishes the work. Sealed files with\n"
        "no pull metadata go to the 'unsorted' thread."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik vault import evidence pulled/\n"
        "  tainik vault import evidence inbox/*.sealed --identity org.key --jobs 4"
    ),
    args=(
        VAULT,
        arg(
            "inputs",
            nargs="+",
            type=Path,
            metavar="PULLED_DIR_OR_SEALED",
            help=N_("folders written by 'tainik pull', or sealed-file directories"),
        ),
        arg(
            "--identity",
            "-i",
            type=Path,
            default=None,
            metavar="PATH",
            help=N_("identity file (default: the one given to 'vault init')"),
        ),
        JOBS,
        ACTOR,
    ),
)

ACQUIRE = Command(
    "acquire",
    help=N_("take in a drive's files, or its image, with a forensic record"),
    description=N_(
        "Read PATH (a mounted folder, a raw disk image file or a block device) into the\n"
        "vault as a thread of its own. For a folder, every file is read once, read-only\n"
        "and without changing its access time where the system allows: its path, size,\n"
        "mode, modification, change and birth times, SHA-256 and BLAKE3 are recorded;\n"
        "links are recorded, never followed. An image or device is read once, in order,\n"
        "and stored whole. Unreadable files are listed with their error, and files that\n"
        "change while read are reported, not stored. The acquisition manifest is stored\n"
        "as an original, and a signed 'acquire' custody record names it, with --from,\n"
        "--note, the counts and the bytes. If it is interrupted, the same command run\n"
        "again finishes it without reading again what was stored."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik vault acquire evidence /media/usb --from 'courier, envelope 14'\n"
        "  tainik vault acquire evidence stick.img --from 'R.' --note 'SanDisk 32 GB, serial "
        "on photo 3'"
    ),
    args=(
        VAULT,
        arg(
            "path",
            type=Path,
            metavar="PATH",
            help=N_("a mounted folder, a raw disk image file, or a block device"),
        ),
        arg(
            "--from",
            dest="from_text",
            required=True,
            metavar="TEXT",
            help=N_(
                "who handed the medium over, or how it arrived (recorded and signed; "
                "a designation, not a source's name)"
            ),
        ),
        arg(
            "--note",
            default="",
            metavar="TEXT",
            help=N_("what else the record should say (the medium's make, a photo's number)"),
        ),
        ACTOR,
    ),
)

VERIFY = Command(
    "verify",
    help=N_("check the custody log, the vault key and every stored file"),
    description=N_(
        "Check that the custody log is complete and in order, that every record and the\n"
        "signed head verify with the vault key, that the key is the one the log started\n"
        "with, that the catalogue agrees with the log, and that every stored file still\n"
        "has its SHA-256 and BLAKE3. Each problem is named; the exit code is 4 if there is\n"
        "any. Needs no passphrase."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik vault verify evidence\n"
        "  tainik vault verify evidence --expect-key SHA256:...  # from a note kept elsewhere\n"
        "  tainik vault verify evidence --expect-head /media/usb/evidence-heads.txt"
    ),
    args=(
        VAULT,
        arg(
            "--expect-key",
            metavar="FINGERPRINT",
            default=None,
            help=N_("fail unless the vault key has this fingerprint (as 'vault init' printed it)"),
        ),
        arg(
            "--expect-head",
            metavar="HEAD",
            action="append",
            default=[],
            help=N_(
                "fail unless the custody log still holds this head, COUNT:HASH as 'vault head' "
                "printed it, kept outside the vault (or a file with one head a line: every one "
                "is checked); may be repeated"
            ),
        ),
        JOBS,
    ),
)

HEAD = Command(
    "head",
    help=N_("print the custody log's head, to keep outside the vault"),
    description=N_(
        "Print the head of the custody log, COUNT:HASH: the number of records and the\n"
        "SHA-256 of the last one, after checking that it is the head the vault signed.\n"
        "Keep every head outside the vault (printed, sent to a colleague, appended to a\n"
        "file on another medium) after each import, redaction or publication: an older\n"
        "copy of the vault, log and signed head included, passes every other check, and\n"
        "only 'vault verify --expect-head' with a head kept outside shows the records\n"
        "cut off since. Needs no passphrase."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik vault head evidence\n"
        "  tainik vault head evidence >> /media/usb/evidence-heads.txt"
    ),
    args=(VAULT,),
)

LIST = Command(
    "list",
    help=N_("show sources and their threads"),
    description=N_(
        "Print each source's thread in order: messages and replies with their text, and\n"
        "files with their item number, size, name and SHA-256. Item numbers are what the\n"
        "other sub-commands take as ITEM."
    ),
    epilog=N_("examples:\n  tainik vault list evidence\n  tainik vault list evidence --json"),
    args=(VAULT, JSON),
)

INFO = Command(
    "info",
    help=N_("technical metadata of a stored file, with warnings"),
    description=N_(
        "Show what PyAV (FFmpeg) and exiftool read in a stored file: container, codecs,\n"
        "duration, creation times, device tags, embedded GPS, frame side data; and warn\n"
        "about each tag that could identify the source. ITEM is an item number (as\n"
        "'vault list' shows it) or the start of a stored file's SHA-256. Burned-in text\n"
        "in the picture is not metadata and is not found."
    ),
    epilog=N_(
        "examples:\n  tainik vault info evidence 12\n  tainik vault info evidence 3fa2c91b --all"
    ),
    args=(VAULT, ITEM, arg("--all", action="store_true", help=N_("also print every tag")), JSON),
)

SCRUB = Command(
    "scrub",
    help=N_("make a metadata-free working copy of a stored file"),
    description=N_(
        "Make a copy of ITEM without metadata: videos are fully re-encoded by ffmpeg (not\n"
        "remuxed, so no side data survives), documents, images and audio are cleaned by\n"
        "mat2. The result is checked with exiftool or mat2 and refused if anything beyond\n"
        "what the container needs is left. It is stored in the vault, recorded as derived\n"
        "from the original's hash, and copied to DIR as scrubbed-HASH.EXT. The original is\n"
        "never modified."
    ),
    epilog=N_("example:\n  tainik vault scrub evidence 12 --out work/"),
    args=(
        VAULT,
        ITEM,
        arg("--out", required=True, type=Path, metavar="DIR", help=N_("where to put the copy")),
        ACTOR,
    ),
)

COPY = Command(
    "copy",
    help=N_("copy a stored original out, recorded"),
    description=N_(
        "Copy the stored bytes of ITEM into DIR under its original name made safe (never\n"
        "over an existing file), check the copy's SHA-256, and record the copy."
    ),
    epilog=N_("example:\n  tainik vault copy evidence 12 --out work/"),
    args=(
        VAULT,
        ITEM,
        arg("--out", required=True, type=Path, metavar="DIR", help=N_("where to copy")),
        ACTOR,
    ),
)

DUPLICATES = Command(
    "duplicates",
    help=N_("find exact and near-duplicate files"),
    description=N_(
        "Report groups of duplicates: exact (the same bytes received more than once) and\n"
        "near (re-encoded, trimmed or rescaled copies of the same video, by vPDQ\n"
        "perceptual hashes, one a second). Hashes are computed once, on every core, and\n"
        "kept in the catalogue."
    ),
    epilog=N_(
        "examples:\n  tainik vault duplicates evidence\n  tainik vault duplicates evidence --json"
    ),
    args=(VAULT, JSON, JOBS),
)

EXPORT = Command(
    "export",
    help=N_("write a BagIt bag of stored files with their custody records"),
    description=N_(
        "Write a BagIt bag (SHA-256 and SHA-512 manifests) at DIR holding the given files,\n"
        "named by their SHA-256, their custody records and the vault's public key, so that\n"
        "a partner or a court can check it with standard BagIt tools and the records with\n"
        "any Ed25519 verifier. The export is recorded in the custody log."
    ),
    epilog=N_("example:\n  tainik vault export evidence 12 14 3fa2c91b --out bag-2025-05/"),
    args=(
        VAULT,
        arg("items", nargs="+", metavar="ITEM", help=N_("item numbers or SHA-256 prefixes")),
        arg("--out", required=True, type=Path, metavar="DIR", help=N_("the new bag's folder")),
        JOBS,
        ACTOR,
    ),
)

CHECK_BAG = Command(
    "check-bag",
    help=N_("check a bag made by 'vault export'"),
    description=N_(
        "Validate a bag made by 'vault export': BagIt completeness and fixity, the\n"
        "signature of every custody record in it, and that every file in it is vouched\n"
        "for by an import or derive record. Needs no vault."
    ),
    epilog=N_("example:\n  tainik vault check-bag bag-2025-05/"),
    args=(arg("bag", type=Path, metavar="BAG", help=N_("the bag's folder")), JOBS),
)

SHOW = Command(
    "show",
    help=N_("write a static HTML view of the vault"),
    description=N_(
        "Write an HTML view of the vault into DIR: sources, their threads in order, files\n"
        "with thumbnails, metadata, warnings and hashes. It opens in a browser without a\n"
        "server and runs no script. Thumbnails are blurred until pointed at, unless\n"
        "--no-blur is given."
    ),
    epilog=N_("example:\n  tainik vault show evidence --out view/ && chromium view/index.html"),
    args=(
        VAULT,
        arg("--out", required=True, type=Path, metavar="DIR", help=N_("the view's folder")),
        arg("--no-blur", action="store_true", help=N_("do not blur thumbnails")),
        JOBS,
    ),
)

MIGRATE = Command(
    "migrate",
    help=N_("upgrade a vault's catalogue to this version of Tainik"),
    description=N_(
        "Upgrade the vault's catalogue to the schema this version of Tainik needs, in one\n"
        "transaction with a signed 'vault.migrate' custody record that names the revisions\n"
        "and a copy of the catalogue from before, kept in VAULT/backups/ (its SHA-256 is in\n"
        "the record). Needs the vault key. Every other command refuses a catalogue that is\n"
        "older or newer than this version; nothing is ever downgraded."
    ),
    epilog=N_("example:\n  tainik vault migrate evidence"),
    args=(VAULT, ACTOR),
)

VAULT_COMMAND = Command(
    "vault",
    help=N_("keep opened submissions as evidence, with a chain of custody"),
    description=N_(
        "The evidence vault of the offline workstation: a folder with a catalogue, the\n"
        "originals stored once by their hashes, read-only, and a custody log signed with\n"
        "the vault's own Ed25519 key (see docs/workstation.md)."
    ),
    epilog=N_(
        "examples:\n"
        "  tainik vault init evidence --identity org.key\n"
        "  tainik vault import evidence pulled/\n"
        "  tainik vault acquire evidence /media/usb --from 'courier'\n"
        "  tainik vault verify evidence"
    ),
    subcommands=(
        INIT,
        IMPORT,
        ACQUIRE,
        VERIFY,
        HEAD,
        LIST,
        INFO,
        SCRUB,
        COPY,
        DUPLICATES,
        EXPORT,
        CHECK_BAG,
        SHOW,
        MIGRATE,
    ),
)
