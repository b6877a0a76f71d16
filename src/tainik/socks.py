"""Tor's SOCKS port, as ``tainik send`` and ``tainik pull`` see it (docs/protocol.md,
"Reaching the server").

The HTTP library says little when Tor cannot connect ("Malformed reply", since Tor's own reply
codes for onion services, 0xF0 to 0xF7, are not in RFC 1928). :func:`probe` makes one SOCKS5
CONNECT itself, with the host *name* (Tor resolves it; nothing is looked up here), and turns
the reply into something a person can act on: Tor is not running, the onion service is not
there yet, or it wants a client-authorization key that this Tor does not hold.

Tor sends the onion codes only on a SOCKS port with the ``ExtendedErrors`` flag; without them
a failure reads as RFC 1928's "host unreachable" or "general failure", explained as such.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct
from urllib.parse import urlsplit

from tainik.core.errors import N_, ExitCode, Gettext, TainikError, UsageError, english

TOR_BROWSER_PORT = 9150
SYSTEM_TOR_PORT = 9050
# Tor answers a SOCKS request within its SocksTimeout (2 minutes by default).
PROBE_TIMEOUT = 150.0


class NoProxyForOnionError(UsageError):
    """An onion server and no ``--proxy``: the name would go to ordinary DNS."""

    template = N_(
        "{server} is an onion service: it is reached only through Tor. Start Tor Browser, keep "
        "it open and add --proxy socks5h://127.0.0.1:9150 (Tor Browser's SOCKS port), or use "
        "--proxy socks5h://127.0.0.1:9050 with a system tor (Debian's tor package, Tails). "
        "Nothing was sent and no name was looked up."
    )


class _ReasonedError(TainikError):
    """An error whose ``reason`` is itself a message to translate (or a system's text)."""

    def message(self, gettext: Gettext = english) -> str:
        params = {**self.params, "reason": gettext(str(self.params.get("reason", "")))}
        return gettext(self.template).format(**params)


class ProxyDownError(_ReasonedError):
    """Nothing answers at the proxy's address, or it does not speak SOCKS5."""

    exit_code = ExitCode.IO
    template = N_(
        "The Tor proxy at {proxy} does not answer ({reason}). Start Tor Browser and keep it "
        "open (its SOCKS port is 9150), or start the system tor (port 9050), then run the "
        "same command again."
    )


class ProxyLostError(_ReasonedError):
    """The proxy stopped answering during a run (Tor Browser closed or restarting)."""

    exit_code = ExitCode.IO
    template = N_(
        "The Tor proxy at {proxy} stopped answering ({reason}): keep Tor Browser (or the system "
        "tor) running; the run goes on once it answers again"
    )


class OnionUnreachableError(_ReasonedError):
    """Tor answered, but could not connect to the server: worth trying again later."""

    exit_code = ExitCode.IO
    template = N_("Tor could not reach {host}: {reason}")


class OnionRefusedError(OnionUnreachableError):
    """Tor will not connect, and waiting will not change it (client authorization, a bad
    address): the run ends at once."""

    exit_code = ExitCode.USAGE


NOT_SOCKS = N_("it does not speak SOCKS5")
REFUSED = N_("connection refused")
TIMED_OUT = N_("timed out")
CLOSED = N_("it closed the connection")
# Tor's reply codes for onion services (tor's doc/socks-extensions.txt), and RFC 1928's.
REASONS = {
    0x01: N_("Tor failed to connect (general failure)"),
    0x02: N_("Tor's exit policy does not allow the connection"),
    0x03: N_("the network is unreachable"),
    0x04: N_(
        "the host is unreachable: the onion service may be offline or the address wrong, or "
        "it needs a client-authorization key that this Tor lacks"
    ),
    0x05: N_("the connection was refused"),
    0x06: N_("the connection timed out"),
    0xF0: N_("its descriptor was not found: the service is offline, or the address is wrong"),
    0xF1: N_("its descriptor could not be read"),
    0xF2: N_("its introduction failed"),
    0xF3: N_("the rendezvous failed"),
    0xF4: N_(
        "the onion service requires client authorization, and this Tor holds no key for it: "
        "add your .auth_private line to Tor (docs/workstation.md, 'Through Tor')"
    ),
    0xF5: N_(
        "the onion service did not accept the client-authorization key this Tor holds: the "
        "key is wrong, or it was revoked (the account was deactivated or reset)"
    ),
    0xF6: N_("it is not a valid onion address"),
    0xF7: N_("its introduction timed out"),
}
# Codes that will not change by trying again.
FINAL = frozenset({0xF4, 0xF5, 0xF6})


def proxy_address(proxy: str) -> tuple[str, int]:
    """The host and port of a ``socks5h://`` (or ``socks5://``) proxy URL."""
    parts = urlsplit(proxy)
    return parts.hostname or "127.0.0.1", parts.port or 1080


def probe(proxy: str, host: str, port: int, timeout: float = PROBE_TIMEOUT) -> None:
    """One SOCKS5 CONNECT to ``host``:``port`` through ``proxy``, closed at once.

    Raises :class:`ProxyDownError`, :class:`OnionRefusedError` (final) or
    :class:`OnionUnreachableError` (worth another try); returns when Tor connected."""
    address = proxy_address(proxy)
    try:
        sock = socket.create_connection(address, timeout=min(timeout, 10.0))
    except OSError as exc:
        raise ProxyDownError(proxy=_shown(address), reason=_os_reason(exc)) from exc
    with sock:
        sock.settimeout(timeout)
        try:
            sock.sendall(b"\x05\x01\x00")  # version 5, one method: no authentication
            if _recv(sock, 2) != b"\x05\x00":
                raise ProxyDownError(proxy=_shown(address), reason=NOT_SOCKS)
            sock.sendall(b"\x05\x01\x00" + _address(host) + struct.pack("!H", port))
            reply = _recv(sock, 2)
        except (OSError, EOFError) as exc:
            raise ProxyDownError(proxy=_shown(address), reason=_os_reason(exc)) from exc
    if reply[0] != 5:
        raise ProxyDownError(proxy=_shown(address), reason=NOT_SOCKS)
    code = reply[1]
    if code == 0:
        return
    reason = REASONS.get(code, N_("Tor refused the connection"))
    kind = OnionRefusedError if code in FINAL else OnionUnreachableError
    raise kind(host=host, reason=reason)


def _address(host: str) -> bytes:
    """The SOCKS5 address of ``host``: an IP literal as such, any name as a name (type 3),
    for the proxy to resolve (socks5h)."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        name = host.encode("idna")
        return b"\x03" + bytes([len(name)]) + name
    return (b"\x01" if ip.version == 4 else b"\x04") + ip.packed


def _recv(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError(CLOSED)
        data += chunk
    return data


def _shown(address: tuple[str, int]) -> str:
    return f"{address[0]}:{address[1]}"


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return REFUSED
    if isinstance(exc, TimeoutError | socket.timeout):
        return TIMED_OUT
    return str(exc) or type(exc).__name__
