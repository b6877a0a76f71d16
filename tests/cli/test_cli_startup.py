"""The command line starts light: heavy libraries load only for the commands that use them.

A source running `tainik send` on an old laptop, or a server process, should not pay for video
decoding, OpenCV or ONNX it never uses (each costs tens of MiB and most of a second).
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "numpy",
    "av",
    "cv2",
    "onnxruntime",
    "onnx",
    "c2pa",
    "skimage",
    "sqlalchemy",
    "starlette",
    "uvicorn",
    "httpx",
    "jinja2",
    "bagit",
    "blake3",
    "cryptography.x509",
    "argon2",
)


def test_building_the_parser_imports_nothing_heavy() -> None:
    probe = (
        "import sys, io, gettext\n"
        "from tainik.cli.main import build_parser\n"
        "from tainik.cli.context import Context\n"
        "build_parser(Context(gettext.NullTranslations(), io.StringIO(), io.StringIO()))\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    loaded = [m for m in result.stdout.strip().split(",") if m]
    assert not loaded, f"importing the CLI loads {loaded}: import them inside the commands"
