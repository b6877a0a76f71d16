"""An in-process source interface over a fresh instance (fast KDF settings)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from backends import use_backend
from tainik import crypto
from tainik.config import init_instance, load_config
from tainik.crypto import FAST_TEST_PARAMS
from tainik.server.app import source_app
from tainik.service.instance import Instance


@pytest.fixture
def org() -> crypto.Identity:
    """The organisation's identity (in tests only, of course, beside the server)."""
    return crypto.Identity.generate()


@pytest.fixture
def instance(tmp_path: Path, org: crypto.Identity) -> Iterator[Instance]:
    config = init_instance(tmp_path / "instance", [org.recipient], kdf=FAST_TEST_PARAMS)
    use_backend(config.data_dir)
    opened = Instance.open(load_config(config.data_dir))
    yield opened
    opened.close()


@pytest.fixture
def client(instance: Instance) -> Iterator[TestClient]:
    with TestClient(source_app(instance), base_url="http://testserver") as test_client:
        yield test_client


def csrf(client: TestClient) -> str:
    """Visit the front page and return the anti-forgery token it set."""
    client.get("/")
    token = client.cookies.get("tainik_csrf")
    assert token
    return token


def new_source(client: TestClient) -> str:
    """Get a codename (logged in afterwards); returns it."""
    response = client.post("/generate", data={"csrf": csrf(client)})
    assert response.status_code == 200
    words = response.text.split('id="codename"')[1].split("</p>")[0]
    codename = " ".join(w.split("</span>")[0] for w in words.split("<span>")[1:])
    assert len(codename.split()) == 7
    return codename


def known_source(client: TestClient, message: str = "first") -> str:
    """A codename that has sent a message, so the server keeps its source (logged in
    afterwards); returns it. A codename that sent nothing is stored nowhere."""
    codename = new_source(client)
    response = client.post(
        "/submit",
        data={"csrf": csrf(client), "message": message},
        files=[("files", ("", b"", "application/octet-stream"))],
        follow_redirects=False,
    )
    assert response.headers.get("location") == "/lookup?sent=1", response.text
    return codename
