"""Shared fixtures: keys, a CLI runner, and the stock age tool."""

from __future__ import annotations

import io
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import backends

# A failing media test prints the versions of ffmpeg, libx264, onnxruntime, opencv, ...
from media_versions import (  # noqa: F401 - pytest finds hooks by name here
    mark_media,
    pytest_runtest_makereport,
)
from tainik import crypto, i18n
from tainik.cli.context import Context
from tainik.cli.main import run

# Tests that start a browser, a server or a media pipeline are the slow tier: `make unit-fast`
# leaves them out for the edit-test loop; `make test` runs everything.
SLOW_FIXTURES = frozenset(
    {"browser", "live_server", "page_js", "page_nojs", "new_page", "tor_network"}
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--backend``: where the instances the tests make keep their data (tests/backends.py)."""
    parser.addoption(
        "--backend",
        choices=backends.BACKENDS,
        default="sqlite",
        help="sqlite: SQLite + a folder (default); pg: PostgreSQL + SeaweedFS (started here)",
    )


def pytest_configure(config: pytest.Config) -> None:
    backends.backend = config.getoption("--backend")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop PostgreSQL and SeaweedFS if a test started them (by process id)."""
    backends.close_session_services()


@pytest.fixture
def backend() -> str:
    """The backend under test: ``sqlite`` or ``pg`` (``--backend``)."""
    return backends.backend


@pytest.fixture(scope="session")
def postgres() -> backends.PostgresCluster:
    """The session's PostgreSQL cluster (started on first use, stopped at the end)."""
    return backends.session_postgres()


@pytest.fixture(scope="session")
def seaweed() -> backends.SeaweedS3:
    """The session's SeaweedFS ``weed mini`` (started on first use, stopped at the end)."""
    return backends.session_seaweed()


@pytest.fixture
def pg_url(postgres: backends.PostgresCluster) -> str:
    """The URL of a fresh, empty PostgreSQL database (password included: never print it)."""
    return postgres.new_database()


@pytest.fixture
def s3_bucket(seaweed: backends.SeaweedS3) -> str:
    """The name of a fresh, empty SeaweedFS bucket."""
    return seaweed.new_bucket()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark media tests ``media``, and media, browser and live-server tests ``slow``."""
    mark_media(items)
    for item in items:
        if backends.backend != "sqlite" and item.get_closest_marker("embedded") is not None:
            item.add_marker(pytest.mark.skip(reason="the embedded backend's own mechanics"))
        if backends.backend != "pg" and item.get_closest_marker("pg") is not None:
            item.add_marker(pytest.mark.skip(reason="runs with --backend pg (make unit-pg)"))
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("media") is not None or fixtures & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)


settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")


@dataclass(frozen=True)
class CliResult:
    """What one in-process run of the command line produced."""

    code: int
    stdout: str
    stderr: str


def run_cli(argv: Sequence[str], languages: Sequence[str] = ("en",)) -> CliResult:
    """Run ``tainik ARGV`` in this process and capture its streams."""
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(i18n.translations(list(languages)), stdout=out, stderr=err)
    try:
        code = run(list(argv), ctx)
    except SystemExit as exc:  # argparse usage errors and --help
        code = int(exc.code or 0)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def identity() -> crypto.Identity:
    """The organisation's identity for a test session."""
    return crypto.Identity.generate()


@pytest.fixture
def identity_file(tmp_path: Path, identity: crypto.Identity) -> Path:
    """An unprotected age identity file holding ``identity``."""
    path = tmp_path / "org.key"
    path.write_text(crypto.identity_file_text(identity))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="session")
def age_cli() -> str:
    """Path of the stock ``age`` command (the Makefile installs Debian's package)."""
    path = shutil.which("age")
    if path is None:
        pytest.fail("the stock age CLI is missing: run 'make setup' (Debian package 'age')")
    return path


# Browser fixtures for every folder (one Playwright and one Chromium per session).
from browser_fixtures import (  # noqa: E402
    browser,
    browser_locale,
    live_server,
    new_page,
    page_js,
    page_nojs,
)

# The private Tor network on loopback (one per session, started by the first test that asks).
from tornet import tor_network  # noqa: E402

__all__ = [
    "browser",
    "browser_locale",
    "live_server",
    "new_page",
    "page_js",
    "page_nojs",
    "tor_network",
]
