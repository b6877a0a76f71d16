"""Triage stays on the workstation's side, and the command line stays light."""

from __future__ import annotations

import subprocess
import sys

import grimp


def test_triage_imports_neither_the_server_nor_its_services() -> None:
    graph = grimp.build_graph("tainik")
    for forbidden in ("tainik.server", "tainik.service", "tainik.storage"):
        chain = graph.find_shortest_chain(
            importer="tainik.workstation.triage", imported=forbidden, as_packages=True
        )
        assert chain is None, chain


def test_the_command_line_loads_no_media_library_until_triage_runs() -> None:
    code = (
        "import sys, tainik.cli.triage\n"
        "heavy = {'cv2', 'av', 'numpy', 'onnxruntime'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
