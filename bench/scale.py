"""Benchmark: past one box. Segment uploads by many sources at once, on SQLite + a folder with
one process, against PostgreSQL + SeaweedFS with 1, 2 and 4 worker processes
(``tainik serve --workers N``); and the newsroom's inbox at 100,000 submissions on both
databases.

For each setup, a fresh instance is served on loopback and ``--uploaders`` sources (100) each
create a resumable upload (their codenames, keys and uploads made before the clock starts),
then all send their ``--segments`` segments of 4 MiB at once, each source one PUT after
another as the uploader does. Printed per setup:

- throughput: segment bytes acknowledged per second of the whole sending phase;
- p50 and p99 of one segment PUT's latency (request sent to answer read);
- server CPU per GiB: CPU seconds of the ``tainik serve`` process tree (the parent and its
  workers) per GiB sent, and for PostgreSQL + SeaweedFS those of the database and the store
  besides (they would run on machines of their own);
- then every upload is completed, and the benchmark checks every one became a submission.

The benchmark's client runs on the same machine, and takes CPU the server would otherwise
have: on a machine of 2 cores the figures are a floor. PostgreSQL runs with ``fsync`` on (as
in production; the test fixtures turn it off); SQLite with ``synchronous=FULL`` as always;
``weed mini`` writes to its volume without an fsync per object (SeaweedFS relies on
replication across volume servers for durability), so the object store's figures flatter it.

The inbox part seeds both databases with ``--inbox`` submissions (100,000 from 10,000
sources, as bench/newsroom_inbox.py does) and times the inbox's first and a later page and two
API listings, alternately, in process.

Run: ``.venv/bin/python bench/scale.py`` (a few minutes; ``--quick`` for less: 20 uploaders,
1 segment each, 20,000 submissions).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import backends
from measure import free_port
from newsroom_inbox import Newsroom, medians_ms
from tainik import crypto
from tainik.config import CONFIG_NAME, init_instance, set_key
from tainik.core.manifest import Kind, Manifest
from tainik.core.upload import PROTOCOL_SEGMENT_SIZE
from tainik.crypto import FAST_TEST_PARAMS
from tainik.sealed.writer import new_sealed_id

GIB = 1024**3
START_TIMEOUT = 60.0


class DurablePostgres(backends.PostgresCluster):
    """The tests' cluster, with ``fsync`` and full page writes on, as in production."""

    def start(self) -> DurablePostgres:
        # The tests' start, then the durability they turn off turned back on: the command
        # line's settings win over ALTER SYSTEM, so restart with a config file instead.
        super().start()
        conf = self.data / "postgresql.auto.conf"
        conf.write_text("fsync = on\nfull_page_writes = on\nsynchronous_commit = on\n")
        backends._stop(self.process)
        argv = [
            str(backends.PG_BIN / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.socket_dir}",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=128MB",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                user=self._uid,
                group=self._gid,
                extra_groups=[],
                cwd=self.root,
            )
        self._wait_ready()
        return self


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by ``root`` and every live descendant."""
    ticks, pids = 0, [root]
    while pids:
        pid = pids.pop()
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    pids.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Services:
    """PostgreSQL and SeaweedFS, started on first use."""

    postgres: DurablePostgres | None = None
    seaweed: backends.SeaweedS3 | None = None

    def pg(self) -> DurablePostgres:
        if self.postgres is None:
            self.postgres = DurablePostgres().start()
        return self.postgres

    def s3(self) -> backends.SeaweedS3:
        if self.seaweed is None:
            self.seaweed = backends.SeaweedS3().start()
        return self.seaweed

    def pids(self) -> list[int]:
        return [
            s.process.pid
            for s in (self.postgres, self.seaweed)
            if s is not None and s.process is not None
        ]

    def close(self) -> None:
        for service in (self.postgres, self.seaweed):
            if service is not None:
                service.close()


@dataclass
class Result:
    setup: str
    workers: int
    gib: float
    seconds: float
    latencies: list[float]
    server_cpu: float
    backend_cpu: float | None
    completed: int

    def row(self) -> str:
        p50 = statistics.median(self.latencies) * 1000
        p99 = statistics.quantiles(self.latencies, n=100)[98] * 1000
        backend = (
            f"{self.backend_cpu / self.gib:>9.1f}" if self.backend_cpu is not None else " " * 9
        )
        return (
            f"{self.setup:<26}{self.workers:>3}{self.gib * 1024 / self.seconds:>10.1f}"
            f"{p50:>9.0f}{p99:>9.0f}{self.server_cpu / self.gib:>11.1f}{backend}"
        )


def make_instance(folder: Path, backend: str, services: Services) -> str:
    """A fresh instance in ``folder`` (fast Argon2id: codenames are not what is measured);
    returns its organisation recipient."""
    organisation = crypto.Identity.generate()
    init_instance(folder, [organisation.recipient], kdf=FAST_TEST_PARAMS)
    if backend == "pg":
        path = folder / CONFIG_NAME
        text = path.read_text(encoding="utf-8")
        text = set_key(text, "database", "url", services.pg().new_database())
        weed = services.s3()
        for key, value in weed.store_settings(weed.new_bucket()).items():
            text = set_key(text, "store", key, value)
        path.write_text(text, encoding="utf-8")
    return organisation.recipient.text


@contextmanager
def serving(folder: Path, workers: int, log: Path) -> Iterator[tuple[str, int]]:
    """``tainik serve --workers N`` on loopback; yields (source URL, the parent's pid)."""
    port, newsroom = free_port(), free_port()
    argv = [sys.executable, "-m", "tainik", "serve", "--data", str(folder),
            "--source-port", str(port), "--newsroom-port", str(newsroom),
            "--workers", str(workers)]  # fmt: skip
    with log.open("ab") as out:
        server = subprocess.Popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                raise SystemExit(f"tainik serve exited with {server.returncode}: see {log}")
            try:
                if httpx.get(url + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"tainik serve did not start: see {log}")
            time.sleep(0.2)
        if workers > 1:  # every worker up: each answers once it has started
            while (
                len(Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split())
                < workers
            ):
                time.sleep(0.1)
            time.sleep(2.0)
        yield url, server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass
class Uploader:
    client: httpx.AsyncClient
    sealed_id: str

    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.client.cookies["tainik_csrf"]}


async def ready(url: str, segments: int) -> Uploader:
    """A new source with a resumable upload of ``segments`` segments created."""
    client = httpx.AsyncClient(base_url=url, timeout=600)
    await client.get("/")
    made = await client.post("/generate", data={"csrf": client.cookies["tainik_csrf"]})
    made.raise_for_status()
    headers = {"X-CSRF-Token": client.cookies["tainik_csrf"]}
    for _attempt in range(20):  # busy (429 at the KDF gate): come back, as the uploader does
        session = await client.post("/api/session", headers=headers)
        if session.status_code != 429:
            break
        await asyncio.sleep(0.5)
    assert session.status_code == 200, session.text
    recipient = crypto.Recipient(session.json()["recipient"])
    note = crypto.encrypt(b'{"v":1,"name":"bench.bin","kind":"file"}', [recipient])
    uploader = Uploader(client, new_sealed_id())
    created = await client.post(
        "/api/uploads",
        headers=uploader.headers(),
        json={"id": uploader.sealed_id, "segments": segments,
              "note": base64.b64encode(note).decode()},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    return uploader


async def send(uploader: Uploader, segments: int, body: bytes, latencies: list[float]) -> None:
    for index in range(segments):
        began = time.perf_counter()
        answer = await uploader.client.put(
            f"/api/uploads/{uploader.sealed_id}/segments/{index}",
            headers=uploader.headers(),
            content=body,
        )
        latencies.append(time.perf_counter() - began)
        assert answer.status_code == 200, answer.text


async def finish(uploader: Uploader, manifest: bytes) -> bool:
    path = f"/api/uploads/{uploader.sealed_id}"
    put = await uploader.client.put(
        f"{path}/manifest", headers=uploader.headers(), content=manifest
    )
    assert put.status_code == 200, put.text
    done = await uploader.client.post(f"{path}/complete", headers=uploader.headers())
    await uploader.client.aclose()
    return done.status_code == 200


def sealed_manifest(recipient: str, plain: bytes, segments: int, sealed_id: str) -> bytes:
    digest = hashlib.sha256(plain).digest()
    whole = hashlib.sha256(plain * segments).digest()
    manifest = Manifest(
        id=sealed_id, kind=Kind.FILE, name=b"bench.bin", size=len(plain) * segments,
        segment_size=PROTOCOL_SEGMENT_SIZE, sha256=whole, segment_hashes=(digest,) * segments,
    )  # fmt: skip
    return crypto.encrypt(manifest.encode(), [crypto.Recipient(recipient)])


Measured = tuple[float, list[float], float, float | None, int]


async def upload_run(
    url: str, recipient: str, args: argparse.Namespace, server: int, services: Services | None
) -> Measured:
    """Ready the uploaders, then time their segments: (seconds, latencies, server CPU,
    database and store CPU, uploads completed)."""
    plain = os.urandom(PROTOCOL_SEGMENT_SIZE)
    body = crypto.encrypt(plain, [crypto.Recipient(recipient)])
    uploaders = []
    for start in range(0, args.uploaders, 20):  # not all at once: the KDF gate queues 8
        uploaders += await asyncio.gather(
            *(ready(url, args.segments) for _ in range(min(20, args.uploaders - start)))
        )
    latencies: list[float] = []
    cpu0 = tree_cpu(server)
    backend0 = sum(tree_cpu(p) for p in services.pids()) if services else None
    began = time.perf_counter()
    await asyncio.gather(*(send(u, args.segments, body, latencies) for u in uploaders))
    seconds = time.perf_counter() - began
    cpu = tree_cpu(server) - cpu0
    backend = (
        sum(tree_cpu(p) for p in services.pids()) - backend0
        if services and backend0 is not None
        else None
    )
    done = await asyncio.gather(
        *(
            finish(u, sealed_manifest(recipient, plain, args.segments, u.sealed_id))
            for u in uploaders
        )
    )
    return seconds, latencies, cpu, backend, sum(done)


def run_setup(label: str, backend: str, workers: int, args: argparse.Namespace,
              work: Path, services: Services) -> Result:  # fmt: skip
    folder = work / f"{backend}-{workers}"
    recipient = make_instance(folder, backend, services)
    with serving(folder, workers, work / f"{backend}-{workers}.log") as (url, pid):
        seconds, latencies, cpu, backend_cpu, completed = asyncio.run(
            upload_run(url, recipient, args, pid, services if backend == "pg" else None)
        )
    gib = args.uploaders * args.segments * PROTOCOL_SEGMENT_SIZE / GIB
    return Result(label, workers, gib, seconds, latencies, cpu, backend_cpu, completed)


def inbox(args: argparse.Namespace, work: Path, services: Services) -> None:
    sources = max(1, args.inbox // 10)
    began = time.perf_counter()
    sqlite = Newsroom(work / "inbox-sqlite", sources=sources, per_source=10)
    seeded = time.perf_counter() - began
    began = time.perf_counter()
    pg = Newsroom(work / "inbox-pg", sources=sources, per_source=10,
                  database_url=services.pg().new_database())  # fmt: skip
    print(f"\nnewsroom inbox at {args.inbox:,} submissions (seeded in {seeded:.0f} s on "
          f"SQLite, {time.perf_counter() - began:.0f} s on PostgreSQL)")  # fmt: skip
    try:
        print(f"{'request':<24}{'SQLite (ms)':>12}{'PostgreSQL (ms)':>17}")
        for name, request in sqlite.requests().items():
            lite, post = medians_ms((request, pg.requests()[name]), args.runs)
            print(f"{name:<24}{lite:>12.2f}{post:>17.2f}")
    finally:
        sqlite.close()
        pg.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploaders", type=int, default=100)
    parser.add_argument("--segments", type=int, default=2, help="4 MiB segments per uploader")
    parser.add_argument("--workers", default="1,2,4", help="worker counts on PostgreSQL")
    parser.add_argument("--sqlite-workers", default="1", help="worker counts on SQLite")
    parser.add_argument("--inbox", type=int, default=100_000, help="submissions; 0: skip")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per inbox request")
    parser.add_argument("--quick", action="store_true", help="20 uploaders, 1 segment, 20,000")
    args = parser.parse_args()
    if args.quick:
        args.uploaders, args.segments, args.inbox, args.runs = 20, 1, 20_000, 10
    print(f"{os.cpu_count()} cores; {args.uploaders} uploaders x {args.segments} segments of "
          f"4 MiB = {args.uploaders * args.segments * 4} MiB per setup")  # fmt: skip
    services = Services()
    with tempfile.TemporaryDirectory(prefix="tainik-scale-") as temp:
        work = Path(temp)
        try:
            results = [
                run_setup("SQLite + folder", "sqlite", int(count), args, work, services)
                for count in args.sqlite_workers.split(",")
                if count
            ]
            for count in (int(n) for n in args.workers.split(",") if n):
                results.append(
                    run_setup("PostgreSQL + SeaweedFS", "pg", count, args, work, services)
                )
            print(f"\n{'setup':<26}{'N':>3}{'MiB/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
                  f"{'CPU s/GiB':>11}{'+db+s3':>9}")  # fmt: skip
            for result in results:
                print(result.row())
            for result in results:
                expected = args.uploaders
                if result.completed != expected:
                    print(f"{result.setup} N={result.workers}: only {result.completed} of "
                          f"{expected} uploads completed")  # fmt: skip
                    return 1
            print(f"every upload completed in every setup ({args.uploaders} each)")
            if args.inbox:
                inbox(args, work, services)
        finally:
            services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
