"""``verify-publication``: is this the file the organisation signed, and from what original?

Checks, in order, and fails on the first that does not hold:

1. the file has a C2PA manifest whose signature and content hashes validate; with a trust
   anchor (the organisation's CA certificate), the signer must chain to it ("Trusted"),
   without one the signer is reported as not checked ("Valid");
2. the manifest names exactly one original, by SHA-256, the same in the ingredient and in
   the ``org.tainik.derivation`` assertion;
3. when the signed sidecar is present: its signature and chain hold, and it agrees with the
   file (SHA-256 of every byte, size), the manifest (label) and the original's hash.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tainik.sealed import durable
from tainik.workstation.publish import credentials, sidecar
from tainik.workstation.publish.errors import ProvenanceError
from tainik.workstation.publish.manifest import DERIVATION_LABEL, INSTANCE_PREFIX

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Verified:
    """What a verified publication claims."""

    trusted: bool
    original_sha256: str
    file_sha256: str
    signer: str
    actions: list[str]
    sidecar_checked: bool


def _original(active: dict[str, Any], path: Path) -> str:
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
            if original.get("alg") == "sha256":
                claimed = original.get("hash")
    if (
        not instance.startswith(INSTANCE_PREFIX)
        or not _HEX64.fullmatch(from_ingredient)
        or claimed != from_ingredient
    ):
        raise ProvenanceError(path=str(path), reason="the manifest's original hash is malformed")
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


def verify(path: Path, trust_pem: bytes | None, sidecar_path: Path | None) -> Verified:
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
    original = _original(reading.active, path)
    file_sha256 = hashlib.sha256(data).hexdigest()
    checked = False
    if sidecar_path is not None:
        _check_sidecar(sidecar_path, trust_pem, path, data, file_sha256, original, reading)
        checked = True
    info = reading.active.get("signature_info") or {}
    signer = " / ".join(str(info[k]) for k in ("common_name", "issuer") if info.get(k))
    return Verified(
        trusted=trust_pem is not None,
        original_sha256=original,
        file_sha256=file_sha256,
        signer=signer,
        actions=_actions(reading.active),
        sidecar_checked=checked,
    )


def _check_sidecar(
    sidecar_path: Path,
    trust_pem: bytes | None,
    path: Path,
    data: bytes,
    file_sha256: str,
    original: str,
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
    if (body.get("original") or {}).get("sha256") != original:
        raise ProvenanceError(path=str(path), reason="the sidecar names another original")
    if (body.get("manifest") or {}).get("label") != reading.store.get("active_manifest"):
        raise ProvenanceError(path=str(path), reason="the sidecar names another manifest")
