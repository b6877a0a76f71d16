"""What can be known about a medium without writing to it: the file system a folder is on
(``/proc/self/mountinfo``, ``lsblk``), a device's model and serial (``lsblk``), an image's
file system (``blkid -p``), and a file's birth time (``statx``).

Nothing here is required: whatever cannot be known is left out, and the manifest says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tainik.workstation.vault.canonical import JsonObject

# statx(2): <linux/stat.h>
_AT_EMPTY_PATH = 0x1000
_STATX_BTIME = 0x800
_STATX_SIZE = 256
_BTIME_OFFSET = 80  # struct statx: stx_btime (struct statx_timestamp: s64 sec, u32 nsec)
_TOOL_TIMEOUT = 20.0


class _Statx:
    """``statx`` through the C library (Python 3.11's ``os`` has no ``statx``): only the
    birth time is taken from it; everything else comes from ``os.fstat``."""

    def __init__(self) -> None:
        self._call = None
        self.missing_reason = "the C library has no statx"
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            call = libc.statx
        except (OSError, AttributeError):
            return
        call.argtypes = (
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_void_p,
        )
        call.restype = ctypes.c_int
        self._call = call
        self._buffer = ctypes.create_string_buffer(_STATX_SIZE)

    def birth_ns(self, fd: int) -> tuple[int | None, str]:
        """``(birth time in ns, "")``, or ``(None, why it is unknown)``. Not thread-safe."""
        if self._call is None:
            return None, self.missing_reason
        buffer = self._buffer
        if self._call(fd, b"", _AT_EMPTY_PATH, _STATX_BTIME, buffer) != 0:
            return None, "statx failed: " + os.strerror(ctypes.get_errno())
        (mask,) = struct.unpack_from("<I", buffer, 0)
        if not mask & _STATX_BTIME:
            return None, "the file system does not record it"
        seconds, nanos = struct.unpack_from("<qI", buffer, _BTIME_OFFSET)
        return seconds * 1_000_000_000 + nanos, ""


def statx() -> _Statx:
    """A birth-time reader for one thread."""
    return _Statx()


@dataclass(frozen=True, slots=True)
class Mount:
    """One line of ``/proc/self/mountinfo``."""

    point: str
    fs_type: str
    source: str
    options: str  # the mount's own (ro/rw, atime)
    super_options: str

    @property
    def read_only(self) -> bool:
        """Whether the mount (or its file system) is read-only."""
        return "ro" in self.options.split(",") or "ro" in self.super_options.split(",")


def _unescape(text: str) -> str:
    """Mountinfo escapes space, tab, newline and backslash as octal."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and len(text[i + 1 : i + 4]) == 3 and text[i + 1 : i + 4].isdigit():
            out.append(chr(int(text[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def mount_of(path: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> Mount | None:
    """The mount that holds ``path`` (the longest mount point above it; the last such line
    when several mounts stack on one point)."""
    try:
        text = mountinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    target = os.path.realpath(path)
    best: Mount | None = None
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 6 or len(tail) < 3:
            continue
        point = _unescape(fields[4])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best.point)):
            best = Mount(point, tail[0], _unescape(tail[1]), fields[5], tail[2])
    return best


def _tool_json(argv: list[str]) -> JsonObject | None:
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(
            argv, capture_output=True, timeout=_TOOL_TIMEOUT, check=False, stdin=subprocess.DEVNULL
        )
        value = json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    return value if isinstance(value, dict) else None


_LSBLK_FIELDS = {"fstype": "fs_type", "label": "label", "uuid": "uuid", "model": "model"}


def lsblk(device: str) -> JsonObject:
    """What ``lsblk`` knows of a block device: file system type, label, UUID, model, serial,
    size in bytes (only the fields it knows)."""
    value = _tool_json(
        [
            "lsblk",
            "--json",
            "--bytes",
            "--nodeps",
            "-o",
            "FSTYPE,LABEL,UUID,MODEL,SERIAL,SIZE",
            device,
        ]
    )
    devices = value.get("blockdevices") if value else None
    if not isinstance(devices, list) or not devices or not isinstance(devices[0], dict):
        return {}
    found: JsonObject = {}
    for key, name in (*_LSBLK_FIELDS.items(), ("serial", "serial")):
        text = devices[0].get(key)
        if isinstance(text, str) and text.strip():
            found[name] = text.strip()
    size = devices[0].get("size")
    if isinstance(size, int):
        found["device_size"] = size
    return found


def blkid(path: Path) -> JsonObject:
    """The file system in an image file, by ``blkid -p`` (which reads, never mounts)."""
    if shutil.which("blkid") is None:
        return {}
    try:
        done = subprocess.run(
            ["blkid", "-p", "-o", "export", str(path)],
            capture_output=True,
            timeout=_TOOL_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    names = {"TYPE": "fs_type", "LABEL": "label", "UUID": "uuid"}
    found: JsonObject = {}
    for line in done.stdout.decode("utf-8", errors="replace").splitlines():
        key, _, value = line.partition("=")
        if key in names and value:
            found[names[key]] = value
    return found


def describe_folder(path: Path) -> tuple[JsonObject, Mount | None]:
    """The manifest's ``medium`` for a folder, and its mount."""
    medium: JsonObject = {"kind": "folder", "path": str(path)}
    mount = mount_of(path)
    if mount is not None:
        medium.update(
            {
                "mount_point": mount.point,
                "fs_type": mount.fs_type,
                "device": mount.source,
                "mount_options": mount.options,
                "read_only": mount.read_only,
            }
        )
        if mount.source.startswith("/dev/"):
            known = {**_probe(Path(mount.source)), **lsblk(mount.source)}
            known.pop("fs_type", None)  # the mount's word is the one in use
            medium.update(known)
    return medium, mount


def _probe(path: Path) -> JsonObject:
    """``blkid -p`` where it can read the device (lsblk's label and UUID come from udev's
    database, which a container or a minimal system may not have)."""
    return blkid(path) if os.access(path, os.R_OK) else {}
