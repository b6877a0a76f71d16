"""The CA on disk: ``ca.pem`` (public, to hand out) and ``ca.key`` (protected).

``ca.key`` is the CA's PKCS#8 PEM key, encrypted with a passphrase the way the vault key and
identity files are (age scrypt, armored; :func:`tainik.crypto.seal_with_passphrase`), unless
it was stored with no passphrase (tests only).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from tainik import crypto
from tainik.core.errors import N_, IdentityError
from tainik.crypto import Secret
from tainik.sealed import durable
from tainik.workstation.publish.ca import CertificateAuthority

CERTIFICATE = "ca.pem"
KEY = "ca.key"
MAX_FILE = 64 * 1024


def exists(directory: Path) -> bool:
    """Whether a CA is stored in ``directory``."""
    return (directory / CERTIFICATE).is_file()


def create(
    directory: Path, organisation: str, passphrase: Secret | None, now: datetime.datetime
) -> CertificateAuthority:
    """Make a CA and store it in ``directory`` (created; must not hold a CA already)."""
    ca = CertificateAuthority.create(organisation, now)
    key = ca.key_pem()
    if passphrase is not None:
        key = crypto.seal_with_passphrase(key, passphrase)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise durable.storage_error(exc, directory) from exc
    durable.write_file(directory / KEY, key)
    durable.write_file(directory / CERTIFICATE, ca.certificate_pem())
    durable.fsync_dir(directory)
    return ca


def needs_passphrase(directory: Path) -> bool:
    """Whether the stored CA key is passphrase-protected."""
    return crypto.is_passphrase_protected(_read(directory / KEY))


def certificate_pem(directory: Path) -> bytes:
    """The stored root certificate (PEM)."""
    return _read(directory / CERTIFICATE)


def load(directory: Path, passphrase: Secret | None) -> CertificateAuthority:
    """The stored CA, its key decrypted with ``passphrase`` when protected."""
    key = _read(directory / KEY)
    if crypto.is_passphrase_protected(key):
        if passphrase is None:
            raise IdentityError(
                N_("{path}: the CA key is protected by a passphrase"), path=str(directory / KEY)
            )
        key = crypto.open_with_passphrase(key, passphrase, what=str(directory / KEY))
    try:
        return CertificateAuthority.from_pem(_read(directory / CERTIFICATE), key)
    except ValueError as exc:
        raise IdentityError(
            N_("{path}: not a usable certificate authority ({reason})"),
            path=str(directory),
            reason=str(exc),
        ) from exc


def _read(path: Path) -> bytes:
    return durable.read_bounded(
        path, MAX_FILE, IdentityError(N_("{path}: too large for a CA file"), path=str(path))
    )
