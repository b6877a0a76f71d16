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
    assert not loaded, f"importing the CLI loads {loaded}: keep them out of tainik.cli.syntax"


def test_the_help_of_every_command_imports_nothing_heavy() -> None:
    """``tainik COMMAND --help`` for every command, in one process: no command's code loads."""
    probe = (
        "import sys, io, gettext\n"
        "from tainik.cli import commands, main\n"
        "from tainik.cli.context import Context\n"
        "out = io.StringIO()\n"
        "ctx = Context(gettext.NullTranslations(), out, io.StringIO())\n"
        "for name in commands.COMMANDS:\n"
        "    try:\n"
        "        main.run([*name.split(), '--help'], ctx)\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code == 0, name\n"
        "    assert f'usage: tainik {name}' in out.getvalue(), name\n"
        "code = [m for m in sys.modules if m.startswith('tainik.cli.') and m.count('.') == 2]\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy + [m for m in code if m.split('.')[-1] in\n"
        "    {v.split(':')[0].split('.')[-1] for v in commands.COMMANDS.values()}]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    loaded = [m for m in result.stdout.strip().split(",") if m]
    assert not loaded, f"--help loads {loaded}: a command's code loads only when it runs"


def test_a_command_loads_its_own_code_only() -> None:
    """``tainik keys show`` runs without the sender, the vault, triage or the server."""
    probe = (
        "import sys, tempfile, pathlib\n"
        "from tainik.cli.main import main\n"
        "key = pathlib.Path(tempfile.mkdtemp()) / 'k'\n"
        "assert main(['keys', 'new', '--out', str(key), '--no-passphrase']) == 0\n"
        "assert main(['keys', 'show', str(key)]) == 0\n"
        "others = ('tainik.cli.send', 'tainik.cli.vault', 'tainik.cli.triage',\n"
        "          'tainik.cli.server', 'tainik.cli.pull', 'tainik.cli.publish')\n"
        f"heavy = [m for m in (*others, *{HEAVY!r}) if m in sys.modules]\n"
        "print('loaded:' + ','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("loaded:")]
    loaded = [m for m in line.removeprefix("loaded:").split(",") if m]
    assert not loaded, f"tainik keys loads {loaded}"
