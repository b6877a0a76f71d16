"""Make the fixture ``tests/storage/fixtures/main-2026-12-06``: an instance as the last release
before Alembic (main at c451245, schema version 5) made and filled it.

Run it with THAT release's code and test helpers first on the path, never with this one's::

    git archive c451245 | tar -x -C /tmp/old-main
    PYTHONPATH=/tmp/old-main/src:/tmp/old-main/tests \\
        .venv/bin/python tests/storage/make_main_instance.py tests/storage/fixtures/main-2026-12-06

It writes ``instance/`` (tainik.toml, tainik.db, the sealed files), ``org.key`` (the test
organisation's identity, to open what the server serves) and ``known.json`` (what each party
knows: codenames, passwords, TOTP secrets, and what was sent), through the service layer and
the newsroom's pages and API, in process, as the newsroom tests do.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.testclient import TestClient

from newsroom.conftest import BASE, Clock, api_token, log_in, new_staffer
from tainik import crypto
from tainik.config import init_instance
from tainik.core.manifest import Kind
from tainik.crypto import FAST_TEST_PARAMS
from tainik.server.app import newsroom_app
from tainik.service import sources
from tainik.service.instance import Instance
from tainik.service.intake import Intake
from tainik.service.new_source import NewSource
from tainik.service.newsroom import actions, auth


def new_source(instance: Instance, message: str, name: bytes, content: bytes) -> dict[str, object]:
    """A source with one message and one file; what it knows."""
    codename, cookie = sources.new_codename(instance)
    new = sources.identify(instance, cookie.reveal())
    assert isinstance(new, NewSource)
    intake = Intake(instance, sources.with_keys(instance, new))
    intake.add_message(message)
    sealer = intake.start(Kind.FILE, name)
    sealer.write(content)
    intake.finish_current()
    intake.commit()
    assert intake.new_cookie is not None
    source_id = sources.resume(instance, intake.new_cookie.reveal()).source_id
    return {"id": source_id, "codename": codename.reveal(), "message": message,
            "file_sha256": hashlib.sha256(content).hexdigest()}  # fmt: skip


def main(out: Path) -> None:
    out.mkdir(parents=True)
    org = crypto.Identity.generate()
    (out / "org.key").write_text(org.secret.reveal() + "\n", encoding="ascii")
    config = init_instance(out / "instance", [org.recipient], kdf=FAST_TEST_PARAMS)
    instance = Instance.open(config)
    clock = Clock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))  # all past
    instance.clock = clock
    ada = new_staffer(instance, "ada", is_admin=True)
    jo = new_staffer(instance, "jo")
    new_staffer(instance, "pending-pat")  # never logged in: keeps its one-time password
    first = new_source(instance, "the first source's message", b"ledger.csv", b"a,b\n1,2\n")
    clock.advance(3600)
    second = new_source(instance, "second: \u043f\u0440\u0438\u0432\u0435\u0442", b"clip.bin",
                        bytes(range(256)) * 4)  # fmt: skip
    with TestClient(newsroom_app(instance), base_url=BASE, follow_redirects=False) as client:
        log_in(client, ada, clock)
        client.cookies.clear()
        log_in(client, jo, clock)
        headers = api_token(client, jo, clock)  # a full token
        api_token(client, jo, clock, scope="read")  # and a read-only one, both stored
        reply = "we have it; thank you"
        answered = client.post(
            f"/api/v1/sources/{first['id']}/replies", json={"text": reply}, headers=headers
        )
        assert answered.status_code == 201, answered.text
        first["reply"] = reply
        items = client.get("/api/v1/submissions", headers=headers).json()["items"]
        read = client.get(items[0]["download"], headers=headers)  # a read mark, an audit row
        assert read.status_code == 200
        token = headers["Authorization"].removeprefix("Bearer ")
        actions.star(instance, auth.Credential.token(token), int(str(second["id"])), True)
    instance.close()
    known = {
        "made_by": "main at c451245 (schema version 5)",
        "staff": {s.name: {"password": s.password, "totp_secret": s.totp_secret}
                  for s in (ada, jo)},
        "sources": [first, second],
    }  # fmt: skip
    (out / "known.json").write_text(json.dumps(known, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
