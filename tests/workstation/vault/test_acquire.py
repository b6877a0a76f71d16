"""``vault acquire``: a drive's folder, an unreadable file, a disk image and a block device,
recorded field by field; the source left as it was; kills, re-runs and tampering.

The folder is built on a tmpfs mounted with ``strictatime`` (where this process may mount),
so that any read without ``O_NOATIME`` would move an access time. The unreadable file is a
real I/O error from the kernel: an ext4 file system made with ``mkfs.ext4 -d`` is loop-mounted
read-only, then the loop device is shrunk under it (``losetup -c`` after truncating its
backing file), so the last file's blocks lie beyond the end of the device and ``read(2)``
fails with ``EIO`` part-way, as on a stick whose last sectors died. Tests that need a mount
or a loop device fail, saying why, where the system refuses them (they would check nothing).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import blake3
import pytest

from tainik import crypto
from tainik.workstation.vault import acquired, keyfile, show
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault.acquire import AcquireObserver, Acquirer
from tainik.workstation.vault.canonical import JsonObject
from tainik.workstation.vault.custody import CustodyRecord
from tainik.workstation.vault.errors import VaultUsageError
from tainik.workstation.vault.export import check_bag, export
from tainik.workstation.vault.vault import Vault
from tainik.workstation.vault.verify import verify
from workstation.vault.support import new_vault

MTIMES = {  # path -> modification time in ns (a fraction that microseconds would lose)
    b"a.txt": 1_500_000_000_123_456_789,
    b"sub/b.bin": 1_600_000_000_000_000_001,
    b"sub/deeper/dup.txt": 1_400_000_000_999_999_999,
    b"caf\xe9.txt": 1_300_000_000_000_000_000,
    b"empty": 1_700_000_000_500_000_000,
}
ATIME = 1_000_000_000_000_000_000


def tainik(*args: str) -> list[str]:
    return [sys.executable, "-m", "tainik", *args]


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        tainik(*args), capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def sh(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout


@contextlib.contextmanager
def mounted_tmpfs(point: Path) -> Iterator[bool]:
    """A tmpfs with strict access times at ``point``; False if mounting is not allowed."""
    point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "strictatime,size=64m", "tmpfs", str(point)],
        capture_output=True,
        check=False,
    )
    try:
        yield done.returncode == 0
    finally:
        if done.returncode == 0:
            subprocess.run(["umount", str(point)], check=False)


def snapshot(root: Path) -> dict[bytes, tuple[int, ...]]:
    """Everything ``lstat`` says of everything under ``root``; folders are listed through
    descriptors opened with ``O_NOATIME`` (listing one otherwise moves its access time)."""
    found: dict[bytes, tuple[int, ...]] = {}

    def visit(fd: int, prefix: bytes) -> None:
        for name in os.listdir(fd):
            raw = os.fsencode(name)
            st = os.stat(raw, dir_fd=fd, follow_symlinks=False)
            found[prefix + raw] = (
                st.st_mode,
                st.st_size,
                st.st_ino,
                st.st_mtime_ns,
                st.st_ctime_ns,
                st.st_atime_ns,
            )
            if stat.S_ISDIR(st.st_mode):
                child = os.open(raw, os.O_RDONLY | os.O_DIRECTORY | os.O_NOATIME, dir_fd=fd)
                try:
                    visit(child, prefix + raw + b"/")
                finally:
                    os.close(child)

    top = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOATIME)
    try:
        visit(top, b"")
    finally:
        os.close(top)
    return found


def build_folder(root: Path) -> dict[bytes, bytes]:
    """Files of known content and times, links, a pipe, a duplicate; returns the contents."""
    contents = {
        b"a.txt": b"alpha\n",
        b"sub/b.bin": os.urandom(3 * 1024 * 1024 + 7),
        b"sub/deeper/dup.txt": b"alpha\n",  # the same bytes as a.txt
        b"caf\xe9.txt": b"a name that is not UTF-8\n",
        b"empty": b"",
    }
    base = os.fsencode(root)
    for rel, data in contents.items():
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
    os.symlink(b"a.txt", os.path.join(base, b"link-to-a"))
    os.symlink(b"/nowhere/at/all", os.path.join(base, b"dangling"))
    os.symlink(b"sub", os.path.join(base, b"link-to-sub"))  # not followed: no second copy
    os.mkfifo(os.path.join(base, b"pipe"))
    for rel, mtime in MTIMES.items():
        os.utime(os.path.join(base, rel), ns=(ATIME, mtime))
    for folder in (b"sub/deeper", b"sub"):
        os.utime(os.path.join(base, folder), ns=(ATIME, ATIME + 5))
    return contents


def acquire_records(vault: Vault) -> list[CustodyRecord]:
    return [
        r
        for r in (CustodyRecord.parse(line) for _, line in vault.records())
        if r.action == "acquire"
    ]


def manifest_of(vault: Vault, record: CustodyRecord) -> tuple[bytes, acquired.Manifest]:
    ref = acquired.record_manifest(record)
    assert ref is not None
    data = vault.objects.path(ref.sha256).read_bytes()
    assert hashlib.sha256(data).hexdigest() == ref.sha256
    assert blake3.blake3(data).hexdigest() == ref.blake3
    assert len(data) == ref.size
    return data, acquired.Manifest.parse(data)


def by_path(manifest: acquired.Manifest) -> dict[bytes, JsonObject]:
    return {acquired.raw_path(e): e for e in manifest.entries}


def new_cli_vault(tmp: Path, org: crypto.Identity) -> Path:
    """A vault with an unprotected key, for the command line to acquire into."""
    new_vault(tmp / "vault", org.recipient).close()
    return tmp / "vault"


def verified(vault_path: Path) -> list[str]:
    """The problems ``verify`` finds (in English)."""
    with Vault.open(vault_path) as vault:
        return [p.english() for p in verify(vault).problems]


# -- a folder ------------------------------------------------------------------------------------


def test_folder_every_field_recorded_and_the_source_unchanged(
    tmp_path: Path, org_identity: crypto.Identity
) -> None:
    vault_path = new_cli_vault(tmp_path, org_identity)
    with mounted_tmpfs(tmp_path / "drive") as strict:
        drive = tmp_path / "drive"
        contents = build_folder(drive)
        before = snapshot(drive)
        done = run(
            "vault", "acquire", str(vault_path), str(drive),
            "--from", "courier 7", "--note", "envelope 14", "--actor", "desk",
        )  # fmt: skip
        after = snapshot(drive)
        links = {b"link-to-a", b"dangling", b"link-to-sub"}
        # Nothing on the source changed: every file's and folder's status, its access time
        # included (on a strictatime tmpfs, any read without O_NOATIME would move it). A link's
        # target cannot be read without touching the link's access time (readlink(2)).
        for rel, values in before.items():
            if rel in links:
                assert after[rel][:5] == values[:5], rel
            else:
                assert after[rel] == values, rel
        assert after.keys() == before.keys()
        if strict:
            mount_options = sh("findmnt", "-no", "OPTIONS", str(drive))
            assert "relatime" not in mount_options
            assert "noatime" not in mount_options
            assert before[b"a.txt"][5] == ATIME
        assert "mounted read-write" in done.stderr
        assert "mount -o remount,ro" in done.stderr

    with Vault.open(vault_path) as vault:
        [record] = acquire_records(vault)
        data, manifest = manifest_of(vault, record)
        header = manifest.header
        entries = by_path(manifest)

        # The record: who, when, --from, --note, the manifest's hash, counts and bytes.
        assert record.actor == "desk"
        assert record.details["from"] == "courier 7"
        assert record.details["note"] == "envelope 14"
        assert record.details["medium"] == "folder"
        assert record.details["source"] == acquired.source_key(hashlib.sha256(data).hexdigest())
        counts = record.details["counts"]
        assert counts == {
            "entries": 11,  # 5 files, 3 links, 2 folders, 1 pipe
            "files": 5,
            "stored": 5,
            "links": 3,
            "dirs": 2,
            "other": 1,
            "unreadable": 0,
            "changed": 0,
            "bytes": sum(len(c) for c in contents.values()),
        }
        assert header["counts"] == counts
        assert record.inputs[0] == header["medium"]

        # The header.
        assert header["format"] == acquired.FORMAT
        assert (header["from"], header["note"], header["actor"]) == (
            "courier 7",
            "envelope 14",
            "desk",
        )
        medium = header["medium"]
        assert isinstance(medium, dict)
        assert medium["kind"] == "folder"
        assert medium["path"] == str(drive)
        assert medium["read_only"] is False
        assert medium["opened_without_noatime"] == 0
        if strict:
            assert medium["fs_type"] == "tmpfs"
            assert medium["mount_point"] == str(drive)

        # Walk order: names in byte order, each folder before what it holds.
        assert [acquired.raw_path(e) for e in manifest.entries] == sorted(
            [*contents, *links, b"pipe", b"sub", b"sub/deeper"]
        )
        for rel, data_ in contents.items():
            entry = entries[rel]
            assert entry["type"] == "file"
            assert entry["status"] == "stored"
            assert entry["size"] == len(data_)
            assert entry["sha256"] == hashlib.sha256(data_).hexdigest()
            assert entry["blake3"] == blake3.blake3(data_).hexdigest()
            assert entry["mtime"] == acquired.format_ns(MTIMES[rel])
            mode, _size, _ino, _mtime, ctime, atime = before[rel]
            assert entry["mode"] == mode
            assert stat.S_IMODE(mode) == 0o644
            assert entry["ctime"] == acquired.format_ns(ctime)
            assert entry["atime"] == acquired.format_ns(atime)
            assert ("btime" in entry) != ("btime_unknown" in entry)
        assert entries[b"a.txt"]["mtime"] == "2017-07-14T02:40:00.123456789Z"
        assert base64.b64decode(str(entries[b"caf\xe9.txt"]["path_b64"])) == b"caf\xe9.txt"
        assert entries[b"caf\xe9.txt"]["path"] == "caf\ufffd.txt"
        assert entries[b"link-to-a"]["type"] == "link"
        assert entries[b"link-to-a"]["target"] == "a.txt"
        assert entries[b"dangling"]["target"] == "/nowhere/at/all"
        assert entries[b"link-to-sub"]["target"] == "sub"
        assert entries[b"pipe"]["type"] == "other"
        assert entries[b"pipe"]["kind"] == "fifo"
        assert entries[b"sub"]["type"] == "dir"
        assert entries[b"sub"]["mtime"] == acquired.format_ns(ATIME + 5)

        # The thread: one item a stored file, one for the manifest; duplicates share a file.
        [source] = [s for s in vault_items.sources(vault) if s.key == record.details["source"]]
        assert source.designation == "courier 7"
        thread = vault_items.thread(vault, source.id)
        assert sorted(i.name for i in thread) == sorted(
            [*contents, acquired.MANIFEST_NAME.encode()]
        )
        named = {i.name: i for i in thread}
        assert named[b"a.txt"].ref == named[b"sub/deeper/dup.txt"].ref
        assert named[b"a.txt"].sent_at == "2017-07-14T02:40:00.123456Z"
        assert named[b"sub/deeper/dup.txt"].display_name == "dup.txt"
        for item in thread:
            path = vault.objects.path(item.ref.sha256)
            assert stat.S_IMODE(path.stat().st_mode) == 0o444
            if item.name in contents:
                assert path.read_bytes() == contents[item.name]
        assert not any(vault.paths.journal.iterdir())
    assert "OK:" in run("vault", "verify", str(vault_path)).stdout


# -- an unreadable file, on a read-only ext4 whose device ends too soon -------------------------


@contextlib.contextmanager
def failing_stick(tmp: Path) -> Iterator[Path]:
    """An ext4 file system mounted read-only whose file z-bad.bin cannot be read past its
    first 400 KiB (its remaining blocks are beyond the shrunken loop device)."""
    src = tmp / "stick-files"
    src.mkdir()
    (src / "a-filler.bin").write_bytes(os.urandom(9_000_000))
    (src / "good.txt").write_bytes(b"good\n")
    (src / "z-bad.bin").write_bytes(os.urandom(1_000_000))
    image = tmp / "stick.img"
    with image.open("wb") as handle:
        handle.truncate(16 * 1024 * 1024)
    sh(
        "mkfs.ext4",
        "-q",
        "-b",
        "4096",
        "-O",
        "^has_journal",
        "-L",
        "STICK",
        "-d",
        str(src),
        str(image),
    )
    extents = sh("debugfs", "-R", "stat /z-bad.bin", str(image))
    first = int(extents.split("EXTENTS:")[1].split(":")[1].split("-")[0])
    point = tmp / "stick"
    point.mkdir()
    made = subprocess.run(
        ["losetup", "-f", "--show", "-r", str(image)], capture_output=True, text=True, check=False
    )
    if made.returncode != 0:
        pytest.fail(f"no loop device here (make test runs as root): {made.stderr.strip()}")
    loop = made.stdout.strip()
    try:
        mount = subprocess.run(
            ["mount", "-o", "ro", loop, str(point)], capture_output=True, text=True, check=False
        )
        if mount.returncode != 0:
            pytest.fail(f"cannot mount here (make test runs as root): {mount.stderr.strip()}")
        try:
            os.truncate(image, (first + 100) * 4096)
            sh("losetup", "-c", loop)
            yield point
        finally:
            subprocess.run(["umount", str(point)], check=False)
    finally:
        subprocess.run(["losetup", "-d", loop], check=False)


def test_unreadable_file_listed_with_its_error_and_the_rest_acquired(
    tmp_path: Path, org_identity: crypto.Identity
) -> None:
    vault_path = new_cli_vault(tmp_path, org_identity)
    with failing_stick(tmp_path) as stick:
        done = run("vault", "acquire", str(vault_path), str(stick), "--from", "R.", check=False)
        uuid = sh(
            "blkid",
            "-p",
            "-o",
            "value",
            "-s",
            "UUID",
            sh("findmnt", "-no", "SOURCE", str(stick)).strip(),
        ).strip()
    assert done.returncode == 5, done.stderr  # recorded, but not everything could be stored
    assert "z-bad.bin: unreadable, listed in the manifest" in done.stderr
    assert "mounted read-write" not in done.stderr
    with Vault.open(vault_path) as vault:
        [record] = acquire_records(vault)
        _, manifest = manifest_of(vault, record)
        entries = by_path(manifest)
        bad = entries[b"z-bad.bin"]
        assert bad["status"] == "unreadable"
        assert "sha256" not in bad
        assert bad["error"] == "Input/output error (EIO)"
        assert bad["at"] == 409_600
        assert entries[b"good.txt"]["status"] == "stored"
        assert entries[b"a-filler.bin"]["status"] == "stored"
        assert entries[b"lost+found"]["type"] == "dir"
        medium = manifest.header["medium"]
        assert isinstance(medium, dict)
        assert medium["fs_type"] == "ext4"
        assert medium["label"] == "STICK"
        assert medium["uuid"] == uuid
        assert medium["read_only"] is True
        assert record.details["counts"]["unreadable"] == 1  # type: ignore[index,call-overload]
        names = {i.name for i in vault_items.all_items(vault)}
        assert b"z-bad.bin" not in names
        assert b"good.txt" in names
    assert verified(vault_path) == []
    # The view presents the acquisition: medium, counts, first and last times, what failed.
    with Vault.open(vault_path) as vault:
        show.render(vault, tmp_path / "view", jobs=1)
    page = next(p for p in (tmp_path / "view").glob("source-*.html")).read_text()
    for text in ("ext4", "STICK", "R.", "first modified", "last modified", "1 file(s) not stored"):
        assert text in page, text
    assert "z-bad.bin: unreadable, Input/output error (EIO)" in page
    assert "good.txt" in page


# -- an image file and a block device --------------------------------------------------------------


def test_image_file_and_block_device_one_read_stored_whole(
    tmp_path: Path, org_identity: crypto.Identity
) -> None:
    vault_path = new_cli_vault(tmp_path, org_identity)
    image = tmp_path / "stick.img"
    with image.open("wb") as handle:
        handle.truncate(4 * 1024 * 1024)
    sh("mkfs.vfat", "-n", "HANDOVER", str(image))
    data = image.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    os.utime(image, ns=(ATIME, MTIMES[b"a.txt"]))
    before = image.stat()
    run("vault", "acquire", str(vault_path), str(image), "--from", "by post")
    after = image.stat()
    assert (after.st_atime_ns, after.st_mtime_ns, after.st_ctime_ns) == (
        before.st_atime_ns, before.st_mtime_ns, before.st_ctime_ns,
    )  # fmt: skip
    loop = subprocess.run(
        ["losetup", "-f", "--show", "-r", str(image)], capture_output=True, text=True, check=False
    )
    if loop.returncode == 0:
        device = loop.stdout.strip()
        try:
            run("vault", "acquire", str(vault_path), device, "--from", "by post", "--note", "dev")
        finally:
            subprocess.run(["losetup", "-d", device], check=False)
    with Vault.open(vault_path) as vault:
        records = acquire_records(vault)
        for record in records:
            _, manifest = manifest_of(vault, record)
            [entry] = manifest.entries
            assert entry["type"] == "image"
            assert entry["status"] == "stored"
            assert entry["sha256"] == sha
            assert entry["size"] == len(data)
            assert entry["blake3"] == blake3.blake3(data).hexdigest()
            assert vault.objects.path(sha).read_bytes() == data
            medium = manifest.header["medium"]
            assert isinstance(medium, dict)
            assert medium["fs_type"] == "vfat"
            assert medium["label"] == "HANDOVER"
            assert medium["size"] == len(data)
        assert records[0].details["medium"] == "image"
        image_entry = acquired.Manifest.parse(manifest_of(vault, records[0])[0]).entries[0]
        assert image_entry["path"] == "stick.img"
        assert image_entry["mtime"] == acquired.format_ns(MTIMES[b"a.txt"])
        if len(records) > 1:
            assert records[1].details["medium"] == "device"
            _, device_manifest = manifest_of(vault, records[1])
            assert device_manifest.header["medium"]["device_size"] == len(data)  # type: ignore[index,call-overload]
        assert len({i.ref.sha256 for i in vault_items.all_items(vault)} & {sha}) == 1
    if loop.returncode != 0:
        pytest.fail(f"the image was acquired; no loop device for the block device: {loop.stderr}")
    assert verified(vault_path) == []


# -- a file that changes while it is read -------------------------------------------------------


def test_file_changing_while_read_is_reported_not_stored(
    tmp_path: Path, org_identity: crypto.Identity
) -> None:
    drive = tmp_path / "drive"
    drive.mkdir()
    (drive / "calm.txt").write_bytes(b"calm\n")
    growing = drive / "growing.log"
    growing.write_bytes(os.urandom(48 * 1024 * 1024))
    stop = threading.Event()

    def append() -> None:
        with growing.open("ab") as handle:
            while not stop.is_set():
                handle.write(b"x")
                handle.flush()
                time.sleep(0.001)

    problems: list[JsonObject] = []

    class Seen(AcquireObserver):
        def problem(self, entry: JsonObject) -> None:
            problems.append(entry)

    vault = new_vault(tmp_path / "vault", org_identity.recipient)
    writer_thread = threading.Thread(target=append)
    writer_thread.start()
    try:
        with vault.writer(keyfile.load(vault.paths.key_file, None), "tester") as writer:
            result = Acquirer(writer, Seen()).run(drive, "someone")
    finally:
        stop.set()
        writer_thread.join()
    try:
        assert result.counts["changed"] == 1
        assert result.counts["stored"] == 1
        [problem] = problems
        assert problem["path"] == "growing.log"
        assert problem["status"] == "changed"
        assert "sha256" not in problem
        names = {i.name for i in vault_items.all_items(vault)}
        assert b"growing.log" not in names
        assert b"calm.txt" in names
        assert not [p for p in (vault.paths.staging).rglob("*") if p.is_file()]
        assert verify(vault).ok
    finally:
        vault.close()


# -- killed, then run again; tampered with --------------------------------------------------------


@pytest.mark.slow
def test_sigkill_then_rerun_finishes_without_reading_again_or_duplicates(
    tmp_path: Path, org_identity: crypto.Identity
) -> None:
    vault_path = new_cli_vault(tmp_path, org_identity)
    drive = tmp_path / "drive"
    drive.mkdir()
    for n in range(600):
        (drive / f"note-{n:03d}.txt").write_bytes(f"note {n}\n".encode() * 50)
    for n in range(4):
        (drive / f"zz-clip-{n}.bin").write_bytes(os.urandom(16 * 1024 * 1024))
    argv = tainik("vault", "acquire", str(vault_path), str(drive), "--from", "stick")
    journal_dir = vault_path / "journal"

    def journal_lines() -> int:
        found = list(journal_dir.glob("*.jsonl")) if journal_dir.exists() else []
        return found[0].read_bytes().count(b"\n") if found else 0

    def staged() -> bool:
        return any(p.is_file() for p in (vault_path / "staging").rglob("file-*"))

    def kill_when(moment: Callable[[], bool]) -> None:
        process = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while process.poll() is None and not moment() and time.monotonic() < deadline:
            time.sleep(0.002)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL, "the acquisition finished before the kill"

    kill_when(staged)  # in the middle of the first files, before any is journaled
    with Vault.open(vault_path) as vault:
        report = verify(vault)
        assert report.ok, [p.english() for p in report.problems]
        assert not vault_items.all_items(vault)
    kill_when(lambda: journal_lines() >= 2)  # the same command, killed again, later
    [journal] = journal_dir.glob("*.jsonl")
    kept = journal.read_bytes()
    reused_expected = kept.count(b"\n") - 1
    assert reused_expected >= 256

    with Vault.open(vault_path) as vault:  # killed: the vault verifies (strays only warn)
        report = verify(vault)
        assert report.ok, [p.english() for p in report.problems]
        assert not acquire_records(vault)
        key = keyfile.load(vault.paths.key_file, None)
        read: list[int] = []

        class Counting(AcquireObserver):
            def progress(self, count: int) -> None:
                read.append(count)

        with vault.writer(key, "tester") as writer:
            result = Acquirer(writer, Counting()).run(drive, "stick")
        assert result.reused == reused_expected
        assert not result.already
        total = sum(p.stat().st_size for p in drive.iterdir())
        journaled = sum(json.loads(line)["entry"]["size"] for line in kept.splitlines()[1:])
        assert sum(read) == total - journaled  # only what the journal did not hold was read
        [record] = acquire_records(vault)
        items = vault_items.all_items(vault)
        assert len(items) == 605
        assert len({i.name for i in items}) == 605
        assert verify(vault).ok
        assert not list(journal_dir.glob("*.jsonl"))

        # Killed after the commit, before the journal was removed: the run is recognised.
        journal.write_bytes(kept)
        with vault.writer(key, "tester") as writer:
            again = Acquirer(writer).run(drive, "stick")
        assert again.already
        assert again.seq == record.seq
        assert len(acquire_records(vault)) == 1
        assert not list(journal_dir.glob("*.jsonl"))
    refused = run("vault", "acquire", str(vault_path), str(drive), "--from", "stick", check=False)
    assert refused.returncode == 2
    assert "already acquired" in refused.stderr
    assert not list(journal_dir.glob("*.jsonl"))


def test_tampering_with_an_acquired_file_or_the_manifest_fails_verify(
    tmp_path: Path, org_identity: crypto.Identity
) -> None:
    vault_path = new_cli_vault(tmp_path, org_identity)
    drive = tmp_path / "drive"
    drive.mkdir()
    (drive / "statement.txt").write_bytes(b"what happened on the night\n")
    (drive / "photo.jpg").write_bytes(os.urandom(10_000))
    run("vault", "acquire", str(vault_path), str(drive), "--from", "a guard")
    copy, edited = tmp_path / "vault-copy", tmp_path / "vault-edited"
    shutil.copytree(vault_path, copy)
    shutil.copytree(vault_path, edited)
    statement = hashlib.sha256(b"what happened on the night\n").hexdigest()

    def tamper(path: Path, data: bytes) -> None:
        path.chmod(0o644)
        path.write_bytes(data)
        path.chmod(0o444)

    object_path = vault_path / "objects" / "sha256" / statement[:2] / statement
    tamper(object_path, b"what happened on another night\n")
    failed = "\n".join(verified(vault_path))
    assert f"Stored file {statement[:16]}" in failed
    assert "was altered" in failed

    with Vault.open(copy) as vault:
        [record] = acquire_records(vault)
        data, _ = manifest_of(vault, record)
        manifest_path = vault.objects.path(hashlib.sha256(data).hexdigest())
    forged = data.replace(b'"statement.txt"', b'"statement.tx_"')
    assert forged != data
    tamper(manifest_path, forged)
    failed = "\n".join(verified(copy))
    assert (
        f"The manifest of the acquisition recorded by custody record {record.seq} was altered"
        in failed
    )

    # The catalogue's row of an acquired file edited (as someone with the file could).
    db = sqlite3.connect(edited / "catalogue.sqlite")
    try:
        db.execute("DROP TRIGGER IF EXISTS objects_no_update")
        db.execute("UPDATE objects SET blake3 = ? WHERE sha256 = ?", ("0" * 64, statement))
        db.commit()
    finally:
        db.close()
    failed = "\n".join(verified(edited))
    assert f"that the acquisition recorded by custody record {record.seq} stored" in failed


def test_export_of_an_acquired_file_carries_its_record_and_manifest(
    tmp_path: Path, org_identity: crypto.Identity
) -> None:
    vault_path = new_cli_vault(tmp_path, org_identity)
    drive = tmp_path / "drive"
    drive.mkdir()
    (drive / "statement.txt").write_bytes(b"what happened on the night\n")
    run("vault", "acquire", str(vault_path), str(drive), "--from", "a guard")
    statement = hashlib.sha256(b"what happened on the night\n").hexdigest()
    bag = tmp_path / "bag"
    with Vault.open(vault_path) as vault:
        key = keyfile.load(vault.paths.key_file, None)
        with vault.writer(key, "tester") as writer:
            export(writer, [vault_items.resolve(vault, statement[:16])], bag)
    [manifest] = (bag / "data" / "custody").glob("acquisition-*.jsonl")
    assert b'"path":"statement.txt"' in manifest.read_bytes()
    assert check_bag(bag) == []
    manifest.write_bytes(manifest.read_bytes().replace(b"statement.txt", b"statement.tx_"))
    problems = check_bag(bag)
    assert any("is not the one it names" in p for p in problems), problems
    with Vault.open(vault_path) as vault:
        key = keyfile.load(vault.paths.key_file, None)
        with vault.writer(key, "tester") as writer, pytest.raises(VaultUsageError) as refused:
            Acquirer(writer).run(tmp_path, "x")
    assert "holds the vault itself" in refused.value.english()
