"""Schemathesis against the OpenAPI document, on a real `tainik serve` over loopback: no 5xx."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from live_server import LiveServer, make_instance
from source_client import SourceClient
from tainik.server.newsroom.openapi import document

from .live import api_headers, ready_staffer

EXAMPLES_PER_OPERATION = 25
STATUSES: Counter[int] = Counter()  # what the run saw, checked when the server stops


@dataclass(frozen=True)
class Served:
    """The live server and a bearer token for its API."""

    server: LiveServer
    headers: dict[str, str]

    @property
    def base_url(self) -> str:
        return f"{self.server.newsroom_url}/api/v1"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp_path = tmp_path_factory.mktemp("schemathesis")
    data_dir, _identity, _recipient = make_instance(tmp_path)
    staffer = ready_staffer(data_dir, "ada", admin=True)
    with LiveServer(data_dir, tmp_path / "logs") as server:
        with SourceClient(server.source_url) as source:
            source.generate()
            source.submit_ok("a message", [("a file.bin", b"content" * 1000)])
        headers = api_headers(server.newsroom_url, staffer)
        sources = httpx.get(f"{server.newsroom_url}/api/v1/sources", headers=headers).json()
        source_id = sources["items"][0]["id"]
        reply = httpx.post(
            f"{server.newsroom_url}/api/v1/sources/{source_id}/replies",
            json={"text": "a reply"},
            headers=headers,
        )
        assert reply.status_code == 201
        yield Served(server, headers)
        revoke = httpx.delete(f"{server.newsroom_url}/api/v1/tokens/current", headers=headers)
        assert revoke.status_code == 204
        after = httpx.get(f"{server.newsroom_url}/api/v1/me", headers=headers)
        assert after.status_code == 401
        log = server.log_text()
    assert "Traceback" not in log, log
    # Not vacuous: the token worked, and bad input was answered as such.
    print("schemathesis statuses:", dict(STATUSES))
    assert STATUSES[200] > 20, STATUSES
    assert STATUSES[400] + STATUSES[404] > 0, STATUSES
    assert not [s for s in STATUSES if s >= 500], STATUSES


# The document is static (the same for every instance), so it loads at import. Revoking the
# token would end the run's authentication: the fixture revokes it once, at the end.
schema = schemathesis.openapi.from_dict(document()).exclude(operation_id="revoke_token")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case: schemathesis.Case[Any], served: Served) -> None:
    response = case.call(base_url=served.base_url, headers=served.headers, timeout=30)
    STATUSES[response.status_code] += 1
    case.validate_response(response, checks=[not_a_server_error])
