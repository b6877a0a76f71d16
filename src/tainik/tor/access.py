"""Client authorization of the newsroom onion: one X25519 key per staff member.

The public half of each key is a file tor reads, ``authorized_clients/staff-ID.auth``; the
private half is shown once to the person (``tainik users add``, the admin page) and never
stored. Deactivating an account deletes its file; the running tor learns it on a reload
(:func:`tainik.tor.control.reload_running`).

Tor publishes an onion service *without* client authorization when ``authorized_clients/``
holds no key, so the folder always holds one more: ``locked.auth``, a key whose private half
was thrown away when it was made. With no staff at all, nobody can reach the newsroom onion.
"""

from __future__ import annotations

import contextlib
import re

from tainik.crypto.onion import ClientAuthKey
from tainik.sealed import durable
from tainik.tor.layout import TorFiles

LOCK_NAME = "locked.auth"
_STAFF = re.compile(r"staff-(\d+)\.auth")


def _name_of(user_id: int) -> str:
    return f"staff-{int(user_id)}.auth"


def keep_locked(files: TorFiles) -> None:
    """Make sure ``authorized_clients/`` holds at least the key nobody has."""
    lock = files.authorized_clients / LOCK_NAME
    if not lock.exists():
        durable.replace_file(lock, (ClientAuthKey.generate().public_line() + "\n").encode())


def grant(files: TorFiles, user_id: int) -> ClientAuthKey:
    """A new key for staff member ``user_id``, replacing any earlier one; the private half is
    in the returned key only."""
    keep_locked(files)
    key = ClientAuthKey.generate()
    path = files.authorized_clients / _name_of(user_id)
    durable.replace_file(path, (key.public_line() + "\n").encode())
    return key


def revoke(files: TorFiles, user_id: int) -> bool:
    """Delete staff member ``user_id``'s key; whether there was one."""
    path = files.authorized_clients / _name_of(user_id)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise durable.storage_error(exc, path) from exc
    with contextlib.suppress(OSError):
        durable.fsync_dir(files.authorized_clients)
    return True


def granted(files: TorFiles) -> set[int]:
    """The staff members (ids) who hold a key now."""
    if not files.authorized_clients.is_dir():
        return set()
    found = (_STAFF.fullmatch(p.name) for p in files.authorized_clients.iterdir())
    return {int(m.group(1)) for m in found if m}
