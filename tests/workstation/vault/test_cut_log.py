"""A custody log cut back with an older signed head: what it leaves behind is named, and a head
kept outside the vault (``--expect-head``) catches even a cut that leaves nothing behind."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import run_cli
from tainik import crypto
from tainik.core.errors import ExitCode
from tainik.core.manifest import Kind
from tainik.workstation.publish.vaultlink import store_redacted
from tainik.workstation.vault import heads, keyfile
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault.custody import Action
from tainik.workstation.vault.errors import VaultIntegrityError, VaultUsageError
from tainik.workstation.vault.heads import KeptHead
from tainik.workstation.vault.items import Item
from tainik.workstation.vault.layout import CA_DIR
from tainik.workstation.vault.vault import Vault
from tainik.workstation.vault.verify import VerifyReport, current_head, verify
from workstation.vault.support import SERVER, import_into, seal, sidecar


@dataclass
class History:
    """A vault with two items (records 1, 2), then a third item (3) and a redaction of the
    first (4); the signed head and the head kept outside as they were after record 2 and 4."""

    vault: Vault
    first: Item
    third: Item
    redacted_sha256: str
    old_signed_head: str
    kept_old: str
    kept_new: str


@pytest.fixture
def history(vault: Vault, org_identity: crypto.Identity, tmp_path: Path) -> History:
    for n, size in enumerate((1000, 2000)):
        seal(os.urandom(size), tmp_path / "early", org_identity.recipient, name=b"cam%d.mp4" % n)
    import_into(vault, [org_identity], [tmp_path / "early"])
    old_signed_head = vault.meta("custody_head")
    assert old_signed_head is not None
    kept_old = current_head(vault)
    seal(os.urandom(3000), tmp_path / "late", org_identity.recipient, name=b"cam-late.mp4")
    import_into(vault, [org_identity], [tmp_path / "late"])
    first, _, third = vault_items.all_items(vault)
    redacted = tmp_path / "redacted.mp4"
    redacted.write_bytes(os.urandom(1500))
    key = keyfile.load(vault.paths.key_file, None)
    with vault.writer(key, "editor") as writer:
        ref = store_redacted(writer, first.ref.sha256, redacted, {"redaction": {"mode": "solid"}})
    report = verify(vault)
    assert report.ok
    assert report.records == 5
    return History(vault, first, third, ref.sha256, old_signed_head, kept_old, current_head(vault))


def tamper(vault: Vault, *statements: str, params: tuple[object, ...] = ()) -> None:
    """Change the catalogue behind the vault's back, as someone with the file could."""
    vault.engine.dispose()
    db = sqlite3.connect(vault.paths.catalogue)
    try:
        for name in ("custody", "items", "objects", "derivations"):
            for verb in ("update", "delete"):
                db.execute(f"DROP TRIGGER IF EXISTS {name}_no_{verb}")
        for statement in statements:
            db.execute(statement, params if "?" in statement else ())
        db.commit()
    finally:
        db.close()


def cut_back(h: History) -> None:
    """The attack: remove records 3 and 4 and put back the signed head of record 2."""
    tamper(
        h.vault,
        "DELETE FROM custody WHERE seq >= 3",
        "UPDATE meta SET value = ? WHERE key = 'custody_head'",
        params=(h.old_signed_head,),
    )


def messages(report: VerifyReport) -> list[str]:
    return [p.english() for p in report.problems]


def test_a_cut_log_names_what_it_left_behind(history: History) -> None:
    h = history
    cut_back(h)
    report = verify(h.vault)
    assert report.records == 3  # internally consistent: the log and its signed head agree
    assert sorted(messages(report)) == sorted(
        [
            f"Item 3 ('cam-late.mp4', stored file {h.third.ref.sha256[:16]}) is not accounted "
            "for by the custody log: record 3, which imported it, is not in the log",
            f"Derived file {h.redacted_sha256[:16]} (from {h.first.ref.sha256[:16]}) is not "
            "accounted for by the custody log: record 4, which made it, is not in the log",
        ]
    )


def test_a_stored_file_left_without_its_item_is_named(history: History) -> None:
    h = history
    cut_back(h)
    tamper(h.vault, f"DELETE FROM items WHERE id = {h.third.id}")
    assert messages(verify(h.vault)) == [
        f"Derived file {h.redacted_sha256[:16]} (from {h.first.ref.sha256[:16]}) is not "
        "accounted for by the custody log: record 4, which made it, is not in the log",
        f"Stored file {h.third.ref.sha256[:16]} is not accounted for by the custody log: "
        "record 3, which stored it, is not in the log",
    ]


def test_a_cut_that_leaves_nothing_behind_needs_a_kept_head(history: History) -> None:
    """Everything of records 3 and 4 removed too: only a head kept outside shows the cut."""
    h = history
    cut_back(h)
    tamper(
        h.vault,
        "DELETE FROM derivations",
        f"DELETE FROM items WHERE id = {h.third.id}",
        "DELETE FROM objects WHERE custody_seq >= 3",
    )
    for sha in (h.third.ref.sha256, h.redacted_sha256):
        path = h.vault.objects.path(sha)
        os.chmod(path.parent, 0o755)
        path.unlink()
    assert verify(h.vault).ok
    report = verify(h.vault, expect_heads=[heads.parse(h.kept_new)])
    assert messages(report) == [
        "The custody log was cut back: a head kept outside the vault counts 5 records, but the "
        "log ends at record 2 (records 3 to 4 are gone, whatever the signed head in the vault "
        "says)"
    ]
    bare = heads.parse(h.kept_new.split(":")[1])
    assert bare.count is None
    assert "the log was cut back or rewritten" in messages(verify(h.vault, expect_heads=[bare]))[0]
    # An older head kept outside is still in the log: it only grew since.
    assert verify(h.vault, expect_heads=[heads.parse(h.kept_old)]).ok


def test_a_log_cut_and_regrown_with_the_key_needs_a_kept_head(history: History) -> None:
    """Whoever holds the vault key can cut the log and append other records in its place: the
    counts agree again, the hashes do not."""
    h = history
    cut_back(h)
    tamper(h.vault, "DELETE FROM derivations", f"DELETE FROM items WHERE id = {h.third.id}")
    tamper(h.vault, "DELETE FROM objects WHERE custody_seq >= 3")
    key = keyfile.load(h.vault.paths.key_file, None)
    with h.vault.writer(key, "mallory") as writer, writer.transaction() as db:
        for _ in range(2):
            writer.append(
                db, Action.COPY, inputs=[h.first.ref.to_json()], outputs=[h.first.ref.to_json()]
            )
    assert current_head(h.vault).startswith("5:")
    report = verify(h.vault, expect_heads=[heads.parse(h.kept_new)])
    assert not report.ok
    assert messages(report)[0].startswith(
        "Custody record 4 is not the one a head kept outside the vault names ("
    )


def test_records_that_do_not_verify_leave_their_items_unaccounted(history: History) -> None:
    h = history
    line = dict(h.vault.records())[3].replace(b'"actor":"tester"', b'"actor":"mallory"')
    tamper(h.vault, "UPDATE custody SET record = ? WHERE seq = 3", params=(line,))
    text = "\n".join(messages(verify(h.vault)))
    assert "Custody record 3 (import) was edited" in text
    assert (
        f"Item 3 ('cam-late.mp4', stored file {h.third.ref.sha256[:16]}) is not accounted for by "
        "the custody log: record 3, which imported it, is not sound (see above)"
    ) in text


def test_a_source_left_without_records_is_named(
    history: History, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    """A source first seen in the cut records stays in the catalogue, with no item: named."""
    h = history
    signed = h.vault.meta("custody_head")
    container = seal(os.urandom(500), tmp_path / "newcomer", org_identity.recipient)
    sidecar(container, kind=Kind.FILE, source_id="42", designation="grey owl")
    import_into(h.vault, [org_identity], [tmp_path / "newcomer"])
    tamper(
        h.vault,
        "DELETE FROM custody WHERE seq = 5",
        "DELETE FROM items WHERE custody_seq = 5",
        "DELETE FROM objects WHERE custody_seq = 5",
        "UPDATE meta SET value = ? WHERE key = 'custody_head'",
        params=(signed,),
    )
    assert messages(verify(h.vault)) == [
        f"Source {SERVER}/42 ('grey owl') is not accounted for by the custody log: no sound "
        "record imported anything from it"
    ]


def test_an_item_moved_to_another_source_is_named(
    history: History, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    h = history
    container = seal(os.urandom(500), tmp_path / "newcomer", org_identity.recipient)
    sidecar(container, kind=Kind.FILE, source_id="42", designation="grey owl")
    import_into(h.vault, [org_identity], [tmp_path / "newcomer"])
    tamper(h.vault, "UPDATE items SET source_id = (SELECT max(id) FROM sources) WHERE id = 1")
    assert "Item 1 does not match its custody record 1: the catalogue was edited" in messages(
        verify(h.vault)
    )


def test_a_derivation_removed_from_the_catalogue_is_named(history: History) -> None:
    tamper(history.vault, "DELETE FROM derivations")
    assert messages(verify(history.vault)) == [
        "The file derived by custody record 4 is missing from the catalogue"
    ]


def test_a_publication_ca_without_a_publication_is_a_warning(history: History) -> None:
    (history.vault.paths.root / CA_DIR).mkdir()
    report = verify(history.vault)
    assert report.ok
    assert any("records no publication" in w.english() for w in report.warnings)


def test_heads_are_read_strictly(tmp_path: Path) -> None:
    digest = "ab" * 32
    assert heads.read(f"12:{digest}") == [KeptHead(12, digest)]
    assert heads.read(digest.upper()) == [KeptHead(None, digest)]
    kept = tmp_path / "heads.txt"
    kept.write_text(f"# evidence vault\n2026-01-05 import 3:{digest}\n\n5:{'cd' * 32}  # Anna\n")
    assert heads.read(str(kept)) == [KeptHead(3, digest), KeptHead(5, "cd" * 32)]
    for bad in ("0:" + digest, "12:" + digest[:-1], "nothing-here"):
        with pytest.raises(VaultUsageError):
            heads.read(bad)
    kept.write_text(f"3:{digest} 4:{digest}\n")
    with pytest.raises(VaultUsageError, match="line 1"):
        heads.read(str(kept))


def test_current_head_refuses_a_head_that_is_not_the_logs(history: History) -> None:
    tamper(history.vault, "DELETE FROM custody WHERE seq = 4")
    with pytest.raises(VaultIntegrityError, match="does not end where its signed head says"):
        current_head(history.vault)


def test_cli_prints_heads_and_checks_kept_ones(
    tmp_path: Path, org_key_file: Path, org_identity: crypto.Identity
) -> None:
    vault = tmp_path / "vault"
    assert (
        run_cli(["vault", "init", str(vault), "-i", str(org_key_file), "--no-passphrase"]).code == 0
    )
    seal(os.urandom(1000), tmp_path / "in", org_identity.recipient)
    imported = run_cli(["vault", "import", str(vault), str(tmp_path / "in")])
    assert imported.code == 0, imported.stderr
    head = run_cli(["vault", "head", str(vault)])
    assert head.code == 0, head.stderr
    noted = head.stdout.strip()
    assert noted.startswith("2:")
    assert len(noted) == 66
    assert f"custody log head {noted}: keep it outside the vault" in imported.stderr
    kept = tmp_path / "heads.txt"
    kept.write_text(f"after the first import: {noted}\n")
    checked = run_cli(["vault", "verify", str(vault), "--expect-head", str(kept)])
    assert checked.code == 0, checked.stderr
    assert checked.stdout.rstrip().endswith(f"head {noted}")

    opened = Vault.open(vault)
    signed_at_one = opened.meta("custody_head")
    opened.close()
    seal(os.urandom(1000), tmp_path / "in2", org_identity.recipient)
    assert run_cli(["vault", "import", str(vault), str(tmp_path / "in2")]).code == 0
    kept.write_text(kept.read_text() + run_cli(["vault", "head", str(vault)]).stdout)
    cut = Vault.open(vault)
    tamper(
        cut,
        "DELETE FROM custody WHERE seq = 2",
        "UPDATE meta SET value = ? WHERE key = 'custody_head'",
        params=(signed_at_one,),
    )
    cut.close()
    tamper(Vault.open(vault), "DELETE FROM items WHERE custody_seq = 2")
    tamper(Vault.open(vault), "DELETE FROM objects WHERE custody_seq = 2")
    assert run_cli(["vault", "verify", str(vault)]).code == 0  # a stray file: a warning only
    failed = run_cli(["vault", "verify", str(vault), "--expect-head", str(kept)])
    assert failed.code == ExitCode.INTEGRITY
    assert "problem: The custody log was cut back: a head kept outside the vault counts 3" in (
        failed.stderr
    )
    bad = run_cli(["vault", "verify", str(vault), "--expect-head", "3:xyz"])
    assert bad.code == ExitCode.USAGE
    assert "is not a custody head" in bad.stderr
