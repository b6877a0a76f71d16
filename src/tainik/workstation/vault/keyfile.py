"""The vault's signing key on disk: ``vault.key`` (protected) and ``vault.pub``.

``vault.key`` holds ``TAINIK-VAULT-SIGNING-KEY-1 BASE64`` and, unless the vault was made with
``--no-passphrase`` (tests only), that text is encrypted with a passphrase the way identity
files are (age scrypt, armored; :func:`tainik.crypto.seal_with_passphrase`).
"""

from __future__ import annotations

from pathlib import Path

from tainik import crypto
from tainik.core.errors import N_, IdentityError
from tainik.crypto import Secret
from tainik.sealed import durable
from tainik.workstation.signing import SigningKey, VerifyKey

MAX_KEY_FILE = 64 * 1024


def key_file_bytes(key: SigningKey, passphrase: Secret | None) -> bytes:
    """What ``vault.key`` holds for ``key``: protected unless ``passphrase`` is None."""
    text = key.to_text().encode("ascii")
    return text if passphrase is None else crypto.seal_with_passphrase(text, passphrase)


def needs_passphrase(path: Path) -> bool:
    """Whether the key file at ``path`` is passphrase-protected."""
    return crypto.is_passphrase_protected(_read(path))


def load(path: Path, passphrase: Secret | None) -> SigningKey:
    """Read and, when protected, decrypt the key file."""
    data = _read(path)
    if crypto.is_passphrase_protected(data):
        if passphrase is None:
            raise IdentityError(
                N_("{path}: the vault key is protected by a passphrase"), path=str(path)
            )
        data = crypto.open_with_passphrase(data, passphrase, what=str(path))
    try:
        return SigningKey.from_text(data.decode("ascii"))
    except UnicodeDecodeError as exc:
        raise IdentityError(N_("The vault key file holds no vault signing key")) from exc


def read_public(path: Path) -> VerifyKey:
    """The public key in ``vault.pub``."""
    return VerifyKey.parse(_read(path).decode("ascii", errors="replace"))


def _read(path: Path) -> bytes:
    return durable.read_bounded(
        path,
        MAX_KEY_FILE,
        IdentityError(N_("{path}: too large to be a vault key file"), path=str(path)),
    )
