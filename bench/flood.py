"""Benchmark: the newsroom inbox and a source's login while strangers flood the source side.

Serves a fresh instance (``tainik serve``, production Argon2id cost) with one staff member
(logged in through the newsroom's login form) and one source (its codename from
``POST /generate``), then times, from this process:

- ``GET /inbox`` on the newsroom listener, logged in (the median of ``--inbox-runs``),
- a source's codename login, ``POST /login`` on the source listener, answered 303 (the median
  of ``--login-runs``),

first idle (the baseline), then while ``--strangers`` strangers, in a separate process, each
ask for a new codename (``POST /generate``, one Argon2id derivation each), open a submission
whose body stalls after one byte and keep it open, and start again at once, never pausing,
429 or not. It prints both medians, their ratio (target: at most 3x) and what the flood did
(codenames made, 429s, bodies held).

Run: ``.venv/bin/python bench/flood.py [--strangers 40] [--seconds 30]``.
"""

from __future__ import annotations

import argparse
import http.client
import math
import multiprocessing
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp

from measure import BIN, free_port
from tainik.config import load_config
from tainik.crypto import Secret
from tainik.service.instance import Instance
from tainik.service.newsroom import admin, auth

PASSWORD = "benchmark passphrase"
CSRF = re.compile(r"tainik_csrf=([^;]+)")
SESSION = re.compile(r"tainik_source=([^;]+)")
CODENAME = re.compile(r'<p[^>]*\bid="codename"[^>]*>(.*?)</p>', re.S)


def staff_member(data: Path) -> tuple[str, str]:
    """An account whose first login and password change are done; (name, TOTP secret)."""
    instance = Instance.open(load_config(data))
    try:
        made = admin.add_account_locally(instance, "bench", False)
        assert made.password is not None
        assert made.totp is not None
        secret = made.totp.secret.reveal()
        past = datetime.now(UTC) - timedelta(minutes=2)
        instance.clock = lambda: past
        cookie, _staff = auth.login(instance, "bench", made.password, pyotp.TOTP(secret).at(past))
        session = auth.Credential.session(cookie.reveal())
        auth.change_password(instance, session, made.password, Secret(PASSWORD), Secret(PASSWORD))
    finally:
        instance.close()
    return "bench", secret


# -- the strangers (in their own process, so that their work does not slow the measuring) ----


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    found: dict[str, str] = {}
    for header in response.headers.get_all("set-cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def _stranger(
    port: int, stop: threading.Event, counts: dict[str, int], lock: threading.Lock
) -> None:
    held: list[socket.socket] = []
    while not stop.is_set():
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            csrf = _cookies(response)["tainik_csrf"]
            conn.request(
                "POST",
                "/generate",
                body=f"csrf={csrf}",
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": f"tainik_csrf={csrf}",
                },
            )
            response = conn.getresponse()
            response.read()
            conn.close()
            with lock:
                counts[str(response.status)] = counts.get(str(response.status), 0) + 1
            session = _cookies(response).get("tainik_source")
            if response.status != 200 or session is None:
                continue
            stalled = socket.create_connection(("127.0.0.1", port), timeout=30)
            boundary = secrets.token_hex(8)
            stalled.sendall(
                (
                    "POST /submit HTTP/1.1\r\nHost: x\r\n"
                    f"Cookie: tainik_csrf={csrf}; tainik_source={session}\r\n"
                    f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                    "Content-Length: 1000000\r\n\r\n-"
                ).encode()
            )
            held.append(stalled)
            with lock:
                counts["held"] = counts.get("held", 0) + 1
        except (OSError, http.client.HTTPException, KeyError):
            with lock:
                counts["errors"] = counts.get("errors", 0) + 1
    for sock in held:
        sock.close()


def flood(port: int, strangers: int, seconds: float, report: Any) -> None:
    """Run ``strangers`` threads for ``seconds``; leaves a summary in ``report``."""
    stop, lock = threading.Event(), threading.Lock()
    counts: dict[str, int] = {}
    threads = [
        threading.Thread(target=_stranger, args=(port, stop, counts, lock), daemon=True)
        for _ in range(strangers)
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(35)
    report.value = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())).encode()


# -- the measuring ------------------------------------------------------------------------------


def timed(request: Callable[[], httpx.Response], expected: int) -> float | None:
    """Seconds ``request`` took, or None when it was answered otherwise than ``expected``."""
    began = time.perf_counter()
    response = request()
    elapsed = time.perf_counter() - began
    return elapsed if response.status_code == expected else None


class Probes:
    """A logged-in staff member and a source with a codename."""

    def __init__(self, source_url: str, newsroom_url: str, name: str, totp: str) -> None:
        self.staff = httpx.Client(base_url=newsroom_url, timeout=120, follow_redirects=False)
        self.staff.get("/login")
        response = self.staff.post(
            "/login",
            data={
                "csrf": self.staff.cookies["tainik_csrf"],
                "name": name,
                "password": PASSWORD,
                "code": pyotp.TOTP(totp).now(),
            },
        )
        assert response.status_code == 303, response.text[:300]
        self.source = httpx.Client(base_url=source_url, timeout=120, follow_redirects=False)
        self.source.get("/")
        page = self.source.post("/generate", data={"csrf": self.source.cookies["tainik_csrf"]})
        assert page.status_code == 200, page.text[:300]
        found = CODENAME.search(page.text)
        assert found is not None
        self.codename = " ".join(re.findall(r"<span>(.*?)</span>", found.group(1)))
        # A codename is kept once it has sent something: send a first message.
        sent = self.source.post(
            "/submit",
            data={"csrf": self.source.cookies["tainik_csrf"], "message": "first"},
            files=[("files", ("", b"", "application/octet-stream"))],
        )
        assert sent.status_code == 303, sent.text[:300]

    def inbox(self) -> float | None:
        return timed(lambda: self.staff.get("/inbox"), 200)

    def login(self) -> float | None:
        csrf = self.source.cookies["tainik_csrf"]
        return timed(
            lambda: self.source.post("/login", data={"csrf": csrf, "codename": self.codename}), 303
        )

    def medians_ms(self, inbox_runs: int, login_runs: int) -> list[tuple[float, int]]:
        """(median ms of the expected answers, count of other answers) of each probe."""
        found = []
        for probe, runs in ((self.inbox, inbox_runs), (self.login, login_runs)):
            times = [probe() for _ in range(runs)]
            answered = [t for t in times if t is not None]
            median = statistics.median(answered) * 1000 if answered else float("nan")
            found.append((median, len(times) - len(answered)))
        return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strangers", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--inbox-runs", type=int, default=30)
    parser.add_argument("--login-runs", type=int, default=8)
    args = parser.parse_args()
    tainik = str(BIN / "tainik")
    with tempfile.TemporaryDirectory(prefix="tainik-bench-") as temp:
        work = Path(temp)
        recipient = subprocess.run(
            [tainik, "keys", "new", "--out", str(work / "org.key"), "--no-passphrase"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        data = work / "inst"
        subprocess.run(
            [tainik, "init", "--data", str(data), "--recipient", recipient],
            check=True,
            capture_output=True,
        )
        name, totp = staff_member(data)
        source_port, newsroom_port = free_port(), free_port()
        log = (work / "server.log").open("w")
        server = subprocess.Popen(
            [
                *(tainik, "serve", "--data", str(data)),
                *("--source-port", str(source_port), "--newsroom-port", str(newsroom_port)),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            assert server.stdout is not None
            while "newsroom interface" not in (line := server.stdout.readline()):
                if not line:
                    raise SystemExit(f"tainik serve exited with {server.wait()}")
            probes = Probes(
                f"http://127.0.0.1:{source_port}",
                f"http://127.0.0.1:{newsroom_port}",
                name,
                totp,
            )
            probes.medians_ms(3, 1)  # warm the caches and templates
            idle = probes.medians_ms(args.inbox_runs, args.login_runs)
            spawn = multiprocessing.get_context("spawn")
            report: Any = spawn.Array("c", 512)
            strangers = spawn.Process(
                target=flood, args=(source_port, args.strangers, args.seconds, report)
            )
            strangers.start()
            time.sleep(min(5.0, args.seconds / 4))  # let the flood build up
            began = time.perf_counter()
            flooded = probes.medians_ms(args.inbox_runs, args.login_runs)
            measured = time.perf_counter() - began
            strangers.join()
            print(f"{args.strangers} strangers for {args.seconds:.0f} s: {report.value.decode()}")
            print(f"(measured under the flood for {measured:.1f} s)")
            print(f"{'request':<26}{'idle (ms)':>11}{'flood (ms)':>12}{'ratio':>8}  refused")
            worst = 0.0
            refused = 0
            for label, (base, _), (busy, failed) in zip(
                ("newsroom GET /inbox", "source codename login"), idle, flooded, strict=True
            ):
                ratio = busy / base
                worst = float("inf") if math.isnan(ratio) else max(worst, ratio)
                refused += failed
                print(f"{label:<26}{base:>11.1f}{busy:>12.1f}{ratio:>7.2f}x  {failed}")
            verdict = "OK" if worst <= 3 and not refused else "OVER"
            print(f"worst ratio {worst:.2f}x (target: at most 3x): {verdict}")
            log.flush()
            print(f"server log: {(work / 'server.log').stat().st_size} bytes")
        finally:
            server.terminate()
            server.wait(timeout=30)
            if server.stdout:
                server.stdout.close()
            log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
