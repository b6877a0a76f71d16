"""The command line stays light: no media library is loaded until triage runs.

Which layer may import which is checked by the import-linter contracts in pyproject.toml
(`make importlint`, part of `make test`, runs them), not here.
"""

from __future__ import annotations

import subprocess
import sys


def test_the_command_line_loads_no_media_library_until_triage_runs() -> None:
    code = (
        "import sys, tainik.cli.triage\n"
        "heavy = {'cv2', 'av', 'numpy', 'onnxruntime'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
