"""``vault verify`` names each kind of tampering: stored files, records, the key, the catalogue."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tainik import crypto
from tainik.core.manifest import Kind
from tainik.workstation.signing import SigningKey
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault import keyfile
from tainik.workstation.vault.custody import CustodyRecord, Head
from tainik.workstation.vault.vault import Vault
from tainik.workstation.vault.verify import VerifyReport, verify
from workstation.vault.support import import_into, seal


@pytest.fixture
def filled(vault: Vault, org_identity: crypto.Identity, tmp_path: Path) -> Vault:
    """A vault with a message and three files: records 0 (init) to 4."""
    seal(b"a message", tmp_path / "in", org_identity.recipient, kind=Kind.MESSAGE)
    for size in (1000, 80_000, 150_000):
        seal(os.urandom(size), tmp_path / "in", org_identity.recipient)
    import_into(vault, [org_identity], [tmp_path / "in"])
    assert verify(vault).ok
    return vault


def messages(report: VerifyReport) -> str:
    return "\n".join(p.english() for p in report.problems)


def sql(vault: Vault, *statements: str, params: tuple[object, ...] = ()) -> None:
    """Change the catalogue behind the vault's back, as someone with the file could."""
    vault.engine.dispose()
    db = sqlite3.connect(vault.paths.catalogue)
    try:
        for name in ("custody", "items", "objects"):
            for verb in ("update", "delete"):
                db.execute(f"DROP TRIGGER IF EXISTS {name}_no_{verb}")
        for statement in statements:
            db.execute(statement, params if "?" in statement else ())
        db.commit()
    finally:
        db.close()


def record_line(vault: Vault, seq: int) -> bytes:
    return dict(vault.records())[seq]


def test_clean_vault_verifies(filled: Vault) -> None:
    report = verify(filled)
    assert report.ok
    assert report.records == 5
    assert report.files == 4


def test_altered_original_is_named(filled: Vault) -> None:
    item = max(vault_items.all_items(filled), key=lambda i: i.ref.size)
    path = filled.objects.path(item.ref.sha256)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    report = verify(filled)
    assert f"Stored file {item.ref.sha256[:16]} (item {item.id}, " in messages(report)
    assert "was altered: its SHA-256 is now" in messages(report)
    assert len(report.problems) == 1


def test_missing_original_is_named(filled: Vault) -> None:
    item = vault_items.item_by_id(filled, 2)
    assert item is not None
    path = filled.objects.path(item.ref.sha256)
    os.chmod(path.parent, 0o755)
    path.unlink()
    report = verify(filled)
    expected = f"Stored file {item.ref.sha256[:16]} (item 2, '{item.display_name}') is missing"
    assert messages(report) == expected


def test_edited_record_is_named(filled: Vault) -> None:
    line = record_line(filled, 2).replace(b'"actor":"tester"', b'"actor":"mallory"')
    sql(filled, "UPDATE custody SET record = ? WHERE seq = 2", params=(line,))
    report = verify(filled)
    assert "Custody record 2 (import) was edited: its signature does not verify" in messages(report)
    # ... and the item it vouched for is named: nothing sound accounts for it any more.
    assert "record 2, which imported it, is not sound (see above)" in messages(report)
    assert len(report.problems) == 2


def test_reordered_records_are_named(filled: Vault) -> None:
    two, three = record_line(filled, 2), record_line(filled, 3)
    sql(
        filled,
        "UPDATE custody SET record = ? WHERE seq = 2",
        params=(three,),
    )
    sql(filled, "UPDATE custody SET record = ? WHERE seq = 3", params=(two,))
    text = messages(verify(filled))
    assert "position 2 holds record 3 (records were reordered)" in text
    assert "position 3 holds record 2 (records were reordered)" in text


def test_deleted_record_is_named(filled: Vault) -> None:
    sql(filled, "DELETE FROM custody WHERE seq = 2")
    text = messages(verify(filled))
    assert "Custody record 2 is missing (deleted)" in text
    assert "The item imported by custody record 2" not in text  # only sound records count
    assert "chain is broken" not in text  # the gap is the diagnosis, not its consequence


def test_deleted_last_record_is_named(filled: Vault) -> None:
    sql(filled, "DELETE FROM custody WHERE seq = 4")
    text = messages(verify(filled))
    assert "Custody record 4 is missing (deleted): the signed head counts 5 records" in text


def test_replaced_vault_key_is_named(filled: Vault) -> None:
    stranger = SigningKey.generate()
    for path, data in (
        (filled.paths.key_file, keyfile.key_file_bytes(stranger, None)),
        (filled.paths.public_key_file, (stranger.verify_key.text + "\n").encode()),
    ):
        os.chmod(path, 0o600)
        path.write_bytes(data)
    text = messages(verify(filled))
    assert f"The vault key was replaced: vault.pub holds {stranger.verify_key.fingerprint}" in text
    # And the replaced key cannot sign anything new into this vault.
    from tainik.core.errors import IdentityError

    with pytest.raises(IdentityError, match="was the vault key replaced"):
        filled.writer(stranger, "mallory").__enter__()


def test_log_rewritten_with_another_key_needs_the_fingerprint(filled: Vault) -> None:
    """Someone who rewrites everything with a new key is caught only by a kept fingerprint."""
    original = filled.public_key()
    forger = SigningKey.generate()
    lines = dict(filled.records())
    rewritten: list[tuple[int, bytes]] = []
    prev = "0" * 64
    for seq in sorted(lines):
        record = CustodyRecord.parse(lines[seq])
        details = dict(record.details)
        if seq == 0:
            details["key"] = forger.verify_key.text
        forged = CustodyRecord(
            record.seq,
            record.time,
            "forger",
            record.action,
            record.inputs,
            record.outputs,
            details,
            prev,
        ).signed(forger)
        rewritten.append((seq, forged.line()))
        prev = forged.hash
    head = Head(len(rewritten), prev).signed(forger).encode()
    sql(
        filled,
        *[f"UPDATE custody SET record = x'{x.hex()}' WHERE seq = {seq}" for seq, x in rewritten],
        f"UPDATE meta SET value = '{forger.verify_key.text}' WHERE key = 'vault_key'",
        f"UPDATE meta SET value = '{head}' WHERE key = 'custody_head'",
    )
    os.chmod(filled.paths.public_key_file, 0o600)
    filled.paths.public_key_file.write_text(forger.verify_key.text + "\n")
    assert verify(filled).ok  # internally consistent: that is what a forgery looks like
    report = verify(filled, expect_key=original.fingerprint)
    expected = (
        f"The vault key is not the expected one: the vault's key is {forger.verify_key.fingerprint}"
    )
    assert expected in messages(report)


def test_edited_catalogue_is_named(filled: Vault) -> None:
    other = vault_items.item_by_id(filled, 4)
    assert other is not None
    sql(filled, f"UPDATE items SET sha256 = '{other.ref.sha256}' WHERE id = 3")
    assert "Item 3 does not match its custody record 3: the catalogue was edited" in messages(
        verify(filled)
    )


def test_stray_file_is_a_warning(filled: Vault) -> None:
    stray = filled.paths.objects / "ab" / ("ab" + "0" * 62)
    stray.parent.mkdir(exist_ok=True)  # a stored file's hash may start with ab too
    os.chmod(stray.parent, 0o755)
    stray.write_bytes(b"x")
    report = verify(filled)
    assert report.ok
    assert any("is not in the catalogue" in w.english() for w in report.warnings)
