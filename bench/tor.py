"""Benchmark: `tainik send` of a 64 MiB trove through the private Tor network (tests/tornet.py)
against the same trove sent over plain loopback in the same run.

Prints both throughputs and their ratio, and the bytes on the wire against the payload: what
the sender handed to Tor's SOCKS port (HTTP and sealed segments), and what the client's tor
wrote to the network for it (cells and TLS: tor's ``traffic/written``). Everything runs on
this machine: 3 directory authorities, 3 relays, the server's tor and the client tor share its
cores with the server and the sender, so the Tor figure is a floor for the code, not a
forecast of the live network (DESIGN.md: 1.4 to 3.3 MB/s up through an onion service here).
Run: `.venv/bin/python bench/tor.py [--size-mib 64] [--files 4]`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import BIN, MIB, random_file

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from live_server import LiveServer, make_instance  # noqa: E402
from onion_host import (  # noqa: E402
    PUBLISH_TIMEOUT_S,
    CountingRelay,
    Onions,
    client_tor,
    control,
    enable_tor,
    wait_answering,
    wait_published,
)
from tornet import TorNode, running_network  # noqa: E402


def send(server: str, files: list[Path], codename: Path, *proxy: str) -> float:
    """Seconds ``tainik send`` took to deliver ``files`` (fails loudly otherwise)."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "tainik"), "send", "--server", server, "--new-codename-out", str(codename)]
        + list(proxy)
        + [str(path) for path in files],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"tainik send failed ({done.returncode}):\n{done.stderr}")
    return seconds


def written(tor: TorNode) -> int:
    """Bytes this tor has written to the network so far."""
    reply = control(tor, "GETINFO traffic/written")  # "250-traffic/written=N"
    return int(reply.split("=", 1)[1].split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="tainik-bench-tor-") as temp:
        work = Path(temp)
        trove = work / "trove"
        trove.mkdir()
        files = []
        for i in range(args.files):
            path = trove / f"part-{i}.bin"
            random_file(path, args.size_mib * MIB // args.files)
            files.append(path)
        payload = sum(path.stat().st_size for path in files)
        data_dir, _identity, _recipient = make_instance(work)
        started = time.perf_counter()
        with running_network(work / "tornet") as network:
            built = time.perf_counter() - started
            enable_tor(data_dir, network)
            onions = Onions.of(data_dir)
            client = client_tor(network, "benchclient")
            client.start()
            server = LiveServer(data_dir, work / "logs", start_timeout=PUBLISH_TIMEOUT_S)
            with server:  # tainik serve publishes both onion services before it serves
                wait_published(server)
                client.wait_bootstrapped()
                published = time.perf_counter() - started - built
                wait_answering(client, onions.source)
                answering = time.perf_counter() - started - built
                loopback = send(server.source_url, files, work / "codename-loopback.txt")
                before = written(client)
                with CountingRelay(client.socks_port) as relay:
                    through_tor = send(
                        onions.source_url,
                        files,
                        work / "codename-tor.txt",
                        "--proxy",
                        relay.url,
                    )
                    handed = relay.total()
                on_wire = written(client) - before
        cores = len(os.sched_getaffinity(0))
        print(f"cores: {cores}; trove {payload / MIB:.0f} MiB in {len(files)} files")
        print(
            f"private Tor network up in {built:.1f} s; then tainik serve published its onions "
            f"in {published:.1f} s, answering a client after {answering:.1f} s"
        )
        print(f"loopback     {payload / loopback / MIB:7.2f} MiB/s ({loopback:.1f} s)")
        print(
            f"through Tor  {payload / through_tor / MIB:7.2f} MiB/s ({through_tor:.1f} s)  "
            f"ratio {loopback / through_tor:.3f}x of loopback"
        )
        print(
            f"bytes to Tor's SOCKS port {handed / MIB:.1f} MiB = {handed / payload:.3f}x the "
            f"payload; written by the client tor {on_wire / MIB:.1f} MiB = "
            f"{on_wire / payload:.3f}x"
        )


if __name__ == "__main__":
    main()
