"""Each external format has one codec, and both of its ends use it (issue 16: "each format's
codec used at both of its ends"): the module that writes the format and the module that reads
it import the same codec module, so neither end can drift into a dict built or read by hand.

An import is the contract's unit: a new writer or reader of a format belongs in the table.
"""

from __future__ import annotations

import grimp
import pytest

# codec module → (the modules that write the format, the modules that read it)
ENDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # The upload protocol's objects: the server writes them, tainik send reads them.
    "tainik.core.source_api": (
        ("tainik.service.uploads", "tainik.server.source.api", "tainik.sender.plan"),
        ("tainik.sender.send",),
    ),
    # The newsroom API's objects: the server writes them, tainik pull reads them.
    "tainik.core.newsroom_api": (
        ("tainik.server.newsroom.api",),
        ("tainik.workstation.pull.client", "tainik.workstation.pull.sync"),
    ),
    # The pulled sidecar: pull and the newsroom's tars write it, vault import reads it.
    "tainik.core.pulled": (
        ("tainik.workstation.pull.sync", "tainik.service.newsroom.downloads"),
        ("tainik.workstation.vault.pulled",),
    ),
    # The send state: one module writes and reads it.
    "tainik.core.send_state": (("tainik.sender.state",), ("tainik.sender.state",)),
    # Every time the formats above carry.
    "tainik.core.timestamps": (
        ("tainik.core.source_api", "tainik.core.newsroom_api", "tainik.core.pulled"),
        ("tainik.core.jsonfields",),
    ),
}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("tainik")


@pytest.mark.parametrize("codec", sorted(ENDS))
def test_both_ends_of_each_format_import_its_codec(graph: grimp.ImportGraph, codec: str) -> None:
    writers, readers = ENDS[codec]
    for end in (*writers, *readers):
        assert graph.direct_import_exists(importer=end, imported=codec), f"{end} skips {codec}"
