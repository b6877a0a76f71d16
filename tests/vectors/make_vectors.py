"""Regenerate the sealed-file test vectors (docs/format.md, "Test vectors").

Run from the repository root: ``.venv/bin/python tests/vectors/make_vectors.py``. The vectors
are committed; the tests read them and never regenerate them, so a change to the format that
breaks old files fails the tests.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from tainik import crypto
from tainik.core.manifest import Kind, Manifest, encode_id
from tainik.core.names import safe_name
from tainik.core.segments import CHUNK
from tainik.sealed.writer import DirectorySink, SegmentSealer

HERE = Path(__file__).parent
# (file id byte, kind, name, plaintext)
CASES: list[tuple[int, Kind, bytes, bytes]] = [
    (1, Kind.FILE, b"empty.bin", b""),
    (2, Kind.FILE, b"one-byte.bin", b"\x00"),
    (3, Kind.FILE, "камера-3.mp4".encode(), bytes(i % 251 for i in range(2 * CHUNK + 1))),
    (4, Kind.FILE, b"../../etc/passwd", b"root:x:0:0\n"),
    (5, Kind.MESSAGE, b"", "Здравствуйте. Видео во вложении.\n".encode()),
    (6, Kind.FILE, b"exact.bin", bytes(range(256)) * (CHUNK // 256)),
]


def main() -> None:
    identity_path = HERE / "identity.txt"
    if identity_path.exists():
        [identity] = crypto.parse_identity_file(identity_path.read_bytes(), None)
    else:
        identity = crypto.Identity.generate()
        identity_path.write_text(
            "# TEST KEY for tests/vectors only. Never use it for anything else.\n"
            + crypto.identity_file_text(identity)
        )
    for old in HERE.glob("*.sealed"):
        shutil.rmtree(old)
    for byte, kind, name, plaintext in CASES:
        sealed_id = encode_id(bytes([byte]) * 16)
        sink = DirectorySink(HERE, sealed_id)
        sealer = SegmentSealer(
            [identity.recipient],
            sink,
            kind=kind,
            name=name,
            segment_size=CHUNK,
            sealed_id=sealed_id,
        )
        sealer.write(plaintext)
        sealer.finish()
        container = sink.commit()
        (container.parent / f"{sealed_id}.expected.json").write_text(
            json.dumps(
                {
                    "sha256": hashlib.sha256(plaintext).hexdigest(),
                    "size": len(plaintext),
                    "kind": kind.value,
                    "output_name": safe_name(name, kind),
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
    valid = HERE / "manifests" / "valid"
    invalid = HERE / "manifests" / "invalid"
    valid.mkdir(parents=True, exist_ok=True)
    invalid.mkdir(parents=True, exist_ok=True)
    base = Manifest(
        id=encode_id(bytes(16)),
        kind=Kind.FILE,
        name=b"a.txt",
        size=CHUNK + 1,
        segment_size=CHUNK,
        sha256=hashlib.sha256(b"w").digest(),
        segment_hashes=(hashlib.sha256(b"0").digest(), hashlib.sha256(b"1").digest()),
    )
    text = base.encode()
    (valid / "two-segments.txt").write_bytes(text)
    bad = {
        "version-2.txt": text.replace(b"/v1", b"/v2"),
        "leading-zero.txt": text.replace(b"size 65537", b"size 065537"),
        "padded-name.txt": text.replace(b"name YS50eHQ", b"name YS50eHQ="),
        "missing-segment-line.txt": text[: text.rindex(b"segment ")] + b"end\n",
        "trailing-data.txt": text + b"x",
        "crlf.txt": text.replace(b"\n", b"\r\n"),
        "uppercase-hex.txt": text.replace(
            b"sha256 " + base.sha256.hex().encode(), b"sha256 " + base.sha256.hex().upper().encode()
        ),
        "odd-segment-size.txt": text.replace(b"segment-size 65536", b"segment-size 65537"),
        "fields-swapped.txt": text.replace(b"kind file\nname YS50eHQ", b"name YS50eHQ\nkind file"),
    }
    for file_name, content in bad.items():
        (invalid / file_name).write_bytes(content)


if __name__ == "__main__":
    main()
