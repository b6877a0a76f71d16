"""The instance's onion services, as the server, the admin pages and the command line use
them: publish both at start, show their addresses, and hand out or take back the staff's
client-authorization keys (docs/deployment.md, "Client authorization for staff").

Nothing is published and no key is made unless ``[tor] enabled`` is true; a key is taken
back whatever the setting, so that turning Tor off and on again revives no one's access.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tainik.config import InstanceConfig
from tainik.crypto import Secret
from tainik.service.instance import Instance
from tainik.tor import access, control
from tainik.tor.control import RunningTor
from tainik.tor.layout import OnionAddresses, TorFiles

log = logging.getLogger("tainik.server")
# Listening on every address: the onion services forward to loopback.
_ANY_ADDRESS = {"", "0.0.0.0", "::"}  # noqa: S104


@dataclass(frozen=True)
class NewsroomKey:
    """One staff member's key to the newsroom onion: shown once, never stored."""

    address: str
    private_key: Secret

    def auth_private_line(self) -> Secret:
        """The line of a ``.auth_private`` file (a system tor's ``ClientOnionAuthDir``)."""
        return Secret(
            f"{self.address.removesuffix('.onion')}:descriptor:x25519:{self.private_key.reveal()}"
        )


def files_of(config: InstanceConfig) -> TorFiles:
    """The paths of the instance's tor."""
    return TorFiles(config.data_dir)


def addresses(config: InstanceConfig) -> OnionAddresses | None:
    """Both onion addresses, or None while Tor was never enabled (no keys made yet)."""
    if config.tor.enabled:
        return files_of(config).prepare()
    return files_of(config).addresses()


def publish(instance: Instance, host: str, ports: tuple[int, int]) -> RunningTor | None:
    """Start tor and publish the source and newsroom listeners (``ports``) as onion services,
    when ``[tor] enabled``; returns once both are published (TorError otherwise)."""
    config = instance.config
    if not config.tor.enabled:
        return None
    target = "127.0.0.1" if host in _ANY_ADDRESS else host
    return control.publish(
        files_of(config),
        config.tor,
        {"source": (target, ports[0]), "newsroom": (target, ports[1])},
    )


def grant(instance: Instance, user_id: int) -> NewsroomKey | None:
    """A new newsroom key for staff member ``user_id`` (replacing theirs), in force at once
    in a running tor; None while Tor is not enabled."""
    config = instance.config
    if not config.tor.enabled:
        return None
    files = files_of(config)
    newsroom = files.prepare().newsroom
    key = access.grant(files, user_id)
    control.reload_running(files)
    return NewsroomKey(newsroom, Secret(key.private))


def revoke(instance: Instance, user_id: int) -> None:
    """Take staff member ``user_id``'s newsroom key back, at once in a running tor."""
    files = files_of(instance.config)
    if access.revoke(files, user_id):
        known = files.addresses()
        control.reload_running(files, cut=known.newsroom if known is not None else None)
        log.info("newsroom onion: a staff key was removed")
