"""The server's own tor: its files in the instance, its torrc, and the process we control.

``tainik serve`` starts Debian's ``tor`` and publishes two v3 onion services, one for the
source listener and one for the newsroom listener; the newsroom's is behind client
authorization, one X25519 key per staff member (:mod:`tainik.tor.access`). The onion keys
are made by Tainik (:mod:`tainik.crypto.onion`) and kept in the instance
(:mod:`tainik.tor.layout`), so the addresses survive restarts and are known before tor first
runs. Only :mod:`tainik.tor.control` imports ``stem`` (an import-linter contract).

Why stem rather than txtorcon: stem is the Tor Project's own controller library and is
synchronous; our server is threads and asyncio, not Twisted, and starts tor once, before it
serves. We launch tor ourselves and use stem for the control port: bootstrap, ``HS_DESC``
events, ``SIGNAL RELOAD``. The services are configured with ``HiddenServiceDir`` in a torrc
we write, not with ephemeral ``ADD_ONION``: tor itself reads each staff member's public key
from ``authorized_clients/``, so a key removed by the command line reaches the running tor
with a reload, without the server process in between.
"""
