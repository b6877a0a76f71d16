"""The browser bundle the server serves is exactly what js/package-lock.json rebuilds."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "src" / "tainik" / "server" / "static" / "upload.js"


def test_bundle_is_reproducible_from_the_lock_file(tmp_path: Path) -> None:
    npm = shutil.which("npm")
    assert npm, "npm is needed to check the browser bundle (Node.js is part of the machine)"
    work = tmp_path / "js"
    work.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(ROOT / "js" / name, work / name)
    shutil.copytree(ROOT / "js" / "src", work / "src")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=work,
        check=True,
        capture_output=True,
        timeout=300,
    )
    script = json.loads((work / "package.json").read_text())["scripts"]["build"]
    out = tmp_path / "upload.js"
    command = script.replace("../src/tainik/server/static/upload.js", str(out))
    subprocess.run(
        command,
        shell=True,
        cwd=work,
        check=True,
        capture_output=True,
        env={"PATH": f"{work / 'node_modules' / '.bin'}:/usr/bin:/bin"},
        timeout=120,
    )
    assert out.read_bytes() == BUNDLE.read_bytes(), (
        "src/tainik/server/static/upload.js differs from a fresh build: run `make js`"
    )


def test_the_bundle_carries_no_remote_reference() -> None:
    text = BUNDLE.read_text()
    for needle in ("cdn.", "unpkg", "jsdelivr", "googleapis"):
        assert needle not in text
