"""durable.replace_file / replace_json / move_into_place: the one way a file takes its final
name. Every atomic write in Tainik goes through them (ruff's TID251 bans ``os.replace``
elsewhere), so each guarantee is tested here once."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from tainik.core.errors import StorageError
from tainik.sealed import durable


def test_replace_file_writes_new_and_replaces_old(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    durable.replace_file(target, b"one")
    durable.replace_file(target, [b"tw", b"o"])
    assert target.read_bytes() == b"two"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary left


def test_replace_file_fsyncs_the_file_and_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    target = tmp_path / "a.json"
    durable.replace_json(target, {"b": 1, "a": [2]})
    assert json.loads(target.read_text()) == {"a": [2], "b": 1}
    assert synced[-1] == str(tmp_path)  # the folder, after the rename
    assert any(Path(p).name.startswith(".a.json.") for p in synced[:-1])  # the file, before


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "tainik.toml"
    durable.replace_file(target, b"old")

    def full(fd: int, data: object, offset: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    monkeypatch.setattr(os, "writev", lambda fd, views: full(fd, views, 0))
    monkeypatch.setattr(os, "write", lambda fd, data: full(fd, data, 0))
    with pytest.raises(StorageError) as caught:
        durable.replace_file(target, b"new" * 10_000)
    assert caught.value.params.get("errno") == errno.ENOSPC
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["tainik.toml"]


def test_move_into_place_reports_a_failed_rename_as_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        durable.move_into_place(tmp_path / "missing", tmp_path / "target")
