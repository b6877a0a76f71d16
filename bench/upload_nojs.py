"""Benchmark: a no-JS multipart upload through the source interface, against the stock age CLI.

Uploads one file (default 1 GiB) over loopback the way a browser with JavaScript off does,
and times the stock `age` CLI encrypting the same file in the same run. Prints the ratio
(target >= 0.6x) and the server's RSS growth during the upload (target < 64 MiB). Then 20
concurrent uploaders of 50 MiB each must finish with 0 errors.

Run: `.venv/bin/python bench/upload_nojs.py [--size-mib 1024] [--concurrent 20]`.
The client sends with sendfile(2) so the measurement is of the server, not of the client.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

from measure import (
    MIB,
    PeakMemory,
    age_encrypt_seconds,
    cpu_seconds,
    random_file,
    rss,
    served_instance,
    stock_age,
)


def http(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        return read_response(sock)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = (headers[key] + "\n" if key in headers else "") + value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def cookies_of(headers: dict[str, str]) -> dict[str, str]:
    found = {}
    for line in headers.get("set-cookie", "").split("\n"):
        if "=" in line:
            name, _, rest = line.partition("=")
            found[name.strip()] = rest.split(";")[0]
    return found


def new_source(port: int) -> dict[str, str]:
    _, headers, _ = http(port, b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
    cookies = cookies_of(headers)
    body = f"csrf={cookies['tainik_csrf']}".encode()
    request = (
        "POST /generate HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
        f"Cookie: tainik_csrf={cookies['tainik_csrf']}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    status, headers, _ = http(port, request)
    assert status == 200, status
    cookies.update(cookies_of(headers))
    return cookies


def upload(port: int, cookies: dict[str, str], path: Path, offset: int, count: int) -> int:
    boundary = "----tainikbench" + os.urandom(8).hex()
    prefix = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
        f"{cookies['tainik_csrf']}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\n\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    suffix = f"\r\n--{boundary}--\r\n".encode()
    head = (
        "POST /submit HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
        f"Cookie: tainik_csrf={cookies['tainik_csrf']}; tainik_source={cookies['tainik_source']}"
        f"\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(prefix) + count + len(suffix)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as sock, open(path, "rb") as handle:
        sock.sendall(head + prefix)
        sock.sendfile(handle, offset, count)
        sock.sendall(suffix)
        status, _, _ = read_response(sock)
    return status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--each-mib", type=int, default=50)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    age = stock_age()
    with (
        tempfile.TemporaryDirectory(dir=args.dir, prefix="tainik-bench-") as temp,
        served_instance(Path(temp)) as served,
    ):
        work = Path(temp)
        source = work / "source.bin"
        random_file(source, args.size_mib * MIB)
        size = source.stat().st_size
        port = served.port
        cookies = new_source(port)
        age_seconds = age_encrypt_seconds(age, served.recipient, source, work)
        baseline = rss(served.process.pid)
        server_cpu = cpu_seconds(served.process.pid)
        with PeakMemory(served.process.pid) as peak:
            start = time.perf_counter()
            status = upload(port, cookies, source, 0, size)
            upload_seconds = time.perf_counter() - start
        server_cpu = cpu_seconds(served.process.pid) - server_cpu
        assert status == 303, status
        print(f"cores: {len(os.sched_getaffinity(0))}; file {size / MIB:.0f} MiB")
        print(f"age -e        {size / age_seconds / MIB:7.0f} MiB/s ({age_seconds:.2f} s)")
        print(
            f"no-JS upload  {size / upload_seconds / MIB:7.0f} MiB/s ({upload_seconds:.2f} s)"
            f"  ratio {age_seconds / upload_seconds:.2f}x"
        )
        top = max(baseline, peak.own)
        print(
            f"server RSS    {baseline / MIB:.0f} MiB before, {top / MIB:.0f} MiB peak, "
            f"growth {(top - baseline) / MIB:.0f} MiB"
        )
        print(
            f"server CPU    {server_cpu / (size / (1024 * MIB)):.2f} s per GiB "
            f"(wall {upload_seconds / (size / (1024 * MIB)):.2f} s per GiB)"
        )
        each = min(args.each_mib * MIB, size)
        results: list[int] = []
        sessions = [new_source(port) for _ in range(args.concurrent)]

        def one(index: int) -> None:
            try:
                results.append(upload(port, sessions[index], source, 0, each))
            except OSError:
                results.append(-1)

        start = time.perf_counter()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(args.concurrent)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
        errors = sum(1 for r in results if r != 303)
        print(
            f"{args.concurrent} concurrent uploads of {each / MIB:.0f} MiB: {errors} errors,"
            f" {args.concurrent * each / seconds / MIB:.0f} MiB/s total ({seconds:.1f} s)"
        )


if __name__ == "__main__":
    main()
