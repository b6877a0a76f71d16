"""End to end in a vault: import, copy out, redact into the vault, publish, verify."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from conftest import run_cli
from tainik.core.errors import ExitCode
from tainik.workstation.publish.commitment import Opening
from tainik.workstation.vault.custody import CustodyRecord
from tainik.workstation.vault.layout import CA_DIR
from tainik.workstation.vault.vault import Vault
from workstation.redact.scene import make_clip


def _ok(argv: list[str]) -> str:
    result = run_cli(argv)
    assert result.code == 0, (argv, result.stderr)
    return result.stdout


def test_publish_from_the_vault(tmp_path: Path) -> None:
    clip = make_clip(
        tmp_path / "cam.mp4", width=192, height=144, frames=10, scale_a=0.35, scale_b=0.2
    ).path
    recipient = _ok(["keys", "new", "--no-passphrase", "--out", str(tmp_path / "org.key")])
    vault = tmp_path / "evidence"
    _ok(["vault", "init", str(vault), "--identity", str(tmp_path / "org.key"), "--no-passphrase"])
    _ok(["seal", str(clip), "--to", recipient.strip(), "--out", str(tmp_path / "inbox")])
    sealed = next((tmp_path / "inbox").iterdir())
    _ok(["vault", "import", str(vault), str(sealed), "--identity", str(tmp_path / "org.key")])
    _ok(["vault", "copy", str(vault), "1", "--out", str(tmp_path / "work")])
    copy = tmp_path / "work" / "cam.mp4"
    redacted = tmp_path / "work" / "cam-public.mp4"
    _ok(
        [
            "redact",
            str(copy),
            "--out",
            str(redacted),
            "--vault",
            str(vault),
            "--no-report",
            "--actor",
            "editor",
        ]
    )
    prefix = hashlib.sha256(redacted.read_bytes()).hexdigest()[:16]

    published = Path(
        _ok(
            [
                "publish",
                str(vault),
                prefix,
                "--out",
                str(tmp_path / "public"),
                "--organisation",
                "Test NGO",
                "--actor",
                "editor",
            ]
        ).strip()
    )
    assert (vault / CA_DIR / "ca.pem").is_file()
    ca = tmp_path / "public" / "ca.pem"
    assert ca.read_bytes() == (vault / CA_DIR / "ca.pem").read_bytes()
    out = _ok(["verify-publication", str(published), "--trust", str(ca)])
    original = hashlib.sha256(clip.read_bytes()).hexdigest()
    assert original not in out
    [commitment] = [x.split(": ")[1] for x in out.splitlines() if x.startswith("original-comm")]
    # Named by the commitment, not by a vault id (the stored copy's or the original's hash).
    assert published.name == f"published-{commitment[:16]}.mp4"
    assert prefix not in published.name
    _ok(["vault", "verify", str(vault)])

    # The organisation opens the commitment for a court; the court checks it and the original.
    opening = tmp_path / "opening.json"
    assert _ok(["open-commitment", str(vault), str(published), "--out", str(opening)]).strip() == (
        str(opening)
    )
    assert json.loads(opening.read_text())["original_sha256"] == original
    assert json.loads(_ok(["open-commitment", str(vault), commitment[:16]])) == json.loads(
        opening.read_text()
    )
    argv = ["verify-publication", str(published), "--trust", str(ca), "--opening", str(opening)]
    assert f"original-sha256: {original}" in _ok([*argv, "--original", str(clip)])
    wrong = json.loads(opening.read_text())
    wrong["salt"] = "ab" * 32
    opening.write_text(json.dumps(wrong))
    assert run_cli(argv).code == ExitCode.INTEGRITY
    unknown = run_cli(["open-commitment", str(vault), "0" * 64])
    assert unknown.code == ExitCode.USAGE
    assert "No publication recorded in this vault committed to" in unknown.stderr

    opened = Vault.open(vault)
    try:
        records = [CustodyRecord.parse(line) for _, line in opened.records()]
    finally:
        opened.close()
    derive, export = records[-2], records[-1]
    assert derive.action == "derive"
    assert derive.details["purpose"] == "redact"
    assert derive.actor == "editor"
    assert "cam.mp4" not in str(derive.details)  # the original is named by hash only
    assert export.action == "export"
    assert export.details["purpose"] == "publication"
    published_sha = hashlib.sha256(published.read_bytes()).hexdigest()
    assert [o["sha256"] for o in export.outputs] == [published_sha]
    kept = export.details["commitment"]
    assert isinstance(kept, dict)
    assert kept["value"] == commitment
    assert Opening(bytes.fromhex(str(kept["salt"])), original).opens(commitment)


def test_an_original_is_not_published(tmp_path: Path) -> None:
    result = run_cli(["publish", str(tmp_path / "missing"), "1", "--out", str(tmp_path)])
    assert result.code != 0
