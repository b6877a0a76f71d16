"""The workstation runs offline: it never imports the server, its services or its storage."""

from __future__ import annotations

import grimp


def test_workstation_does_not_import_the_server() -> None:
    graph = grimp.build_graph("tainik")
    forbidden = ("tainik.server", "tainik.service", "tainik.storage")
    for module in sorted(graph.find_descendants("tainik.workstation.vault")) + sorted(
        graph.find_descendants("tainik.workstation.pull")
    ):
        for target in forbidden:
            assert not graph.chain_exists(importer=module, imported=target, as_packages=True), (
                module,
                target,
            )


def test_only_pull_talks_http() -> None:
    graph = grimp.build_graph("tainik", include_external_packages=True)
    for module in graph.find_descendants("tainik.workstation.vault"):
        assert "httpx" not in graph.find_modules_directly_imported_by(module), module
