"""``vault import``: verified originals stored once, read-only, filed in threads."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select

from tainik import crypto
from tainik.core.errors import IntegrityError, NotARecipientError
from tainik.core.manifest import Kind
from tainik.sealed import layout
from tainik.workstation.vault import catalogue
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault.custody import Action, CustodyRecord
from tainik.workstation.vault.vault import Vault
from tainik.workstation.vault.verify import verify
from workstation.vault.support import SERVER, import_into, seal, sidecar


def count(vault: Vault, table: Table) -> int:
    with vault.engine.connect() as db:
        return int(db.execute(select(func.count()).select_from(table)).scalar_one())


def pulled_thread(root: Path, recipient: crypto.Recipient) -> dict[str, Path]:
    """One source's conversation as pull leaves it: message, reply, two files, a message."""
    folder = root / "pulled" / "7"
    parts = {
        "hello": (Kind.MESSAGE, b"I work in block B. Videos follow.", "2025-05-01T10:00:00Z", 1),
        "video": (Kind.FILE, os.urandom(300_000), "2025-05-01T10:00:00Z", 2),
        "reply": (Kind.REPLY, b"Thank you. Are the clocks right?", "2025-05-02T09:00:00Z", 3),
        "photo": (Kind.FILE, os.urandom(5_000), "2025-05-03T08:00:00Z", 4),
        "answer": (Kind.MESSAGE, b"The clocks are one hour fast.", "2025-05-03T08:00:00Z", 5),
    }
    made = {}
    # Written in scrambled order: the thread order must come from the metadata, not the disk.
    for key in ("answer", "video", "photo", "hello", "reply"):
        kind, data, when, order = parts[key]
        container = seal(data, folder, recipient, kind=kind, name=f"{key}.bin".encode())
        sidecar(container, kind=kind, created_at=when, order=order)
        made[key] = container
    return made


def test_thread_in_order_and_records(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    made = pulled_thread(tmp_path, org_identity.recipient)
    results = import_into(vault, [org_identity], [tmp_path / "pulled"], jobs=2)
    assert sorted(r.status for r in results) == ["imported"] * 5
    [source] = vault_items.sources(vault)
    assert source.designation == "quiet heron"
    assert source.key == f"{SERVER}/7"
    thread = vault_items.thread(vault, source.id)
    assert [i.sealed_id for i in thread] == [
        layout.id_from_container(made[k]) for k in ("hello", "video", "reply", "photo", "answer")
    ]
    kinds = [Kind.MESSAGE, Kind.FILE, Kind.REPLY, Kind.FILE, Kind.MESSAGE]
    assert [i.kind for i in thread] == kinds
    assert vault.objects.path(thread[0].ref.sha256).read_bytes().startswith(b"I work in block B")
    # One import record per item, signed, naming the sealed file and the stored hashes.
    records = [CustodyRecord.parse(line) for _, line in vault.records()]
    assert [r.action for r in records] == [Action.INIT] + [Action.IMPORT] * 5
    by_sealed = {r.inputs[0]["sealed_id"]: r for r in records[1:]}
    for item in thread:
        record = by_sealed[item.sealed_id]
        assert record.file_refs(record.outputs) == [item.ref]
        assert record.details["source"] == f"{SERVER}/7"
    assert verify(vault).ok


def test_originals_are_read_only_and_named_by_hash(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    data = os.urandom(200_000)
    seal(data, tmp_path / "in", org_identity.recipient)
    import_into(vault, [org_identity], [tmp_path / "in"])
    [item] = vault_items.all_items(vault)
    path = vault.objects.path(item.ref.sha256)
    assert path.read_bytes() == data
    assert path.name == item.ref.sha256
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o555
    assert not any(vault.paths.staging.iterdir())


def test_rerun_is_idempotent_and_exact_duplicates_stored_once(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    data = os.urandom(150_000)
    first = seal(data, tmp_path / "in", org_identity.recipient, name=b"a.mp4")
    second = seal(data, tmp_path / "in", org_identity.recipient, name=b"copy of a.mp4")
    results = import_into(vault, [org_identity], [tmp_path / "in"])
    assert [r.status for r in results] == ["imported", "imported"]
    assert count(vault, catalogue.items) == 2
    assert count(vault, catalogue.objects) == 1
    again = import_into(vault, [org_identity], [first, second, tmp_path / "in"])
    assert {r.status for r in again} == {"present"}
    assert count(vault, catalogue.items) == 2
    assert count(vault, catalogue.custody) == 3
    assert verify(vault).ok


def test_bare_sealed_files_go_to_unsorted(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    seal(b"no metadata", tmp_path / "in", org_identity.recipient, kind=Kind.MESSAGE)
    import_into(vault, [org_identity], [tmp_path / "in"])
    [source] = vault_items.sources(vault)
    assert source.key == "unsorted"


def test_nothing_unverified_enters(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    good = seal(os.urandom(100_000), tmp_path / "in", org_identity.recipient)
    bad = seal(os.urandom(200_000), tmp_path / "in", org_identity.recipient)
    # Swap two segments of the bad one: each is still a valid age file, but out of place.
    s0, s1 = bad / layout.segment_name(0), bad / layout.segment_name(1)
    t = s0.read_bytes()
    s0.write_bytes(s1.read_bytes())
    s1.write_bytes(t)
    results = {r.container: r for r in import_into(vault, [org_identity], [tmp_path / "in"])}
    assert results[good].status == "imported"
    assert results[bad].status == "failed"
    error = results[bad].error
    assert isinstance(error, IntegrityError)
    assert "segment 0 does not match the manifest" in error.english()
    assert count(vault, catalogue.items) == 1
    assert count(vault, catalogue.objects) == 1
    assert len(vault.objects.stored_hashes()) == 1
    assert not any(p.is_file() for p in vault.paths.staging.rglob("*"))


def test_wrong_identity_is_a_key_error(vault: Vault, tmp_path: Path) -> None:
    stranger = crypto.Identity.generate()
    seal(b"x" * 10, tmp_path / "in", stranger.recipient)
    [result] = import_into(vault, [crypto.Identity.generate()], [tmp_path / "in"])
    assert isinstance(result.error, NotARecipientError)
    assert count(vault, catalogue.items) == 0


def test_a_server_label_that_contradicts_the_manifest_is_recorded_not_obeyed(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    """The server cannot read a manifest: its kind is the client's word. The manifest wins,
    the item enters, and the disagreement is kept in the import record and reported."""
    container = seal(b"a file", tmp_path / "in", org_identity.recipient, kind=Kind.FILE)
    sidecar(container, kind=Kind.MESSAGE)
    [result] = import_into(vault, [org_identity], [tmp_path / "in"])
    assert result.status == "imported", result.error
    assert "listed it as a message, but the sealed file is a file" in str(result.warning)
    [item] = vault_items.all_items(vault)
    assert item.kind == Kind.FILE
    [*_, (_seq, line)] = vault.records()
    record = CustodyRecord.parse(line)
    assert record.details["kind"] == "file"
    assert record.details["server_kind"] == "message"


def test_many_small_and_large_files_in_parallel(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    datas = [os.urandom(n) for n in (0, 1, 70_000, 700_000, 1_000_000)] + [
        os.urandom(500) for _ in range(20)
    ]
    for data in datas:
        seal(data, tmp_path / "in", org_identity.recipient)
    results = import_into(vault, [org_identity], [tmp_path / "in"], jobs=2)
    assert [r.status for r in results].count("imported") == len(datas), [
        str(r.error) for r in results if r.error
    ][:3]
    stored = {vault.objects.path(i.ref.sha256).read_bytes() for i in vault_items.all_items(vault)}
    assert stored == set(datas)
    report = verify(vault)
    assert report.ok, report.problems


def test_a_second_writer_is_refused(vault: Vault) -> None:
    from tainik.workstation.vault import keyfile
    from tainik.workstation.vault.errors import VaultBusyError

    key = keyfile.load(vault.paths.key_file, None)
    with vault.writer(key, "one"), pytest.raises(VaultBusyError), vault.writer(key, "two"):
        pass


@pytest.mark.timeout(60)
def test_parallel_import_after_blake3_threads_started(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    """Regression: workers forked after BLAKE3's thread pool started used to hang forever."""
    from tainik.workstation.vault.objects import hash_file

    big = tmp_path / "big"
    big.write_bytes(os.urandom(4 * 1024 * 1024))
    hash_file(big)  # starts BLAKE3's threads in this process
    for n in range(6):
        seal(os.urandom(1000 + n), tmp_path / "in", org_identity.recipient)
    results = import_into(vault, [org_identity], [tmp_path / "in"], jobs=2)
    assert [r.status for r in results] == ["imported"] * 6


def test_sealed_file_tars_as_pulled(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    from tainik.sealed import tarball
    from workstation.vault.support import to_tar

    folder = tmp_path / "pulled" / "7"
    big = os.urandom(300_000)
    message = seal(b"hello", folder, org_identity.recipient, kind=Kind.MESSAGE)
    sidecar(message, kind=Kind.MESSAGE, created_at="2025-05-01T10:00:00Z")
    video = seal(big, folder, org_identity.recipient)
    sidecar(video, kind=Kind.FILE, created_at="2025-05-01T10:00:01Z")
    tars = [to_tar(message), to_tar(video)]
    assert not any(p.is_dir() for p in folder.iterdir())
    results = import_into(vault, [org_identity], [tmp_path / "pulled"], jobs=2)
    assert [r.status for r in results] == ["imported", "imported"]
    [source] = vault_items.sources(vault)
    thread = vault_items.thread(vault, source.id)
    assert [i.kind for i in thread] == [Kind.MESSAGE, Kind.FILE]
    assert vault.objects.path(thread[1].ref.sha256).read_bytes() == big
    # The same sealed file, as a directory elsewhere, is recognised as already present.
    again = import_into(vault, [org_identity], tars)
    assert [r.status for r in again] == ["present", "present"]
    # A selection tar of two sealed files: both go to the unsorted thread.
    one = seal(b"one", tmp_path / "sel", org_identity.recipient, kind=Kind.MESSAGE)
    two = seal(b"two", tmp_path / "sel", org_identity.recipient, kind=Kind.MESSAGE)
    selection = tmp_path / "selection.tar"
    with selection.open("wb") as out:
        members = [(c.name.removesuffix(".sealed"), tarball.sealed_file_tar(c)) for c in (one, two)]
        for chunk in tarball.selection_tar(members).stream():
            out.write(chunk)
    results = import_into(vault, [org_identity], [selection])
    assert [r.status for r in results] == ["imported", "imported"]
    assert [s.key for s in vault_items.sources(vault)] == [f"{SERVER}/7", "unsorted"]
    assert not any(vault.paths.staging.iterdir())
    assert verify(vault).ok


def test_a_tar_with_a_link_is_refused(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    import io
    import tarfile

    from workstation.vault.support import to_tar

    container = seal(b"x" * 100, tmp_path / "in", org_identity.recipient)
    good = to_tar(container)
    bad = good.with_name("mixed.tar")
    with tarfile.open(good) as source, tarfile.open(bad, "w", format=tarfile.USTAR_FORMAT) as out:
        for member in source:
            out.addfile(member, source.extractfile(member) if member.isreg() else None)
        link = tarfile.TarInfo(f"{container.name}/segment-00000001.age")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        out.addfile(link, io.BytesIO())
    good.unlink()
    [result] = import_into(vault, [org_identity], [bad])
    assert result.status == "failed"
    assert "unexpected member" in str(result.error)
    assert count(vault, catalogue.items) == 0


def test_a_selection_member_for_another_key_fails_alone(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    from tainik.sealed import tarball

    stranger = crypto.Identity.generate()
    ours = seal(b"ours", tmp_path / "sel", org_identity.recipient, kind=Kind.MESSAGE)
    theirs = seal(os.urandom(200_000), tmp_path / "sel", stranger.recipient)
    selection = tmp_path / "selection.tar"
    members = [(c.name.removesuffix(".sealed"), tarball.sealed_file_tar(c)) for c in (ours, theirs)]
    with selection.open("wb") as out:
        for chunk in tarball.selection_tar(members).stream():
            out.write(chunk)
    results = import_into(vault, [org_identity], [selection])
    assert sorted(r.status for r in results) == ["failed", "imported"]
    [failed] = [r for r in results if r.status == "failed"]
    assert str(failed.container) == f"{selection}: {theirs.name}.tar"
    assert isinstance(failed.error, NotARecipientError)
    assert count(vault, catalogue.items) == 1


def test_a_selection_member_with_pull_metadata_goes_to_its_source(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    """A tar from the newsroom's pages carries ``ID.json`` before each sealed file: it is filed
    by it; metadata that does not hold fails that item alone, never files it elsewhere."""
    from tainik.core.pulled import SourceLink
    from tainik.sealed import tarball

    kept = seal(b"kept", tmp_path / "sel", org_identity.recipient, kind=Kind.MESSAGE)
    lying = seal(b"lying", tmp_path / "sel", org_identity.recipient, kind=Kind.MESSAGE)
    plain = seal(b"plain", tmp_path / "sel", org_identity.recipient, kind=Kind.MESSAGE)
    ids = [c.name.removesuffix(".sealed") for c in (kept, lying, plain)]

    def link(sealed_id: str) -> bytes:
        return SourceLink(SERVER, "7", "quiet otter", sealed_id, "message",
                          "2025-05-01T10:00:00Z", 3).encode()  # fmt: skip

    selection = tmp_path / "quiet-otter.tar"
    members = [
        (i, tarball.sealed_file_tar(c)) for i, c in zip(ids, (kept, lying, plain), strict=True)
    ]
    # The second one's metadata names another sealed file.
    sidecars = {ids[0]: link(ids[0]), ids[1]: link(ids[0])}
    with selection.open("wb") as out:
        for chunk in tarball.selection_tar(members, sidecars).stream():
            out.write(chunk)
    results = import_into(vault, [org_identity], [selection])
    assert sorted(r.status for r in results) == ["failed", "imported", "imported"]
    [failed] = [r for r in results if r.status == "failed"]
    assert "not valid pull metadata (sealed_id" in str(failed.error.english())  # type: ignore[union-attr]
    sources = {s.key: s for s in vault_items.sources(vault)}
    assert set(sources) == {f"{SERVER}/7", "unsorted"}
    assert sources[f"{SERVER}/7"].designation == "quiet otter"
    [filed] = vault_items.thread(vault, sources[f"{SERVER}/7"].id)
    assert filed.sealed_id == ids[0]
    assert filed.sent_at == "2025-05-01T10:00:00Z"
    [unsorted] = vault_items.thread(vault, sources["unsorted"].id)
    assert unsorted.sealed_id == ids[2]
