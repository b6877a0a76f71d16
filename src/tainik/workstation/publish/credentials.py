"""Content credentials (C2PA) through c2pa-python: the only module that imports ``c2pa``.

Settings are explicit for every call (a ``c2pa.Context``), never global: thumbnails off (so
nothing of the picture goes into the manifest), the library's automatic actions off (we say
what happened ourselves), no network (no remote manifests, no OCSP), and trust limited to the
anchors given: the organisation's CA, never a built-in list.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa

from tainik.workstation.publish.ca import SigningCredentials
from tainik.workstation.publish.errors import ProvenanceError, SigningError

MIME = "video/mp4"


def _settings(trust_pem: bytes | None) -> dict[str, Any]:
    trusted = trust_pem is not None
    settings: dict[str, Any] = {
        "verify": {
            "verify_after_reading": True,
            "verify_after_sign": trusted,
            "verify_trust": trusted,
            "verify_timestamp_trust": False,
            "ocsp_fetch": False,
            "remote_manifest_fetch": False,
        },
        "builder": {
            "thumbnail": {"enabled": False},
            "actions": {
                "auto_created_action": {"enabled": False},
                "auto_opened_action": {"enabled": False},
                "auto_placed_action": {"enabled": False},
            },
        },
    }
    if trust_pem is not None:
        settings["trust"] = {"trust_anchors": trust_pem.decode("ascii")}
    return settings


def sign(
    source: Path,
    dest: Path,
    definition: dict[str, Any],
    credentials: SigningCredentials,
    trust_pem: bytes,
) -> bytes:
    """Write ``source`` with a signed manifest embedded to ``dest``; the manifest store bytes.

    The library checks the result against ``trust_pem`` before returning.
    """
    info = c2pa.C2paSignerInfo(b"es256", credentials.chain_pem, credentials.key_pem(), None)
    try:
        context = c2pa.Context.from_dict(_settings(trust_pem))
        signer = c2pa.Signer.from_info(info)
        builder = c2pa.Builder(definition, context=context)
        with source.open("rb") as src, dest.open("w+b") as out:
            manifest: bytes = builder.sign(signer, MIME, src, out)
    except c2pa.C2paError as exc:
        raise SigningError(path=str(source), reason=str(exc)) from exc
    return manifest


@dataclass(frozen=True)
class Reading:
    """What the library found in a file, and what it thinks of it."""

    state: str  # "Trusted", "Valid" or "Invalid"
    failures: list[str]
    active: dict[str, Any]
    store: dict[str, Any]


def read(data: bytes, trust_pem: bytes | None, path: Path) -> Reading:
    """Read and validate the manifest in ``data`` (a file's bytes; ``path`` for messages)."""
    try:
        context = c2pa.Context.from_dict(_settings(trust_pem))
        reader = c2pa.Reader(MIME, io.BytesIO(data), context=context)
        store = json.loads(reader.json())
        state = reader.get_validation_state() or "Invalid"
    except c2pa.C2paError as exc:
        raise ProvenanceError(path=str(path), reason=f"no readable C2PA manifest ({exc})") from exc
    results = store.get("validation_results") or {}
    failures = [
        str(item.get("code")) for item in (results.get("activeManifest") or {}).get("failure") or []
    ]
    label = store.get("active_manifest")
    active = (store.get("manifests") or {}).get(label) if label else None
    if not isinstance(active, dict):
        raise ProvenanceError(path=str(path), reason="no active C2PA manifest")
    return Reading(str(state), failures, active, store)
