"""Make the fixture ``tests/workstation/vault/fixtures/main-2026-12-06``: a vault as the last
release before Alembic (main at c451245, catalogue schema 1) made and filled it.

Run it with THAT release's code and test helpers first on the path, never with this one's::

    git archive c451245 | tar -x -C /tmp/old-main
    PYTHONPATH=/tmp/old-main/src:/tmp/old-main/tests .venv/bin/python \\
        tests/workstation/vault/make_main_vault.py tests/workstation/vault/fixtures/main-2026-12-06

It writes ``vault/`` (an unprotected key: tests only), ``org.key`` and ``known.json`` (what was
imported and the custody head).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from tainik import crypto
from tainik.core.manifest import Kind
from tainik.workstation.vault.verify import current_head
from workstation.vault.support import import_into, new_vault, seal


def main(out: Path) -> None:
    out.mkdir(parents=True)
    org = crypto.Identity.generate()
    (out / "org.key").write_text(crypto.identity_file_text(org), encoding="utf-8")
    vault = new_vault(out / "vault", org.recipient)
    inbox = out.parent / f".{out.name}.inbox"
    inbox.mkdir()
    sent = {
        "ledger.csv": (b"date,amount\n2026-11-02,120\n", Kind.FILE),
        "note.txt": ("a message, \u0441 \u0431\u0443\u043a\u0432\u0430\u043c\u0438".encode(),
                     Kind.MESSAGE),
        "clip.bin": (bytes(range(256)) * 16, Kind.FILE),
    }  # fmt: skip
    sealed = [seal(data, inbox, org.recipient, kind=kind, name=name.encode())
              for name, (data, kind) in sent.items()]  # fmt: skip
    import_into(vault, [org], sealed)
    import_into(vault, [org], sealed[:1])  # again: nothing new, no record
    known = {
        "made_by": "main at c451245 (catalogue schema 1)",
        "sha256": sorted(hashlib.sha256(data).hexdigest() for data, _kind in sent.values()),
        "head": current_head(vault),
    }
    vault.close()
    (out / "known.json").write_text(json.dumps(known, indent=1) + "\n", encoding="utf-8")
    for path in sorted(inbox.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    inbox.rmdir()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
