"""``verify-publication``: is this the file the organisation signed, and from what original?

Checks, in order, and fails on the first that does not hold:

1. the file has a C2PA manifest whose signature and content hashes validate; with a trust
   anchor (the organisation's CA certificate), the signer must chain to it ("Trusted"),
   without one the signer is reported as not checked ("Valid");
2. the manifest names exactly one original, by a commitment (:mod:`.commitment`), the same in
   the ingredient and in the ``org.tainik.derivation`` assertion;
3. when the signed sidecar is present: its signature and chain hold, and it agrees with the
   file (SHA-256 of every byte, size), the manifest (label) and the commitment;
4. when an opening is given (the organisation reveals it, ``tainik open-commitment``): it
   opens the commitment, and then the original's SHA-256 is known; when the original file
   is given too, its SHA-256 must be that one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tainik.sealed import durable
from tainik.workstation.publish import credentials, sidecar
from tainik.workstation.publish.commitment import SCHEME, Opening, is_hex64
from tainik.workstation.publish.errors import ProvenanceError
from tainik.workstation.publish.manifest import DERIVATION_LABEL, INSTANCE_PREFIX

READ_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class Verified:
    """What a verified publication claims."""

    trusted: bool
    original_commitment: str
    file_sha256: str
    signer: str
    actions: list[str]
    sidecar_checked: bool
    original_sha256: str | None = None  # known only through an opening that opens it
    original_checked: bool = False  # the original file itself was hashed and matched


def _commitment(active: dict[str, Any], path: Path) -> str:
    ingredients = active.get("ingredients") or []
    parents = [i for i in ingredients if i.get("relationship") == "parentOf"]
    if len(parents) != 1:
        raise ProvenanceError(path=str(path), reason="the manifest does not name one original")
    instance = str(parents[0].get("instance_id", ""))
    from_ingredient = instance.removeprefix(INSTANCE_PREFIX)
    claimed = None
    for assertion in active.get("assertions") or []:
        if assertion.get("label") == DERIVATION_LABEL:
            original = (assertion.get("data") or {}).get("original") or {}
            if original.get("scheme") == SCHEME:
                claimed = original.get("commitment")
    if (
        not instance.startswith(INSTANCE_PREFIX)
        or not is_hex64(from_ingredient)
        or claimed != from_ingredient
    ):
        raise ProvenanceError(
            path=str(path), reason="the manifest's commitment to the original is malformed"
        )
    return from_ingredient


def _actions(active: dict[str, Any]) -> list[str]:
    words = []
    for assertion in active.get("assertions") or []:
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            for action in (assertion.get("data") or {}).get("actions") or []:
                text = str(action.get("action", ""))
                if action.get("description"):
                    text += f": {action['description']}"
                words.append(text)
    return words


def verify(
    path: Path,
    trust_pem: bytes | None,
    sidecar_path: Path | None,
    opening: Opening | None = None,
    original_path: Path | None = None,
) -> Verified:
    """Check ``path`` as described above; raises :class:`ProvenanceError` when it fails."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise durable.storage_error(exc, path) from exc
    reading = credentials.read(data, trust_pem, path)
    wanted = "Trusted" if trust_pem is not None else "Valid"
    if reading.state != wanted or reading.failures:
        reason = ", ".join(reading.failures) or f"validation state {reading.state}"
        raise ProvenanceError(path=str(path), reason=reason)
    commitment = _commitment(reading.active, path)
    file_sha256 = hashlib.sha256(data).hexdigest()
    checked = False
    if sidecar_path is not None:
        _check_sidecar(sidecar_path, trust_pem, path, data, file_sha256, commitment, reading)
        checked = True
    original_sha256 = None
    if opening is not None:
        if not opening.opens(commitment):
            raise ProvenanceError(
                path=str(path),
                reason="the opening does not open the commitment in its manifest (a wrong salt, "
                "another original, or another publication)",
            )
        original_sha256 = opening.original_sha256
    if original_path is not None:
        if original_sha256 is None:
            raise ProvenanceError(
                path=str(original_path),
                reason="an original can be checked only with the opening of the commitment",
            )
        if _sha256_file(original_path) != original_sha256:
            raise ProvenanceError(
                path=str(original_path), reason="this is not the original the opening names"
            )
    info = reading.active.get("signature_info") or {}
    signer = " / ".join(str(info[k]) for k in ("common_name", "issuer") if info.get(k))
    return Verified(
        trusted=trust_pem is not None,
        original_commitment=commitment,
        file_sha256=file_sha256,
        signer=signer,
        actions=_actions(reading.active),
        sidecar_checked=checked,
        original_sha256=original_sha256,
        original_checked=original_path is not None,
    )


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise durable.storage_error(exc, path) from exc
    return digest.hexdigest()


def read_commitment(path: Path) -> str:
    """The commitment to the original in ``path``'s manifest, whether or not its signer is
    trusted (the signature and content hashes must still validate)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise durable.storage_error(exc, path) from exc
    reading = credentials.read(data, None, path)
    if reading.state != "Valid" or reading.failures:
        reason = ", ".join(reading.failures) or f"validation state {reading.state}"
        raise ProvenanceError(path=str(path), reason=reason)
    return _commitment(reading.active, path)


def _check_sidecar(
    sidecar_path: Path,
    trust_pem: bytes | None,
    path: Path,
    data: bytes,
    file_sha256: str,
    commitment: str,
    reading: credentials.Reading,
) -> None:
    try:
        document = json.loads(sidecar_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProvenanceError(path=str(sidecar_path), reason=f"unreadable sidecar ({exc})") from exc
    body, problem = sidecar.check(document, trust_pem)
    if problem is not None:
        raise ProvenanceError(path=str(sidecar_path), reason=problem)
    file = body.get("file") or {}
    if file.get("sha256") != file_sha256 or file.get("size") != len(data):
        raise ProvenanceError(path=str(path), reason="the file differs from the one signed")
    stated = body.get("original") or {}
    if stated.get("scheme") != SCHEME or stated.get("commitment") != commitment:
        raise ProvenanceError(path=str(path), reason="the sidecar names another original")
    if (body.get("manifest") or {}).get("label") != reading.store.get("active_manifest"):
        raise ProvenanceError(path=str(path), reason="the sidecar names another manifest")
