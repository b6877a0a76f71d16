"""The one error registry (issue 16): every error the server can raise declares the HTTP
status and API code it is answered with, and every code is documented, so that a new error
cannot be forgotten (it would be answered as the server's own failure)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

from starlette.exceptions import HTTPException

from tainik.core.errors import StorageError, StorageFullError, TainikError
from tainik.core.upload import IncompleteError
from tainik.server.exception_handlers import answer

DOCS = Path(__file__).parents[2] / "docs"


def server_modules() -> list[str]:
    """Every tainik module the server imports (in a fresh interpreter, so that what the tests
    import does not count)."""
    script = (
        "import json, sys, tainik.server.app; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('tainik'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return list(json.loads(done.stdout))


def subclasses(root: type[TainikError]) -> set[type[TainikError]]:
    found: set[type[TainikError]] = set()
    todo = [root]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def declares(cls: type[TainikError], name: str) -> bool:
    """``name`` is set by ``cls`` or an ancestor below the root (not the root's fallback)."""
    below_root = cls.__mro__[: cls.__mro__.index(TainikError)]
    return any(name in vars(k) for k in below_root)


def test_every_error_the_server_can_raise_declares_a_documented_status_and_code() -> None:
    modules = server_modules()
    for name in modules:
        importlib.import_module(name)
    errors = sorted(
        (c for c in subclasses(TainikError) if c.__module__ in modules),
        key=lambda c: f"{c.__module__}.{c.__qualname__}",
    )
    assert len(errors) > 40  # the walk is not vacuous
    documented = (DOCS / "protocol.md").read_text() + (DOCS / "api.md").read_text()
    for cls in errors:
        where = f"{cls.__module__}.{cls.__qualname__}"
        assert declares(cls, "status"), f"{where} declares no HTTP status"
        assert declares(cls, "code"), f"{where} declares no API code"
        assert 400 <= cls.status < 600, where
        assert f"`{cls.code}`" in documented or f'"{cls.code}"' in documented, (
            f"{where}: the code {cls.code!r} is in neither docs/protocol.md nor docs/api.md"
        )


def test_the_answer_is_what_the_error_declares_except_the_servers_own_failures() -> None:
    incomplete = answer(IncompleteError(count=2, missing=[3, 4]))
    assert (incomplete.status, incomplete.code, incomplete.missing) == (400, "incomplete", [3, 4])
    # A storage failure never shows its text (it may name server paths); disk full is 507
    # whoever says so.
    failed = answer(StorageError("Cannot write {path}", path="/srv/tainik/secret"))
    assert (failed.status, failed.code) == (500, "internal")
    assert "/srv" not in failed.message
    assert failed.hint
    full = answer(OSError(28, "No space left on device"))
    assert (full.status, full.code) == (507, "storage_full")
    assert answer(StorageFullError()).message == full.message
    unexpected = answer(RuntimeError("text that may quote the request"))
    assert (unexpected.status, unexpected.code) == (500, "internal")
    assert "quote" not in unexpected.message
    assert answer(HTTPException(405)).code == "method_not_allowed"
