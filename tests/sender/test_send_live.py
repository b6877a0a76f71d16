"""`tainik send` against a real server: resume after a crash, and through a SOCKS5 proxy."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from live_server import LiveServer, make_instance
from socks5 import Socks5Proxy

MIB = 1024 * 1024
SEGMENT = 4 * MIB


def make_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        for _ in range(size // (16 * MIB)):
            block = os.urandom(16 * MIB)
            digest.update(block)
            handle.write(block)
    return digest.hexdigest()


def send_argv(server: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tainik", "send", "--server", server, *extra]


def segments_held(data_dir: Path) -> int:
    return sum(
        len(list(folder.glob("segment-*.age")))
        for folder in (data_dir / "uploads").iterdir()
        if folder.is_dir()
    )


def sent_counts(stderr: str) -> tuple[int, int]:
    match = re.search(
        r"Segments sent now: (\d+) \((\d+) bytes\); already on the server: (\d+)", stderr
    )
    assert match, stderr
    return int(match.group(1)), int(match.group(3))


def open_single(data_dir: Path, key: Path, out: Path) -> str:
    [container] = (data_dir / "blobs").glob("*.sealed")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tainik",
            "open",
            str(container),
            "--identity",
            str(key),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    digest = hashlib.sha256()
    with open(result.stdout.strip(), "rb") as handle:
        while block := handle.read(16 * MIB):
            digest.update(block)
    return digest.hexdigest()


def kill_midway_then_resume(
    tmp_path: Path, size: int, proxy: str | None, kill_after: int
) -> tuple[int, int, int]:
    """Returns (segments held at restart, sent after restart, reported as already there)."""
    data_dir, key, _ = make_instance(tmp_path)
    source = tmp_path / "trove.bin"
    expected = make_file(source, size)
    codename = tmp_path / "codename.txt"
    proxy_args = ["--proxy", proxy] if proxy else []
    with LiveServer(data_dir, tmp_path / "logs") as server:
        first = subprocess.Popen(
            send_argv(
                server.source_url,
                "--new-codename-out",
                str(codename),
                "--give-up-after",
                "4",
                *proxy_args,
                str(source),
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while segments_held(data_dir) < kill_after:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the upload did not progress"
            time.sleep(0.05)
        server.kill()
        _, stderr = first.communicate(timeout=120)
        assert first.returncode == 5, stderr
        assert "run the same command again" in stderr
        server.start()
        held = segments_held(data_dir)
        second = subprocess.run(
            send_argv(
                server.source_url, "--codename-file", str(codename), *proxy_args, str(source)
            ),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert second.returncode == 0, second.stderr
        sent, already = sent_counts(second.stderr)
    assert open_single(data_dir, key, tmp_path / "opened") == expected
    return held, sent, already


def test_resume_after_the_server_is_killed(tmp_path: Path) -> None:
    held, sent, already = kill_midway_then_resume(tmp_path, 1024 * MIB, None, kill_after=40)
    total = 256
    assert already == held
    # Bytes re-sent after the restart beyond what was missing: at most two segments' worth.
    assert sent - (total - held) <= 2
    assert held + sent == total


def test_resume_through_a_socks5_proxy(tmp_path: Path) -> None:
    with Socks5Proxy() as proxy:
        held, sent, already = kill_midway_then_resume(
            tmp_path, 1024 * MIB, proxy.url, kill_after=40
        )
        assert proxy.requests, "the sender did not use the proxy"
        assert all(is_name or host == "127.0.0.1" for host, _, is_name in proxy.requests)
    assert already == held
    assert sent - (256 - held) <= 2


def test_send_resolves_names_through_the_proxy(tmp_path: Path) -> None:
    data_dir, _key, _ = make_instance(tmp_path)
    (tmp_path / "note.txt").write_text("через прокси")
    with LiveServer(data_dir, tmp_path / "logs") as server, Socks5Proxy() as proxy:
        url = server.source_url.replace("127.0.0.1", "localhost")
        result = subprocess.run(
            send_argv(
                url,
                "--new-codename-out",
                str(tmp_path / "c.txt"),
                "--proxy",
                proxy.url,
                "--message",
                "hello",
                str(tmp_path / "note.txt"),
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert any(host == "localhost" and is_name for host, _, is_name in proxy.requests)
    assert len(list((data_dir / "blobs").glob("*.sealed"))) == 2


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--codename-file", "/nonexistent/c.txt", "x"],
        ["--codename-file", "BINARY", "BINARY"],  # not UTF-8: once a traceback
    ],
)
def test_send_usage_errors(args: list[str], tmp_path: Path) -> None:
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xb3\x00\xff" * 100)
    args = [str(binary) if a == "BINARY" else a for a in args]
    result = subprocess.run(send_argv("http://127.0.0.1:9", *args), capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("server", "proxy"),
    [
        ("abc.onion", None),  # no scheme: once retried for half an hour
        ("ftp://abc.onion", None),
        ("http://", None),
        ("http://[::1", None),  # once a traceback
        ("http://abc.onion:99999", None),
        ("http://abc.onion", "tor"),
        ("http://abc.onion", "socks5h://[::1"),
    ],
)
def test_a_mistyped_address_is_an_error_at_once(
    server: str, proxy: str | None, tmp_path: Path
) -> None:
    (tmp_path / "note.txt").write_text("x")
    (tmp_path / "c.txt").write_text("acorn blade cider dune ember fable gusto\n")
    started = time.monotonic()
    result = subprocess.run(
        send_argv(
            server,
            "--codename-file",
            str(tmp_path / "c.txt"),
            *(["--proxy", proxy] if proxy else []),
            str(tmp_path / "note.txt"),
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "--proxy must be" in result.stderr if proxy else "--server must be" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 30


def test_a_state_file_serves_one_codename_only(tmp_path: Path) -> None:
    """The resume state of one codename must never make another skip its files: the second
    source would be told its file was "sent by an earlier run" that sent it elsewhere."""
    data_dir, _key, _ = make_instance(tmp_path)
    (tmp_path / "note.txt").write_text("evidence")
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first_state = tmp_path / "first.txt.state.json"

    def send(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            send_argv(server.source_url, *args, str(tmp_path / "note.txt")),
            capture_output=True,
            text=True,
            timeout=120,
        )

    with LiveServer(data_dir, tmp_path / "logs") as server:
        assert send("--new-codename-out", str(first)).returncode == 0
        recorded = first_state.read_bytes()
        assert b'"owner"' in recorded
        assert first.read_text().strip().encode() not in recorded

        refused = send("--new-codename-out", str(second), "--state", str(first_state))
        assert refused.returncode == 2, refused.stderr
        assert "already holds resume state" in refused.stderr
        assert not second.exists(), "a codename was made although the run was refused"

        assert send("--new-codename-out", str(second)).returncode == 0
        assert len(list((data_dir / "blobs").glob("*.sealed"))) == 2

        crossed = send("--codename-file", str(second), "--state", str(first_state))
        assert crossed.returncode == 2, crossed.stderr
        assert "another codename" in crossed.stderr
        assert first_state.read_bytes() == recorded

        again = send("--codename-file", str(first))
        assert again.returncode == 0, again.stderr
        assert "items sent by an earlier run: 1" in again.stderr


def test_a_file_changed_since_it_was_hashed_is_never_mixed_in(tmp_path: Path) -> None:
    """A file edited in place after the first run hashed it and began its upload (same size,
    same mtime: a camera recorder rewriting a file, a clock reset) is refused before any of it
    is sent, the other files still go, and the next run sends it as it is then. The resumed
    run checks each segment against the SHA-256 in the upload's note on the server (the
    resume state holds no hash)."""
    import base64

    from tainik import crypto
    from tainik.crypto import Secret
    from tainik.sealed.writer import new_sealed_id
    from tainik.sender.client import ClientSettings, SourceClient
    from tainik.sender.plan import plan_file
    from tainik.sender.state import Item, SendState

    data_dir, _key, _ = make_instance(tmp_path)
    source = tmp_path / "clip.bin"
    source.write_bytes(os.urandom(3 * SEGMENT + 1000))
    codename = tmp_path / "c.txt"
    with LiveServer(data_dir, tmp_path / "logs") as server:
        made = subprocess.run(
            send_argv(server.source_url, "--new-codename-out", str(codename), "--message", "hi"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert made.returncode == 0, made.stderr
        # What a first run that stopped after hashing and creating the upload leaves.
        state = SendState.load(tmp_path / "c.txt.state.json")
        state.claim(Secret(codename.read_text().strip()))
        plan = plan_file(source, new_sealed_id())
        client = SourceClient(ClientSettings(server.source_url))
        try:
            client.api(
                "POST",
                "/api/login",
                expect=(204,),
                json={"codename": codename.read_text().strip()},
            )
            reply = crypto.Recipient.parse(
                client.request("GET", "/api/session").json()["recipient"]
            )
            note = base64.b64encode(crypto.encrypt(plan.note(), [reply])).decode("ascii")
            client.api(
                "POST",
                "/api/uploads",
                expect=(201,),
                json={"id": plan.manifest.id, "segments": plan.plan.count, "note": note},
            )
        finally:
            client.close()
        stat = source.stat()
        state.items[state.file_fingerprint(source, stat)] = Item(plan.manifest.id)
        state.save()
        with open(source, "r+b") as handle:  # one byte of segment 2, in place
            handle.seek(2 * SEGMENT + 5)
            byte = handle.read(1)
            handle.seek(2 * SEGMENT + 5)
            handle.write(bytes([byte[0] ^ 1]))
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        other = tmp_path / "other.bin"
        other.write_bytes(os.urandom(1000))
        argv = send_argv(
            server.source_url,
            "--codename-file",
            str(codename),
            "--jobs",
            "1",
            str(source),
            str(other),
        )
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert result.returncode == 5, result.stderr
        assert "changed since it was hashed" in result.stderr
        assert "clip.bin: not sent" in result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout.split() == [str(other)]  # the other file still went
        assert len(list((data_dir / "blobs").glob("*.sealed"))) == 2  # message and other.bin
        # The next run hashes the file again and sends it as it is now, not for ever refused.
        again = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert again.stdout.split() == [str(source)]
    assert len(list((data_dir / "blobs").glob("*.sealed"))) == 3


def test_a_rerun_after_an_unheard_completion_finishes_without_sending(tmp_path: Path) -> None:
    """The server committed the upload but the sender died before it recorded so (Tor dropped
    the answer, the laptop was shut): the re-run must finish, sending nothing again."""
    import json

    data_dir, _key, _ = make_instance(tmp_path)
    source = tmp_path / "clip.bin"
    source.write_bytes(os.urandom(2 * SEGMENT + 5))
    codename, state = tmp_path / "c.txt", tmp_path / "c.txt.state.json"
    with LiveServer(data_dir, tmp_path / "logs") as server:
        first = subprocess.run(
            send_argv(server.source_url, "--new-codename-out", str(codename), str(source)),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert first.returncode == 0, first.stderr
        recorded = json.loads(state.read_text())
        for entry in recorded["items"].values():
            entry["done"] = False  # as if killed between the server's commit and this save
        state.write_text(json.dumps(recorded))
        again = subprocess.run(
            send_argv(server.source_url, "--codename-file", str(codename), str(source)),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert again.returncode == 0, again.stderr
        assert sent_counts(again.stderr) == (0, 3)
        assert str(source) in again.stdout
    assert len(list((data_dir / "blobs").glob("*.sealed"))) == 1


def test_a_file_over_the_servers_limit_is_refused_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    data_dir, _key, _ = make_instance(tmp_path)
    config = data_dir / "tainik.toml"
    config.write_text(
        config.read_text().replace("max_upload_bytes = 0", "max_upload_bytes = 5000000")
    )
    small, large = tmp_path / "small.bin", tmp_path / "large.bin"
    small.write_bytes(os.urandom(1000))
    large.write_bytes(os.urandom(6_000_000))
    with LiveServer(data_dir, tmp_path / "logs") as server:
        result = subprocess.run(
            send_argv(
                server.source_url,
                "--new-codename-out",
                str(tmp_path / "c.txt"),
                str(small),
                str(large),
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2, result.stderr
    assert "large.bin is larger than this server accepts (4.8 MiB); nothing was sent" in (
        result.stderr
    )
    assert not list((data_dir / "blobs").glob("*.sealed"))
    assert not [p for p in (data_dir / "uploads").iterdir() if p.is_dir()]
    # The codename sent nothing, so the server stores nothing of it (not even after a
    # restart, which forgets new sources); the next run with it still works, and writes the
    # source with its first upload.
    assert sources_stored(data_dir) == 0
    with LiveServer(data_dir, tmp_path / "logs") as server:
        again = subprocess.run(
            send_argv(server.source_url, "--codename-file", str(tmp_path / "c.txt"), str(small)),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert again.returncode == 0, again.stderr
    assert sources_stored(data_dir) == 1
    assert len(list((data_dir / "blobs").glob("*.sealed"))) == 1


def sources_stored(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "tainik.db") as db:
        return int(db.execute("SELECT count(*) FROM sources").fetchone()[0])


@pytest.mark.parametrize("from_stdin", [True, False])
def test_the_message_can_come_from_a_file_or_standard_input(
    tmp_path: Path, from_stdin: bool
) -> None:
    """--message TEXT shows in the process list and the shell's history; --message-file
    keeps the text off the command line."""
    data_dir, key, _ = make_instance(tmp_path)
    text = "Камера 3, 14 марта, 02:10–02:40.\nПодробности в файлах."
    note = tmp_path / "note.txt"
    note.write_text(text, encoding="utf-8")
    with LiveServer(data_dir, tmp_path / "logs") as server:
        result = subprocess.run(
            send_argv(
                server.source_url,
                "--new-codename-out",
                str(tmp_path / "c.txt"),
                "--message-file",
                "-" if from_stdin else str(note),
            ),
            input=text.encode("utf-8") if from_stdin else None,
            capture_output=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr.decode()
    assert (
        open_single(data_dir, key, tmp_path / "out")
        == hashlib.sha256(text.encode("utf-8")).hexdigest()
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--message", "a", "--message-file", "-"], "not allowed with argument"),
        (["--message", "x" * 100_001], "longer than 100000 characters"),
        (["--message-file", "/nonexistent/note.txt"], "cannot read the message"),
    ],
)
def test_message_usage_errors(args: list[str], says: str, tmp_path: Path) -> None:
    result = subprocess.run(
        send_argv("http://127.0.0.1:9", "--codename-file", str(tmp_path / "c.txt"), *args),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr
