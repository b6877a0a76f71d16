"""The server's torrc, written at each start from ``[tor]``: what Tainik needs, then the
operator's lines (bridges, vanguards, a test network), then the two onion services.

The operator's lines may not take over what Tainik manages (the data folder, the control
port, the onion services) nor make tor log client data: ``SafeLogging`` stays on and no log
goes below ``notice``. Tor's own notices go to our standard error, never to a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from tainik.core.errors import N_, TorError
from tainik.core.tor_settings import TorSettings
from tainik.tor.layout import SERVICES, TorFiles

#: Options Tainik writes itself; an extra line naming one is refused.
MANAGED = frozenset(
    name.lower()
    for name in (
        "DataDirectory",
        "ControlPort",
        "ControlPortWriteToFile",
        "ControlSocket",
        "CookieAuthentication",
        "CookieAuthFile",
        "HashedControlPassword",
        "HiddenServiceDir",
        "HiddenServicePort",
        "HiddenServiceVersion",
        "RunAsDaemon",
        "PidFile",
        "__OwningControllerProcess",
    )
)
#: Log severities that may hold client data (addresses, streams): refused anywhere.
_VERBOSE = re.compile(r"\b(debug|info)\b", re.IGNORECASE)
# The virtual port both services answer on: plain http://ADDRESS.onion/.
ONION_PORT = 80


def refusal(line: str) -> str | None:
    """Why an extra torrc line is refused (an error template with ``{origin}``, ``{number}``
    and ``{line}``), or None when it may be used."""
    words = line.split(None, 1)
    if not words or words[0].startswith("#"):
        return None
    option, value = words[0].lower(), (words[1] if len(words) > 1 else "").strip()
    if option in MANAGED or option.startswith("%"):
        return N_("{origin}, line {number}: {line}: Tainik sets this option itself")
    if option == "safelogging" and value.lower() != "1":
        return N_(
            "{origin}, line {number}: {line}: SafeLogging must stay 1 (it keeps addresses "
            "out of tor's messages)"
        )
    if option == "log" and _VERBOSE.search(value.split()[0] if value else ""):
        return N_(
            "{origin}, line {number}: {line}: tor may not log at the info or debug level "
            "(those messages hold client data)"
        )
    return None


def check_lines(lines: Iterable[str], origin: str) -> None:
    """Raise :class:`TorError` for the first extra line that is refused."""
    for number, line in enumerate(lines, 1):
        if "\n" in line or "\r" in line:
            raise TorError(
                N_("{origin}, line {number}: one torrc option per line"),
                origin=origin,
                number=number,
            )
        reason = refusal(line.strip())
        if reason is not None:
            raise TorError(reason, origin=origin, number=number, line=line.strip())


def included_lines(settings: TorSettings) -> list[str]:
    """The lines of ``[tor] torrc_file`` (checked), or none when it is not set."""
    if not settings.torrc_file:
        return []
    path = Path(settings.torrc_file)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TorError(
            N_("Cannot read the torrc file {path} named in [tor] torrc_file: {reason}"),
            path=str(path),
            reason=getattr(exc, "strerror", None) or str(exc),
        ) from exc
    check_lines(lines, str(path))
    return lines


def torrc_text(
    files: TorFiles, settings: TorSettings, targets: Mapping[str, tuple[str, int]], owner: int
) -> str:
    """The whole torrc: ``targets`` maps each service to the (host, port) it forwards to;
    ``owner`` is the server's process id (tor exits when it does)."""
    check_lines(settings.torrc_lines, "[tor] torrc_lines")
    included = included_lines(settings)
    lines = [
        "# Written by 'tainik serve' from [tor] in tainik.toml at each start; edits are lost.",
        f"DataDirectory {files.tor_data}",
        "SocksPort 0",
        "ControlPort 127.0.0.1:auto",
        f"ControlPortWriteToFile {files.control_port_file}",
        "CookieAuthentication 1",
        f"CookieAuthFile {files.control_cookie}",
        f"__OwningControllerProcess {owner}",
        f"PidFile {files.pid_file}",
        "Log notice stdout",
        "SafeLogging 1",
        "RunAsDaemon 0",
        "# [tor] torrc_lines",
        *settings.torrc_lines,
    ]
    if included:
        lines += [f"# [tor] torrc_file: {settings.torrc_file}", *included]
    for service in SERVICES:
        host, port = targets[service]
        shown = f"[{host}]" if ":" in host else host
        lines += [
            f"HiddenServiceDir {files.service_dir(service)}",
            f"HiddenServicePort {ONION_PORT} {shown}:{port}",
        ]
    return "\n".join(lines) + "\n"
