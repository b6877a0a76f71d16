# mypy: ignore-errors
# (It ran against main at 271a8aa, whose names it uses: UploadView.as_json, SourceLink.fields.)
"""How the wire and state files in this folder were made: by main's own encoders *before* the
typed codecs of the upload protocol, the newsroom API, the pulled sidecar and the send state.

They are the "old files" that tests/core/test_wire_vectors.py parses with today's codecs.
Kept for the record only: never rerun it to make a failing test pass (that would hide
exactly the break the files guard).

Made with main at 271a8aa (the send state of format 2 with the sender of ce860b2^, the last
to write it): ``python tests/vectors/wire/make_old_wire.py OUT_DIR OLD_SRC``, where OLD_SRC is
the ``src`` of ``git archive ce860b2^``; the files were then copied here from OUT_DIR, and
the temporary path of the format-2 state's file replaced by ``/home/source/Videos/clip.bin``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]
SRC = TESTS.parent / "src"


def send_state_v2(out: Path, old_src: Path) -> None:
    """A format-2 state as the sender of ce860b2^ wrote it: a file's path, size, time and
    hashes, and a message's SHA-256 (fixed file times, so the vector is stable)."""
    sys.path.insert(0, str(old_src))
    try:
        for name in list(sys.modules):
            if name == "tainik" or name.startswith("tainik."):
                del sys.modules[name]
        state_mod = importlib.import_module("tainik.sender.state")
        plan_mod = importlib.import_module("tainik.sender.plan")
        from tainik.crypto import Secret

        work = out / "v2-work"
        work.mkdir(parents=True, exist_ok=True)
        clip = work / "clip.bin"
        clip.write_bytes(bytes(range(256)) * 4096)  # 1 MiB
        os.utime(clip, ns=(1_764_000_000_000_000_000, 1_764_000_000_000_000_000))
        state = state_mod.SendState.load(out / "send-state-v2.json")
        state.claim(Secret("acorn blade cider dune ember fable gusto"))
        plan = plan_mod.plan_file(clip, "aeaqcaibaeaqcaibaeaqcaibae", jobs=1)
        entry = plan.record(clip.stat())
        entry["done"] = True
        state.files[str(clip.resolve())] = entry
        state.files["message:" + "ab" * 32] = {"id": "aibaeaqcaibaeaqcaibaeaqcai", "done": False}
        state.save()
    finally:
        sys.path.remove(str(old_src))
        for name in list(sys.modules):
            if name == "tainik" or name.startswith("tainik."):
                del sys.modules[name]


def main_files(out: Path) -> None:
    sys.path.insert(0, str(SRC))
    from tainik.core.pulled import SourceLink, api_time
    from tainik.crypto import Secret
    from tainik.sender.state import Item, SendState
    from tainik.server.newsroom.api import reply_json, source_json, submission_json
    from tainik.service.newsroom.inbox import Item as InboxItem
    from tainik.service.newsroom.inbox import ReplyItem, SourceSummary
    from tainik.service.uploads import UploadView
    from tainik.workstation.pull.layout import PULL_FORMAT, write_json_atomically

    moment = datetime(2026, 12, 6, 4, 57, 3, 250017, tzinfo=UTC)

    # The send state, format 3 (a new codename not yet confirmed, then one that was).
    state = SendState(out / "send-state-v3.json", key=bytes(range(32)))
    state.claim(Secret("acorn blade cider dune ember fable gusto"))
    state.items = {"0" * 32: Item("aeaqcaibaeaqcaibaeaqcaibae", True), "f" * 32: Item("a" * 26)}
    state.save()
    fresh = SendState(out / "send-state-v3-unconfirmed.json", key=bytes(32), unconfirmed=True)
    fresh.claim(Secret("acorn blade cider dune ember fable gusto"))
    fresh.save()

    # The upload protocol's UPLOAD object, with a note and without.
    note = {
        "v": 1,
        "name": "clip.mp4",
        "size": 5,
        "segment_size": 4194304,
        "sha256": "ab" * 32,
        "segments": ["cd" * 32],
        "kind": "file",
    }
    views = [
        UploadView("aeaqcaibaeaqcaibaeaqcaibae", 3, [0, 2], False, note, moment).as_json(),
        UploadView("aibaeaqcaibaeaqcaibaeaqcai", 1, [], True, None, moment).as_json(),
    ]
    (out / "upload.json").write_text(json.dumps(views[0], indent=1) + "\n")
    (out / "uploads.json").write_text(json.dumps({"uploads": views}, indent=1) + "\n")

    # The newsroom API's objects.
    source = SourceSummary(7, "quiet owl", moment, moment + timedelta(hours=1), True, 2, 1, 1, 0)
    item = InboxItem(11, 7, "aeaqcaibaeaqcaibaeaqcaibae", "file", 12345, moment, False, True)
    waiting = InboxItem(12, 7, "aibaeaqcaibaeaqcaibaeaqcai", "message", 0, moment, True, False)
    reply = ReplyItem(3, 7, "ambqgaydambqgaydambqgaydam", moment, "jo", True)
    gone = ReplyItem(4, 7, "aqcaibaeaqcaibaeaqcaibaeaq", moment, None, False)
    api = {
        "source.json": source_json(source),
        "submissions-page.json": {
            "items": [submission_json(item), submission_json(waiting)],
            "next_cursor": "MjAyNi0xMi0wNlQwNDo1NzowMy4yNTAwMTcrMDA6MDB8MTI",
        },
        "replies-page.json": {"items": [reply_json(reply), reply_json(gone)], "next_cursor": None},
        "sources-page.json": {"items": [source_json(source)], "next_cursor": None},
        "token.json": {  # as Api.new_token answers
            "token": "T" * 43,
            "expires_at": api_time(moment),
            "name": "jo",
            "is_admin": False,
            "scope": "read",
        },
    }
    for name, value in api.items():
        (out / f"api-{name}").write_text(json.dumps(value, indent=1) + "\n")

    # The pulled sidecar: as the newsroom puts it in a tar, and as pull/sync.py writes it.
    link = SourceLink(
        server="http://newsroom.example.onion",
        source_id="7",
        designation="quiet owl",
        sealed_id="aeaqcaibaeaqcaibaeaqcaibae",
        kind="file",
        created_at=api_time(moment),
        order=11,
    )
    (out / "pulled-from-tar.json").write_bytes(link.encode())
    sidecar = {
        **link.fields(),
        "tar_size": 15872,
        "tar_sha256": "ef" * 32,
        "etag": '"aeaqcaibaeaqcaibaeaqcaibae-15872"',
        "pulled_at": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    write_json_atomically(out / "pulled-sidecar.json", sidecar)  # as pull/sync.py does
    write_json_atomically(  # and pull.json, the folder's claim
        out / "pull-folder.json", {"format": PULL_FORMAT, "server": link.server}
    )
    bare = SourceLink("http://n.onion", "8", "calm fox", "a" * 26, "reply", api_time(moment))
    (out / "pulled-reply-no-order.json").write_bytes(bare.encode())


if __name__ == "__main__":
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    send_state_v2(out_dir, Path(sys.argv[2]))
    main_files(out_dir)
