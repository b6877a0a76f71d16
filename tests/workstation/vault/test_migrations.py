"""The vault catalogue's migrations: a vault made by the last release before Alembic, with
evidence in it, upgrades with everything kept, the custody log recording the upgrade, and still
verifies against the head kept from before; a catalogue newer than the code is refused; the
models and the revisions agree.

One test per revision below the ``# revision NNNN`` comments.
"""

from __future__ import annotations

import gettext
import hashlib
import io
import json
import shutil
import sqlite3
from pathlib import Path

from tainik import crypto
from tainik.cli import main as cli_main
from tainik.cli.context import Context
from tainik.workstation.vault import catalogue, migrations
from tainik.workstation.vault.custody import Action, CustodyRecord
from tainik.workstation.vault.vault import Vault
from workstation.vault.support import new_vault

# Made by tests/workstation/vault/make_main_vault.py with main at c451245 (catalogue schema 1).
MAIN = Path(__file__).parent / "fixtures" / "main-2026-12-06"
HEAD = migrations.HISTORY.head


def copy_main(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    shutil.copytree(MAIN / "vault", root)
    (root / "staging").mkdir(mode=0o700, exist_ok=True)  # empty folders are not in git
    return root


def run(*args: str) -> tuple[int, str, str]:
    """``tainik ARGS`` in this process, in English: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = cli_main.run(list(args), Context(gettext.NullTranslations(), stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()


def rows(
    path: Path, like: dict[str, list[str]] | None = None
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table; only the columns of ``like`` (:func:`columns` of an older
    catalogue) when given, so that a later revision's new columns leave the comparison alone."""
    found = like or columns(path)
    with sqlite3.connect(path) as db:
        return {
            table: sorted(db.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall())
            for table, names in found.items()
        }


def columns(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as db:
        tables = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: [row[1] for row in db.execute(f"PRAGMA table_info({t})")] for t in tables}


# -- revision 0001 (the baseline): from catalogue schema 1, every vault before Alembic ----------


def test_a_vault_of_main_migrates_with_its_evidence_kept_and_the_upgrade_recorded(
    tmp_path: Path,
) -> None:
    root = copy_main(tmp_path)
    known = json.loads((MAIN / "known.json").read_text(encoding="utf-8"))
    before = rows(root / "catalogue.sqlite")
    assert len(before["items"]) == 3
    assert len(before["custody"]) == 4
    # Schema 1 is the baseline: read as it is, before any upgrade.
    code, out, err = run("vault", "verify", str(root), "--expect-head", known["head"])
    assert code == 0, err

    code, _out, err = run("vault", "migrate", str(root), "--actor", "upgrader")
    assert code == 0, err
    copies = list((root / "backups").iterdir())
    assert len(copies) == 1
    assert "catalogue at schema 1." in err
    assert f"Copied to {copies[0]}" in err
    assert "custody record 4 records it" in err

    after = rows(root / "catalogue.sqlite", columns(copies[0]))
    for table in ("sources", "items", "objects", "derivations", "perceptual"):
        assert after[table] == before[table], table
    assert after["custody"][:4] == before["custody"]  # byte for byte
    line = after["custody"][4][1]
    assert isinstance(line, bytes)
    record = CustodyRecord.parse(line)
    assert (record.seq, record.action, record.actor) == (4, Action.MIGRATE, "upgrader")
    assert record.details == {
        "from": "schema 1", "to": HEAD,
        "revisions": [script.revision for script in migrations.HISTORY.pending(None)],
        "backup": f"backups/{copies[0].name}",
        "backup_sha256": hashlib.sha256(copies[0].read_bytes()).hexdigest(),
    }  # fmt: skip
    assert rows(root / "catalogue.sqlite")["alembic_version"] == [(HEAD,)]
    assert rows(copies[0]) == before  # the copy is the catalogue as it was

    # The log grew by one signed record; nothing the head kept from before covers was lost.
    code, out, err = run("vault", "verify", str(root), "--expect-head", known["head"])
    assert code == 0, err
    assert "OK: 5 custody records, 3 stored files" in out
    code, out, _err = run("vault", "list", str(root), "--json")
    assert code == 0
    listed = json.loads(out)
    assert sorted(i["sha256"] for thread in listed for i in thread["items"]) == known["sha256"]

    code, _out, err = run("vault", "migrate", str(root))
    assert code == 0
    assert "nothing to do" in err
    assert len(rows(root / "catalogue.sqlite")["custody"]) == 5
    assert len(list((root / "backups").iterdir())) == 1


# -- every revision -----------------------------------------------------------------------------


def test_a_catalogue_newer_than_this_code_is_refused(tmp_path: Path) -> None:
    root = copy_main(tmp_path)
    assert run("vault", "migrate", str(root))[0] == 0
    with sqlite3.connect(root / "catalogue.sqlite") as db:
        db.execute("UPDATE alembic_version SET version_num = '0099_later'")
    before = rows(root / "catalogue.sqlite")
    for argv in (("verify", str(root)), ("list", str(root)), ("migrate", str(root))):
        code, _out, err = run("vault", *argv)
        assert code == 5, (argv, err)
        assert "revision 0099_later" in err
        assert f"goes up to revision {HEAD}" in err
    assert rows(root / "catalogue.sqlite") == before


def test_a_new_catalogue_is_made_by_the_revisions_and_agrees_with_the_models(
    tmp_path: Path,
) -> None:
    made = new_vault(tmp_path / "new", crypto.Identity.generate().recipient)
    made.close()
    root = copy_main(tmp_path)
    assert run("vault", "migrate", str(root))[0] == 0
    for path in (tmp_path / "new", root):
        with Vault.open(path) as vault, vault.engine.connect() as db:
            assert migrations.HISTORY.current(db) == migrations.HISTORY.head
            assert migrations.HISTORY.differences(db, catalogue.metadata) == []
            triggers = db.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
            ).scalar()
            assert triggers == 8  # the evidence tables stay append-only
