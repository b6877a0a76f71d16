"""An organisation's profile for tests: a valid onion address, logos, and a configured instance.

Import it as ``from organisation_support import ...`` (``tests/`` is on ``sys.path``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw

from tainik.config import CONFIG_NAME, TomlValue, set_key
from tainik.service import logo

NAME = "Prison Watch"
WELCOME_EN = "We publish what happens behind prison walls.\n\nWe read everything you send."
WELCOME_RU = (
    "Мы рассказываем о том, что происходит за стенами тюрем.\n\nМы читаем всё, что вы пришлёте."
)
PUBLIC_PAGE = "https://prisonwatch.example/tips"
PAYLOAD = b"<script>alert('PAYLOAD-CANARY')</script>"
EXIF_CANARY = "EXIF-CANARY-Camera"


def onion_address(seed: bytes = b"tainik test") -> str:
    """A valid v3 onion address (checksum and version) for a key made from ``seed``."""
    key = hashlib.sha256(seed).digest()
    version = b"\x03"
    checksum = hashlib.sha3_256(b".onion checksum" + key + version).digest()[:2]
    return base64.b32encode(key + checksum + version).decode("ascii").lower() + ".onion"


def logo_png(size: tuple[int, int] = (240, 96)) -> bytes:
    """A small drawn logo (a PNG with transparency)."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, size[0] - 4, size[1] - 4), radius=18, fill=(31, 95, 139, 255))
    draw.ellipse((18, 18, size[1] - 18, size[1] - 18), fill=(251, 251, 248, 255))
    draw.rectangle((size[1], 36, size[0] - 20, 60), fill=(251, 251, 248, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jpeg_with_secrets(size: tuple[int, int] = (320, 200)) -> bytes:
    """A JPEG that carries what a logo must not: EXIF (camera, GPS, orientation), a comment,
    an ICC profile, and a script after the end of the image (a polyglot)."""
    image = Image.new("RGB", size, (200, 40, 40))
    ImageDraw.Draw(image).rectangle((20, 20, size[0] // 2, size[1] - 20), fill=(240, 240, 240))
    exif = Image.Exif()
    exif[0x010F] = EXIF_CANARY  # Make
    exif[0x0110] = "EXIF-CANARY-Model"  # Model
    exif[0x0112] = 1  # Orientation: upright
    gps = {1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)}
    exif[0x8825] = gps  # GPSInfo
    out = io.BytesIO()
    image.save(
        out,
        format="JPEG",
        exif=exif.tobytes(),
        comment=b"COMMENT-CANARY",
        icc_profile=b"ICC-CANARY" * 20,
    )
    return out.getvalue() + PAYLOAD


def png_with_text_chunks() -> bytes:
    """The drawn logo with tEXt and zTXt chunks (and a payload after IEND)."""
    data = logo_png()
    chunks = b""
    for kind, body in (
        (b"tEXt", b"Author\x00TEXT-CANARY"),
        (b"zTXt", b"Comment\x00\x00" + zlib.compress(b"ZTXT-CANARY")),
    ):
        chunks += struct.pack(">I", len(body)) + kind + body
        chunks += struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    iend = data.rindex(b"IEND") - 4
    return data[:iend] + chunks + data[iend:] + PAYLOAD


def configure(data_dir: Path, *, logo_bytes: bytes | None = None, onion: str = "") -> str:
    """Give the instance in ``data_dir`` a profile as an administrator would (tainik.toml and
    a cleaned logo), before its server starts; returns the onion address."""
    onion = onion or onion_address()
    path = data_dir / CONFIG_NAME
    text = path.read_text(encoding="utf-8")
    values: dict[str, TomlValue] = {
        "name": NAME,
        "welcome_en": WELCOME_EN,
        "welcome_ru": WELCOME_RU,
        "onion_address": onion,
        "public_pages": [PUBLIC_PAGE],
    }
    if logo_bytes is not None:
        cleaned = logo.clean(logo_bytes)
        (data_dir / cleaned.file_name).write_bytes(cleaned.data)
        values["logo"] = cleaned.file_name
    for key, value in values.items():
        text = set_key(text, "organisation", key, value)
    path.write_text(text, encoding="utf-8")
    return onion
