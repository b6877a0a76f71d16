"""Errors of the vault, under the one exception root (tainik.core.errors)."""

from __future__ import annotations

from tainik.core.errors import N_, IntegrityError, StorageError, UsageError


class VaultUsageError(UsageError):
    """Asked for something the vault cannot do (unknown item, not a vault folder)."""


class VaultIntegrityError(IntegrityError):
    """The vault failed verification: a record, a signature, the key or a stored file."""


class VaultBusyError(StorageError):
    """Another process holds the vault's writer lock."""

    template = N_("{path}: another tainik process is changing this vault; try again later")


class ToolError(StorageError):
    """An external tool (exiftool, mat2, ffmpeg) is missing or failed."""


class NotAVaultError(VaultUsageError):
    """The folder is not a vault."""

    template = N_("{path}: not a Tainik vault (run 'tainik vault init' first)")
