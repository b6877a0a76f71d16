"""The private Tor network the Tor tests run on (tests/tornet.py)."""

from __future__ import annotations

import os

from tornet import TorNetwork


def test_network_is_up_and_extra_clients_join_and_stop(tor_network: TorNetwork) -> None:
    lines = tor_network.torrc_lines()
    assert sum(line.startswith("DirAuthority ") for line in lines) == 3
    assert "TestingTorNetwork 1" in lines
    assert len(tor_network.pids()) >= 7  # 3 authorities, 3 relays, the client
    reply = tor_network.client.command("GETINFO status/bootstrap-phase")
    assert "PROGRESS=100" in reply
    with tor_network.start_client("joiner") as extra:
        pid = extra.pid
        assert pid is not None
        extra.newnym()
    # Stopped by its PID: the process is gone (waited for, so not even a zombie).
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError(f"tor {pid} still runs")
