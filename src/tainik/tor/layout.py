"""Where the server's tor keeps its files in an instance, and the onion keys in them::

    DIR/tor/                    0700
    DIR/tor/torrc               written at each start from [tor] (0600)
    DIR/tor/data/               tor's DataDirectory (consensus cache, state; no logs)
    DIR/tor/source/             HiddenServiceDir of the source listener
        hs_ed25519_secret_key   the onion key (0600): the address lives and dies with it
        hs_ed25519_public_key
        hostname
    DIR/tor/newsroom/           the same, for the newsroom listener
        authorized_clients/     one STAFF-ID.auth per staff member: public halves only
    DIR/tor/control-port        where the running tor's control port is (tor writes it)
    DIR/tor/control-cookie      its authentication cookie (tor writes it, 0600)
    DIR/tor/tor.pid             the running tor's process id

Back up ``source/`` and ``newsroom/`` with the instance: losing a key loses its address.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from tainik.core.errors import N_, StorageError
from tainik.crypto.onion import OnionServiceKey, address_from_public_file
from tainik.sealed import durable

TOR_DIR = "tor"
SERVICES = ("source", "newsroom")


@dataclass(frozen=True)
class OnionAddresses:
    """The two onion addresses of an instance (with ``.onion``)."""

    source: str
    newsroom: str


@dataclass(frozen=True)
class TorFiles:
    """The paths of the server's tor in the instance folder ``data_dir``."""

    data_dir: Path

    @property
    def root(self) -> Path:
        return self.data_dir / TOR_DIR

    @property
    def torrc(self) -> Path:
        return self.root / "torrc"

    @property
    def tor_data(self) -> Path:
        return self.root / "data"

    def service_dir(self, service: str) -> Path:
        """The ``HiddenServiceDir`` of ``service`` (``source`` or ``newsroom``)."""
        return self.root / service

    @property
    def authorized_clients(self) -> Path:
        return self.service_dir("newsroom") / "authorized_clients"

    @property
    def control_port_file(self) -> Path:
        return self.root / "control-port"

    @property
    def control_cookie(self) -> Path:
        return self.root / "control-cookie"

    @property
    def pid_file(self) -> Path:
        return self.root / "tor.pid"

    def prepare(self) -> OnionAddresses:
        """Make the folders (0700) and any missing onion key; return both addresses."""
        for folder in (
            self.root,
            self.tor_data,
            *(self.service_dir(s) for s in SERVICES),
            self.authorized_clients,
        ):
            try:
                folder.mkdir(mode=0o700, exist_ok=True)
                folder.chmod(0o700)  # tor refuses a HiddenServiceDir others can read
            except OSError as exc:
                raise durable.storage_error(exc, folder) from exc
        return OnionAddresses(*(self._address(s, create=True) for s in SERVICES))

    def addresses(self) -> OnionAddresses | None:
        """Both addresses, or None when the keys were never made (Tor never enabled)."""
        if not all((self.service_dir(s) / "hs_ed25519_public_key").exists() for s in SERVICES):
            return None
        return OnionAddresses(*(self._address(s, create=False) for s in SERVICES))

    def _address(self, service: str, *, create: bool) -> str:
        folder = self.service_dir(service)
        secret, public = folder / "hs_ed25519_secret_key", folder / "hs_ed25519_public_key"
        try:
            if create and not secret.exists():
                key = OnionServiceKey.generate()
                # Tor derives the public key and hostname from the secret; a half-made pair
                # from an earlier crash is replaced whole.
                for stale in (public, folder / "hostname"):
                    with contextlib.suppress(FileNotFoundError):
                        stale.unlink()
                durable.replace_file(secret, key.secret_file())
                durable.replace_file(public, key.public_file())
                durable.replace_file(folder / "hostname", (key.address + "\n").encode())
            address = address_from_public_file(public.read_bytes())
        except FileNotFoundError as exc:
            raise StorageError(
                N_("The {service} onion key is missing from {path}"),
                service=service,
                path=str(folder),
            ) from exc
        except OSError as exc:
            raise durable.storage_error(exc, folder) from exc
        return address
