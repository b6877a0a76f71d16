"""Publication errors, in words for the user (all under TainikError)."""

from __future__ import annotations

from tainik.core.errors import N_, IntegrityError, TainikError


class ProvenanceError(IntegrityError):
    """A published file does not verify: no manifest, a bad signature, altered bytes."""

    template = N_("{path}: does not verify: {reason}")


class SigningError(TainikError):
    """The C2PA library refused to sign."""

    template = N_("Could not sign {path}: {reason}")
