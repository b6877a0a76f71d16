"""The sealed file is plain age: the stock `age` CLI reads and writes its parts."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from conftest import run_cli
from tainik import crypto
from tainik.core.manifest import Kind, Manifest, encode_id
from tainik.core.segments import CHUNK, SegmentPlan


def test_every_segment_decrypts_with_stock_age(
    age_cli: str, tmp_path: Path, identity: crypto.Identity, identity_file: Path
) -> None:
    data = os.urandom(5 * CHUNK + 12345)
    source = tmp_path / "footage.mp4"
    source.write_bytes(data)
    result = run_cli(
        [
            "seal",
            str(source),
            "--to",
            identity.recipient.text,
            "--out",
            str(tmp_path / "s"),
            "--segment-size",
            str(CHUNK),
        ]
    )
    container = Path(result.stdout.strip())
    segments = sorted(container.glob("segment-*.age"))
    assert len(segments) == 6
    joined = b"".join(
        subprocess.run(
            [age_cli, "-d", "-i", str(identity_file), str(s)], check=True, capture_output=True
        ).stdout
        for s in segments
    )
    assert joined == data
    manifest_text = subprocess.run(
        [age_cli, "-d", "-i", str(identity_file), str(container / "manifest.age")],
        check=True,
        capture_output=True,
    ).stdout
    manifest = Manifest.decode(manifest_text)
    assert manifest.sha256 == hashlib.sha256(data).digest()


def test_a_sealed_file_made_by_stock_age_opens(
    age_cli: str, tmp_path: Path, identity: crypto.Identity, identity_file: Path
) -> None:
    """Producers other than ours (the browser, another tool) interoperate by the spec alone."""
    data = os.urandom(2 * CHUNK + 7)
    plan = SegmentPlan(len(data), CHUNK)
    sealed_id = encode_id(os.urandom(16))
    container = tmp_path / f"{sealed_id}.sealed"
    container.mkdir()
    slices = [data[plan.offset(i) : plan.offset(i) + plan.size_of(i)] for i in range(plan.count)]
    manifest = Manifest(
        id=sealed_id,
        kind=Kind.FILE,
        name="отчёт.pdf".encode(),
        size=len(data),
        segment_size=CHUNK,
        sha256=hashlib.sha256(data).digest(),
        segment_hashes=tuple(hashlib.sha256(s).digest() for s in slices),
    )
    parts = [(f"segment-{i:08d}.age", s) for i, s in enumerate(slices)]
    for name, plaintext in [*parts, ("manifest.age", manifest.encode())]:
        subprocess.run(
            [age_cli, "-r", identity.recipient.text, "-o", str(container / name)],
            input=plaintext,
            check=True,
        )
    result = run_cli(
        ["open", str(container), "-i", str(identity_file), "--out", str(tmp_path / "p")]
    )
    assert result.code == 0, result.stderr
    assert (tmp_path / "p" / "отчёт.pdf").read_bytes() == data


def test_identity_files_are_stock_age_identities(age_cli: str, tmp_path: Path) -> None:
    key = tmp_path / "org.key"
    result = run_cli(["keys", "new", "--out", str(key), "--no-passphrase"])
    assert result.code == 0
    recipient = result.stdout.strip()
    keygen = subprocess.run(
        ["age-keygen", "-y", str(key)], capture_output=True, text=True, check=True
    )
    assert keygen.stdout.strip() == recipient
    sealed = subprocess.run(
        [age_cli, "-r", recipient], input=b"hi", capture_output=True, check=True
    ).stdout
    assert (
        subprocess.run(
            [age_cli, "-d", "-i", str(key)], input=sealed, capture_output=True, check=True
        ).stdout
        == b"hi"
    )
