"""``vault export``: a BagIt bag that the bagit library validates, with checkable custody."""

from __future__ import annotations

import json
import os
from pathlib import Path

import bagit  # type: ignore[import-untyped]
import pytest

from tainik import crypto
from tainik.core.manifest import Kind
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault import keyfile
from tainik.workstation.vault.custody import Action, CustodyRecord
from tainik.workstation.vault.export import check_bag, export
from tainik.workstation.vault.vault import Vault
from workstation.vault.support import import_into, seal


@pytest.fixture
def bag(vault: Vault, org_identity: crypto.Identity, tmp_path: Path) -> Path:
    seal(os.urandom(100_000), tmp_path / "in", org_identity.recipient, name=b"cam3.mp4")
    seal(b"the message", tmp_path / "in", org_identity.recipient, kind=Kind.MESSAGE)
    seal(os.urandom(1000), tmp_path / "in", org_identity.recipient, name=b"not exported")
    import_into(vault, [org_identity], [tmp_path / "in"])
    by_name = {i.display_name: i.id for i in vault_items.all_items(vault)}
    chosen = vault_items.resolve_all(vault, [str(by_name["cam3.mp4"]), str(by_name["message.txt"])])
    key = keyfile.load(vault.paths.key_file, None)
    with vault.writer(key, "archivist") as writer:
        done = export(writer, chosen, tmp_path / "bag", jobs=2)
    assert done.files == 2
    last = CustodyRecord.parse(dict(vault.records())[done.record.seq])
    assert last.action == Action.EXPORT
    assert last.file_refs(last.inputs) == [s.ref for s in chosen]
    return done.path


def test_bag_validates_with_bagit(bag: Path) -> None:
    opened = bagit.Bag(str(bag))
    opened.validate(processes=1)
    assert opened.is_valid()
    assert set(opened.algorithms) == {"sha256", "sha512"}
    assert opened.info["Tainik-Vault-Key"].startswith("ed25519:")
    payload = sorted(str(p) for p in opened.payload_files())
    assert "data/custody/records.jsonl" in payload
    files = json.loads((bag / "data" / "files.json").read_text())
    assert [f["items"][0]["kind"] for f in files] == ["file", "message"]
    # The original names stay in the vault: files are named by their hashes.
    assert all(Path(f["file"]).stem == f["sha256"] for f in files)
    assert check_bag(bag) == []


def test_records_in_the_bag_are_only_the_relevant_ones(bag: Path) -> None:
    lines = (bag / "data" / "custody" / "records.jsonl").read_bytes().splitlines()
    actions = [CustodyRecord.parse(line).action for line in lines]
    assert actions == [Action.INIT, Action.IMPORT, Action.IMPORT]  # not the third import


def test_tampered_payload_fails_validation(bag: Path) -> None:
    [payload] = [p for p in (bag / "data" / "files").iterdir() if p.suffix == ".mp4"]
    payload.write_bytes(payload.read_bytes()[:-1] + b"\0")
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag)).validate()
    assert any("BagIt validation failed" in p for p in check_bag(bag))


def test_forged_record_in_the_bag_is_named(bag: Path) -> None:
    records = bag / "data" / "custody" / "records.jsonl"
    lines = records.read_bytes().splitlines()
    seq = CustodyRecord.parse(lines[1]).seq
    lines[1] = lines[1].replace(b'"actor":"tester"', b'"actor":"forger"')
    records.write_bytes(b"".join(line + b"\n" for line in lines))
    problems = check_bag(bag)
    assert f"custody record {seq} does not verify with the vault key" in problems
