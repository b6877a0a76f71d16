"""Client authorization of the newsroom onion, one key per staff member (issue 17): handed out
once by `tainik users add` and the admin page, replaced at every reset, taken back when the
account is deactivated; only the public half is on the server. (Through Tor itself:
tests/server/test_tor.py.)"""

from __future__ import annotations

import base64
import re
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select
from starlette.testclient import TestClient

from conftest import run_cli
from tainik.config import CONFIG_NAME, load_config, set_key
from tainik.core.errors import TorError
from tainik.core.tor_settings import TorSettings
from tainik.crypto.onion import is_onion_address
from tainik.service.instance import Instance
from tainik.storage import newsroom_schema as ns
from tainik.tor.layout import TorFiles
from tainik.tor.torrc import check_lines

from .conftest import csrf

KEY = re.compile(r'id="newsroom-key">([A-Z2-7]{52})<')


def _enable_tor(instance: Instance) -> None:
    """[tor] enabled = true, in the file (for the command line) and the running config."""
    path = instance.config.data_dir / CONFIG_NAME
    path.write_text(set_key(path.read_text(), "tor", "enabled", True))
    instance.config = replace(instance.config, tor=TorSettings(enabled=True))


def _id(instance: Instance, name: str) -> int:
    with instance.engine.begin() as db:
        return int(db.execute(select(ns.users.c.id).where(ns.users.c.name == name)).scalar_one())


def _public_of(private_b32: str) -> str:
    raw = base64.b32decode(private_b32 + "====")
    public = X25519PrivateKey.from_private_bytes(raw).public_key().public_bytes_raw()
    return base64.b32encode(public).decode().rstrip("=")


def _auth_file(instance: Instance, name: str) -> Path:
    return TorFiles(instance.config.data_dir).authorized_clients / (
        f"staff-{_id(instance, name)}.auth"
    )


def _everything_on_disk(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_admin_page_hands_out_a_key_that_deactivation_takes_back_and_reset_replaces(
    instance: Instance, admin_client: TestClient
) -> None:
    _enable_tor(instance)
    page = admin_client.post("/admin/users", data={"csrf": csrf(admin_client), "name": "vera"})
    assert page.status_code == 200
    first = KEY.search(page.text)
    assert first is not None, page.text
    address = re.search(r'id="newsroom-onion">http://([a-z2-7]{56}\.onion)/<', page.text)
    assert address is not None
    line = re.search(r'id="newsroom-auth-private">([^<]+)<', page.text)
    assert line is not None
    assert line.group(1) == f"{address.group(1)[:-6]}:descriptor:x25519:{first.group(1)}"
    assert address.group(1) == TorFiles(instance.config.data_dir).prepare().newsroom
    # Only the public half is on the server, in a file only the server's user reads.
    auth = _auth_file(instance, "vera")
    assert auth.read_text() == f"descriptor:x25519:{_public_of(first.group(1))}\n"
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert first.group(1).encode() not in _everything_on_disk(instance.config.data_dir)

    user = _id(instance, "vera")
    done = admin_client.post(f"/admin/users/{user}/deactivate", data={"csrf": csrf(admin_client)})
    assert done.status_code == 303
    assert not auth.exists()

    again = admin_client.post(f"/admin/users/{user}/activate", data={"csrf": csrf(admin_client)})
    second = KEY.search(again.text)
    assert second is not None, again.text
    assert second.group(1) != first.group(1)
    assert auth.read_text() == f"descriptor:x25519:{_public_of(second.group(1))}\n"

    reset = admin_client.post(f"/admin/users/{user}/reset-2fa", data={"csrf": csrf(admin_client)})
    third = KEY.search(reset.text)
    assert third is not None
    assert third.group(1) not in {first.group(1), second.group(1)}
    assert auth.read_text() == f"descriptor:x25519:{_public_of(third.group(1))}\n"


def test_without_tor_no_key_is_made_and_nothing_is_published(
    instance: Instance, admin_client: TestClient
) -> None:
    page = admin_client.post("/admin/users", data={"csrf": csrf(admin_client), "name": "vera"})
    assert page.status_code == 200
    assert "newsroom-key" not in page.text
    assert not (instance.config.data_dir / "tor").exists()
    shown = run_cli(["onion", "show", "--data", str(instance.config.data_dir)])
    assert shown.code == 1
    assert "Tor is not enabled" in shown.stderr


def test_cli_add_shows_a_key_and_deactivate_takes_it_back(instance: Instance) -> None:
    _enable_tor(instance)
    data = str(instance.config.data_dir)
    added = run_cli(["users", "add", "lev", "--data", data])
    assert added.code == 0, added.stderr
    key = re.search(r"onion key:\s+([A-Z2-7]{52})$", added.stdout, re.M)
    line = re.search(r"\.auth_private line:\s+([a-z2-7]{56}):descriptor:x25519:(\S+)$",
                     added.stdout, re.M)  # fmt: skip
    assert key is not None
    assert line is not None
    assert line.group(2) == key.group(1)
    auth = _auth_file(instance, "lev")
    assert auth.read_text() == f"descriptor:x25519:{_public_of(key.group(1))}\n"

    shown = run_cli(["onion", "show", "--data", data])
    assert shown.code == 0
    source, newsroom = re.findall(r"http://([a-z2-7]{56}\.onion)/", shown.stdout)
    assert newsroom == f"{line.group(1)}.onion"
    assert is_onion_address(source)
    assert source != newsroom

    reset = run_cli(["users", "reset", "lev", "--data", data])
    new_key = re.search(r"onion key:\s+([A-Z2-7]{52})$", reset.stdout, re.M)
    assert new_key is not None
    assert new_key.group(1) != key.group(1)
    assert auth.read_text() == f"descriptor:x25519:{_public_of(new_key.group(1))}\n"

    gone = run_cli(["users", "deactivate", "lev", "--data", data])
    assert gone.code == 0, gone.stderr
    assert not auth.exists()
    assert "no longer works" in gone.stderr
    assert run_cli(["users", "deactivate", "nobody", "--data", data]).code != 0


def test_onion_keys_are_private_and_the_newsroom_is_never_open(instance: Instance) -> None:
    _enable_tor(instance)
    files = TorFiles(instance.config.data_dir)
    first = files.prepare()
    assert first == files.prepare() == files.addresses()  # made once, then kept
    assert load_config(instance.config.data_dir).tor.enabled
    for service in ("source", "newsroom"):
        folder = files.service_dir(service)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        secret = folder / "hs_ed25519_secret_key"
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert len(secret.read_bytes()) == 96
        assert (folder / "hostname").read_text().strip() == getattr(first, service)
    # With no staff at all the newsroom onion still requires a key (one nobody holds): tor
    # publishes a service with an empty authorized_clients/ to everyone.
    run_cli(["users", "add", "mila", "--data", str(instance.config.data_dir)])
    run_cli(["users", "deactivate", "mila", "--data", str(instance.config.data_dir)])
    left = sorted(p.name for p in files.authorized_clients.iterdir())
    assert left == ["locked.auth"]


@pytest.mark.parametrize(
    "line",
    [
        "SafeLogging 0",
        "safelogging relay",
        "Log info file /var/log/tor/info.log",
        "Log debug stdout",
        "Log [handshake]debug [*]notice stderr",
        "HiddenServiceDir /tmp/other",
        "DataDirectory /tmp",
        "ControlPort 9051",
        "%include /etc/tor/torrc.d",
    ],
)
def test_torrc_lines_that_would_log_client_data_or_take_over_are_refused(line: str) -> None:
    with pytest.raises(TorError, match=r"\[tor\] torrc_lines, line 2: ") as refused:
        check_lines(["UseBridges 0", line], "[tor] torrc_lines")
    assert line in refused.value.english()


def test_torrc_lines_for_bridges_vanguards_and_notices_are_kept() -> None:
    check_lines(
        [
            "UseBridges 1",
            "ClientTransportPlugin obfs4 exec /usr/bin/obfs4proxy",
            "Bridge obfs4 192.0.2.1:443 0123456789ABCDEF0123456789ABCDEF01234567 cert=x iat-mode=0",
            "VanguardsLiteEnabled 1",
            "Log notice stderr",
            "SafeLogging 1",
            "# a comment",
            "",
        ],
        "[tor] torrc_lines",
    )
    with pytest.raises(TorError, match="one torrc option per line"):
        check_lines(["UseBridges 1\nSafeLogging 0"], "[tor] torrc_lines")
