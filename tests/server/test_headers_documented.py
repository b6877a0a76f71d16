"""The threat model quotes the Content-Security-Policy the server sends; the two cannot drift
(an audit found the document still describing a policy without scripts)."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from tainik.server.security import CSP

THREAT_MODEL = Path(__file__).resolve().parents[2] / "docs" / "threat-model.md"


def test_the_threat_model_quotes_the_policy_the_server_sends(client: TestClient) -> None:
    sent = client.get("/").headers["content-security-policy"]
    assert sent == CSP
    assert f"Content-Security-Policy: {sent}\n" in THREAT_MODEL.read_text()
