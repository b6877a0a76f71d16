"""`tainik send` through a slow link: Ctrl-C stops it at once, the progress line tells the
truth while a segment is under way, the resume state says nothing of the files, and a re-run
finishes with the exact bytes on the server."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from live_server import LiveServer, make_instance
from sender.test_send_live import (
    MIB,
    SEGMENT,
    make_file,
    open_single,
    segments_held,
    send_argv,
    sent_counts,
)
from throttle import ThrottledForwarder

PERCENT = re.compile(r"\r(\S+)  (\d+\.\d)%")


class Terminal:
    """A pseudo-terminal for a child's standard error, read in a thread: the child sees a
    terminal, so it draws its progress line."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        self.chunks: list[bytes] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.chunks.append(data)

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")

    def close(self) -> str:
        """Everything the child wrote, once it has exited."""
        self._thread.join(timeout=5)  # reads until the child's side is gone
        os.close(self.master)
        return self.text()


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_at_once_and_the_same_command_resumes(tmp_path: Path) -> None:
    data_dir, key, _ = make_instance(tmp_path)
    source = tmp_path / "cam3-2026-03-14.bin"
    expected = make_file(source, 32 * MIB)
    codename = tmp_path / "codename.txt"
    state = tmp_path / "codename.txt.state.json"
    with LiveServer(data_dir, tmp_path / "logs") as server:
        host, port = server.source_url.removeprefix("http://").split("/")[0].split(":")
        with ThrottledForwarder((host, int(port)), 400_000) as slow:
            terminal = Terminal()
            sender = subprocess.Popen(
                send_argv(slow.url, "--new-codename-out", str(codename), str(source)),
                stdout=subprocess.PIPE,
                stderr=terminal.slave,
                # Ctrl-C as a terminal delivers it: a test run started in the background of
                # a shell without job control ignores SIGINT, and its children would inherit
                # that (Python then installs no KeyboardInterrupt handler at all).
                preexec_fn=_interruptible,  # noqa: PLW1509 - one signal call, before exec
            )
            os.close(terminal.slave)
            # Progress ahead of what the server holds: bytes counted as they leave, not
            # when a segment lands (the bar once sat at 0% for a whole run).
            ahead = False
            deadline = time.monotonic() + 120
            while not (ahead and segments_held(data_dir) >= 1):
                assert sender.poll() is None, terminal.text()
                assert time.monotonic() < deadline, terminal.text()
                held = segments_held(data_dir)
                shown = [float(m.group(2)) for m in PERCENT.finditer(terminal.text())]
                if shown and shown[-1] / 100 * 32 * MIB > (held + 1) * SEGMENT:
                    ahead = True
                time.sleep(0.05)
            sender.send_signal(signal.SIGINT)
            stopped = time.monotonic()
            sender.communicate(timeout=30)
            took = time.monotonic() - stopped
            said = terminal.close()
            assert took < 2.0, f"{took:.1f} s after Ctrl-C\n{said}"
            assert sender.returncode == 130, said
            assert "Stopped. Nothing the server received is lost" in said
            # What the sender knows to be acknowledged (a segment the server just stored may
            # not have been answered yet when Ctrl-C came).
            assert re.search(
                r"cam3-2026-03-14\.bin: [\d.]+ (?:bytes?|kB|MB) of 33\.6 MB is on the server", said
            )
            assert "Run the same command again to resume" in said
            assert "Traceback" not in said
    # The state left by a stopped run names nothing of the file.
    text = state.read_text()
    for revealing in (source.name, str(tmp_path), expected, str(source.stat().st_mtime_ns)):
        assert revealing not in text
    assert all(set(item) == {"id", "done"} for item in json.loads(text)["items"].values())

    with LiveServer(data_dir, tmp_path / "logs") as server:
        held = segments_held(data_dir)
        again = subprocess.run(
            send_argv(server.source_url, "--codename-file", str(codename), "--forget", str(source)),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert again.returncode == 0, again.stderr
        sent, already = sent_counts(again.stderr)
        assert already == held >= 1
        assert sent == 8 - held
        assert "Everything is delivered. The resume state was deleted." in again.stderr
    assert not state.exists()
    assert open_single(data_dir, key, tmp_path / "opened") == expected


def test_a_finished_run_says_so_and_what_it_leaves_behind_in_russian(tmp_path: Path) -> None:
    data_dir, _key, _ = make_instance(tmp_path)
    codename = tmp_path / "codename.txt"
    state = tmp_path / "codename.txt.state.json"
    env = {**os.environ, "LANGUAGE": "ru"}
    with LiveServer(data_dir, tmp_path / "logs") as server:
        first = subprocess.run(
            send_argv(server.source_url, "--new-codename-out", str(codename), "--message", "да"),
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert first.returncode == 0, first.stderr
        assert f"Всё доставлено. Состояние для продолжения больше не нужно: удалите {state}" in (
            first.stderr
        )
        assert "Что tainik send оставил на этом компьютере:" in first.stderr
        assert f"  {codename}: ваше кодовое имя." in first.stderr
        assert f"  {state}: состояние для продолжения" in first.stderr
        assert state.exists()
        again = subprocess.run(
            send_argv(
                server.source_url, "--codename-file", str(codename), "--message", "да", "--forget"
            ),
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert again.returncode == 0, again.stderr
        assert "Всё доставлено. Состояние для продолжения удалено." in again.stderr
        assert f"{state}:" not in again.stderr
        assert not state.exists()
    assert len(list((data_dir / "blobs").glob("*.sealed"))) == 1  # not sent twice
