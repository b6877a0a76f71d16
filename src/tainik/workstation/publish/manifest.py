"""The C2PA manifest of a publication: what was done, and from what (by a hiding commitment).

The manifest names the original through one ingredient that carries nothing but a title
("original"), the relationship ``parentOf`` and an instance id ``commitment-v1:HEX``: no
thumbnail, no embedded manifest, no bytes, no file name, and not the original's hash, only the
salted commitment to it (:mod:`.commitment`) that the organisation can open to a court. Our own
assertion ``org.tainik.derivation`` repeats the commitment with its scheme, and the tool and
version that made the copy. The actions say, in words, what the redaction did
(docs/redaction.md, "Provenance" and "What publication commits to").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tainik import __version__
from tainik.workstation.publish.commitment import SCHEME

DERIVATION_LABEL = "org.tainik.derivation"
ORIGINAL_LABEL = "original"
INSTANCE_PREFIX = "commitment-v1:"

_AUDIO_WORDS = {
    "keep": "Audio re-encoded unchanged",
    "mute": "Audio removed",
    "pitch": "Voices pitch-shifted down",
}


def _get(record: Mapping[str, Any], *path: str) -> Any:
    value: Any = record
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def actions(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The C2PA actions for a redaction record (``tainik.org/redaction/v1``)."""
    mode = str(_get(record, "redaction", "mode") or "solid")
    tracks = int(_get(record, "redaction", "face_tracks") or 0)
    regions = _get(record, "redaction", "manual_regions") or []
    audio = str(_get(record, "redaction", "audio") or "keep")
    described = f"Faces obscured ({mode} fill) over {tracks} tracked face(s)"
    if regions:
        described += f" and {len(regions)} manual region(s)"
    return [
        {"action": "c2pa.opened", "parameters": {"ingredientIds": [ORIGINAL_LABEL]}},
        {
            "action": "c2pa.edited",
            "description": described,
            "parameters": {
                "org.tainik.mode": mode,
                "org.tainik.face_tracks": tracks,
                "org.tainik.manual_regions": len(regions),
            },
        },
        {"action": "c2pa.edited", "description": _AUDIO_WORDS.get(audio, "Audio changed")},
        {"action": "c2pa.edited.metadata", "description": "All metadata removed"},
        {"action": "c2pa.transcoded", "description": "Fully re-encoded (H.264 video, AAC audio)"},
        {"action": "c2pa.published"},
    ]


def definition(record: Mapping[str, Any], title: str, commitment: str) -> dict[str, Any]:
    """The manifest definition c2pa's Builder takes, for the published file ``title``.

    Of ``record`` only what the redaction did is used (mode, counts, audio, tool version):
    never the original's name or hash; ``commitment`` stands for the original."""
    return {
        "claim_generator_info": [{"name": "Tainik", "version": __version__}],
        "title": title,
        "format": "video/mp4",
        "ingredients": [
            {
                "title": ORIGINAL_LABEL,
                "format": "application/octet-stream",
                "relationship": "parentOf",
                "instance_id": INSTANCE_PREFIX + commitment,
                "label": ORIGINAL_LABEL,
            }
        ],
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions(record)}},
            {
                "label": DERIVATION_LABEL,
                "data": {
                    "original": {"scheme": SCHEME, "commitment": commitment},
                    "method": "tainik redact",
                    "tool_version": str(_get(record, "tool", "version") or __version__),
                },
            },
        ],
    }
