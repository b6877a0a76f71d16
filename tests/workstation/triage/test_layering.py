"""The command line stays light: no media library is loaded until triage runs.

Which layer may import which is checked by the import-linter contracts in pyproject.toml
(`make importlint`, part of `make test`, runs them), not here; tests/cli/test_cli_startup.py
checks the same for every command's help.
"""

from __future__ import annotations

import subprocess
import sys


def test_the_command_line_loads_no_media_library_until_triage_runs() -> None:
    code = (
        "import sys, io, gettext\n"
        "from tainik.cli.main import build_parser\n"
        "from tainik.cli.context import Context\n"
        "parser = build_parser(Context(gettext.NullTranslations(), io.StringIO(), io.StringIO()))\n"
        "parser.parse_args(['triage', 'footage/', '--out', 'report/', '--fps', '2'])\n"
        "heavy = {'cv2', 'av', 'numpy', 'onnxruntime'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
