"""The signed sidecar beside a published file: ``FILE.provenance.json``.

C2PA's hash of an MP4 leaves a few boxes out (``ftyp``, ``free``, ``skip``, ``mfra``), so a
changed byte there would pass. The sidecar closes that gap: it holds the SHA-256 of every byte
of the published file, the commitment to the original (the same as the manifest's, never the
original's hash), the manifest's label and hash, and the certificate chain, all signed (ECDSA
P-256, SHA-256) by the same one-time key as the manifest.

Format ``tainik.org/publication/v2`` (v1 held the original's bare SHA-256): a JSON object;
``signature`` is the base64 signature of the canonical JSON (sorted keys, no spaces, UTF-8) of
the object without ``signature``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tainik.workstation.publish.ca import SigningCredentials, load_certificates
from tainik.workstation.publish.commitment import SCHEME

FORMAT = "tainik.org/publication/v2"
SUFFIX = ".provenance.json"


def canonical(document: Mapping[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def build(
    *,
    file_name: str,
    file_sha256: str,
    file_size: int,
    original_commitment: str,
    manifest_label: str,
    manifest_sha256: str,
    actions: list[str],
    signed_at: str,
    credentials: SigningCredentials,
) -> dict[str, Any]:
    """The signed sidecar document."""
    body: dict[str, Any] = {
        "format": FORMAT,
        "file": {"name": file_name, "sha256": file_sha256, "size": file_size},
        "original": {"scheme": SCHEME, "commitment": original_commitment},
        "manifest": {"label": manifest_label, "sha256": manifest_sha256},
        "actions": actions,
        "signed_at": signed_at,
        "certificate_chain": credentials.chain_pem.decode("ascii"),
    }
    signature = credentials.key.sign(canonical(body), ec.ECDSA(hashes.SHA256()))
    return {**body, "signature": base64.b64encode(signature).decode("ascii")}


def check(document: object, trust_pem: bytes | None) -> tuple[dict[str, Any], str | None]:
    """``(body, problem)``: the sidecar's body, and None if its signature and chain hold.

    Without ``trust_pem`` the signature is checked against the chain it carries, which
    proves integrity but not who signed.
    """
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return {}, f"not a {FORMAT} sidecar"
    body = {k: v for k, v in document.items() if k != "signature"}
    try:
        signature = base64.b64decode(str(document.get("signature", "")), validate=True)
        chain = load_certificates(str(body.get("certificate_chain", "")).encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return body, "the sidecar's signature or certificate chain is malformed"
    if not chain:
        return body, "the sidecar carries no certificate"
    leaf = chain[0]
    public = leaf.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        return body, "the sidecar's certificate is not an EC certificate"
    try:
        public.verify(signature, canonical(body), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return body, "the sidecar's signature does not match its contents"
    if trust_pem is not None and not _chains_to(leaf, load_certificates(trust_pem)):
        return body, "the sidecar's certificate was not issued by the trusted CA"
    return body, None


def _chains_to(leaf: x509.Certificate, anchors: list[x509.Certificate]) -> bool:
    for anchor in anchors:
        try:
            leaf.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False
