"""The sender's resume state: whose it is, and what it records (and what it must not)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tainik.core.errors import UsageError
from tainik.crypto import Secret
from tainik.sender.state import Item, SendState, owner_of

WORDS = "acorn blade cider dune ember fable gusto"


def test_the_state_owner_does_not_depend_on_how_the_codename_is_spelled() -> None:
    assert owner_of(Secret(WORDS)) == owner_of(
        Secret("  ACORN  blade\tcider dune ember fable gusto\n")
    )
    assert owner_of(Secret(WORDS)) != owner_of(Secret(WORDS.replace("gusto", "gutsy")))


def test_a_state_is_bound_to_its_first_codename(tmp_path: Path) -> None:
    path = tmp_path / "c.txt.state.json"
    state = SendState.load(path)
    state.claim(Secret(WORDS))
    state.items["x"] = Item("a" * 26, done=True)
    state.save()
    again = SendState.load(path)
    again.claim(Secret(WORDS.upper()))  # the same codename
    assert again.items == {"x": Item("a" * 26, done=True)}
    with pytest.raises(UsageError, match="another codename"):
        SendState.load(path).claim(Secret(WORDS.replace("gusto", "gutsy")))
    assert WORDS not in path.read_text()


def test_a_state_from_before_owners_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "old.state.json"
    path.write_text(
        '{"v": 1, "files": {"/x": {"id": "i", "size": 1, "mtime_ns": 2, "done": true}}}'
    )
    state = SendState.load(path)
    state.claim(Secret(WORDS))
    assert state.owner == owner_of(Secret(WORDS))
    assert list(state.items.values()) == [Item("i", done=True)]


def test_fingerprints_are_keyed_per_state(tmp_path: Path) -> None:
    """Two states fingerprint the same file differently: a fingerprint cannot be looked up
    in a list of known files' hashes, nor matched between two seized states."""
    clip = tmp_path / "clip.bin"
    clip.write_bytes(b"x" * 1000)
    one, two = SendState(tmp_path / "1.json"), SendState(tmp_path / "2.json")
    stat = clip.stat()
    assert one.file_fingerprint(clip, stat) != two.file_fingerprint(clip, stat)
    assert one.file_fingerprint(clip, stat) == one.file_fingerprint(clip, clip.stat())
    os.utime(clip, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert one.file_fingerprint(clip, clip.stat()) != one.file_fingerprint(clip, stat)
    assert one.message_fingerprint("hi") != two.message_fingerprint("hi")


def test_a_format_2_state_is_rewritten_without_what_described_the_files(tmp_path: Path) -> None:
    """Format 2 kept the absolute path, size, time and every SHA-256 of each file and a hash
    of the message. Loading it keeps what resuming needs (the upload ids, under the same
    fingerprints a new run computes) and rewrites the file without the rest."""
    clip = tmp_path / "prison-cctv-cam3.mp4"
    clip.write_bytes(b"y" * 5000)
    stat = clip.stat()
    sha = hashlib.sha256(b"y" * 5000).hexdigest()
    message_sha = hashlib.sha256(b"the warden knew").hexdigest()
    old = {
        "v": 2,
        "owner": owner_of(Secret(WORDS)),
        "files": {
            str(clip.resolve()): {
                "size": 5000,
                "mtime_ns": stat.st_mtime_ns,
                "id": "b" * 26,
                "segment_size": 4194304,
                "sha256": sha,
                "segments": [sha],
                "checks": ["00" * 16],
                "done": False,
            },
            f"message:{message_sha}": {"id": "c" * 26, "done": True},
        },
    }
    path = tmp_path / "c.txt.state.json"
    path.write_text(json.dumps(old))
    state = SendState.load(path)
    state.claim(Secret(WORDS))
    text = path.read_text()
    for revealing in (str(clip), clip.name, sha, message_sha, str(stat.st_mtime_ns)):
        assert revealing not in text
    assert all(set(item) == {"id", "done"} for item in json.loads(text)["items"].values())
    again = SendState.load(path)
    assert again.items[again.file_fingerprint(clip, clip.stat())] == Item("b" * 26)
    assert again.items[again.message_fingerprint("the warden knew")] == Item("c" * 26, True)
    assert set(json.loads(text)) == {"v", "owner", "key", "items"}


def test_forget_deletes_the_file(tmp_path: Path) -> None:
    state = SendState(tmp_path / "s.json")
    state.save()
    state.forget()
    assert not (tmp_path / "s.json").exists()
