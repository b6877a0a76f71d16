"""The files and folders of a vault (docs/workstation.md, "Vault layout")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CATALOGUE = "catalogue.sqlite"
KEY_FILE = "vault.key"
PUBLIC_KEY_FILE = "vault.pub"
OBJECTS = "objects"
STAGING = "staging"
JOURNAL = "journal"
LOCK = "lock"
BACKUPS = "backups"  # copies of the catalogue taken before each upgrade (vault migrate)
README = "README.txt"
HASH_DIR = "sha256"
CA_DIR = "ca"  # the publication CA (tainik.workstation.publish.castore), made on first use

_HEX64 = re.compile(r"[0-9a-f]{64}")

README_TEXT = """\
This folder is a Tainik evidence vault. Do not change anything in it by hand.

  catalogue.sqlite   sources, threads, items and the signed custody log
  vault.key          the vault's Ed25519 signing key (passphrase-protected)
  vault.pub          its public key (ed25519:...)
  objects/sha256/    every original, once, named by its SHA-256, read-only
  ca/                the certificate authority that signs publications (if any)
  journal/           acquisitions in progress (resumed by running the same command again)

Check it with:  tainik vault verify THIS_FOLDER
"""


def is_sha256_hex(text: str) -> bool:
    """True for 64 lowercase hexadecimal characters."""
    return _HEX64.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class VaultPaths:
    """Where each part of the vault at ``root`` lives."""

    root: Path

    @property
    def catalogue(self) -> Path:
        """The SQLite catalogue."""
        return self.root / CATALOGUE

    @property
    def key_file(self) -> Path:
        """The (protected) signing key."""
        return self.root / KEY_FILE

    @property
    def public_key_file(self) -> Path:
        """The public key, ``ed25519:BASE64``."""
        return self.root / PUBLIC_KEY_FILE

    @property
    def objects(self) -> Path:
        """The content-addressed store."""
        return self.root / OBJECTS / HASH_DIR

    @property
    def staging(self) -> Path:
        """Where imports write plaintext while it is verified (same file system)."""
        return self.root / STAGING

    @property
    def journal(self) -> Path:
        """Journals of acquisitions in progress (``vault acquire``), removed when complete."""
        return self.root / JOURNAL

    @property
    def lock(self) -> Path:
        """The writer lock file."""
        return self.root / LOCK

    @property
    def backups(self) -> Path:
        """Copies of the catalogue from before each upgrade of its schema."""
        return self.root / BACKUPS

    @property
    def readme(self) -> Path:
        """A note for whoever finds the folder."""
        return self.root / README

    def object_dir(self, sha256_hex: str) -> Path:
        """``objects/sha256/AB`` for a hash starting with ``ab``."""
        if not is_sha256_hex(sha256_hex):
            raise ValueError("not a SHA-256 hex digest")
        return self.objects / sha256_hex[:2]

    def object_path(self, sha256_hex: str) -> Path:
        """``objects/sha256/AB/HASH``: where the object with this SHA-256 is stored."""
        return self.object_dir(sha256_hex) / sha256_hex
