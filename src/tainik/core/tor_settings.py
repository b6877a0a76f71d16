"""The ``[tor]`` settings of an instance: whether ``tainik serve`` publishes its onion
services, which tor runs them, and what more its ``torrc`` holds (bridges, vanguards, or the
private test network's ``DirAuthority`` lines). Parsed by :mod:`tainik.config`, used by
:mod:`tainik.tor`."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PUBLISH_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class TorSettings:
    """How the server's own tor runs. Nothing is published unless ``enabled``."""

    enabled: bool = False
    #: The tor program: a name looked up in PATH, or a path (Debian's is /usr/sbin/tor).
    binary: str = "tor"
    #: Extra torrc lines, added after the ones Tainik writes (one option a line).
    torrc_lines: tuple[str, ...] = ()
    #: A torrc file to include (``%include``), or empty.
    torrc_file: str = ""
    #: How long tor may take to start, bootstrap and upload both onion descriptors.
    publish_timeout_seconds: int = DEFAULT_PUBLISH_TIMEOUT_SECONDS
