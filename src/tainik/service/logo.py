"""The organisation's logo: cleaned on the way in, served from the instance folder.

An image is a parser's input and a carrier: EXIF and XMP (a camera, a place, an author's
name), ICC profiles, text chunks, a thumbnail of something else, bytes after the end of the
image (a polyglot file that is also a ZIP or an HTML page), and SVG, which is a document that
can hold script. So only PNG, JPEG and WebP are accepted, small (at most 256 KiB and
1024 × 1024 pixels, checked before any pixel is decoded), and never stored as sent: Pillow
decodes the pixels of the first frame, and a new image built from those pixels alone is encoded
again in the same format. Nothing but pixels survives. The result lives in the instance folder
and is served from the server's own origin (the Content-Security-Policy allows images from
``'self'`` only).
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from tainik.core.errors import N_
from tainik.core.profile import LOGO_MEDIA_TYPES
from tainik.sealed.regular import open_regular, read_at_most
from tainik.service.errors import RequestError

MAX_LOGO_BYTES = 256 * 1024
MAX_LOGO_PIXELS = 1024  # per side
# Pillow's name of each accepted format -> (file name, encoder options). Nothing else is
# even tried: Pillow is told to consider these three decoders only.
FORMATS: dict[str, tuple[str, dict[str, int | bool]]] = {
    "PNG": ("logo.png", {"optimize": True}),
    "JPEG": ("logo.jpg", {"quality": 90}),
    "WEBP": ("logo.webp", {"quality": 90}),
}


class LogoError(RequestError):
    """An image that cannot be the logo."""

    template = N_(
        "The logo must be a PNG, JPEG or WebP image of at most 256 KiB and 1024 × 1024 pixels"
    )


@dataclass(frozen=True)
class CleanLogo:
    """A logo re-encoded from its pixels alone."""

    data: bytes
    file_name: str  # one of LOGO_MEDIA_TYPES
    width: int
    height: int

    @property
    def media_type(self) -> str:
        """Its Content-Type."""
        return LOGO_MEDIA_TYPES[self.file_name]


def clean(data: bytes) -> CleanLogo:
    """``data`` decoded and encoded again with nothing but its pixels, or :class:`LogoError`."""
    if not data or len(data) > MAX_LOGO_BYTES:
        raise LogoError()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            kind = image.format or ""
            width, height = image.size
            # The header's size, before a single pixel is decoded.
            if kind not in FORMATS or not (0 < width <= MAX_LOGO_PIXELS):
                raise LogoError()
            if not 0 < height <= MAX_LOGO_PIXELS:
                raise LogoError()
            image.seek(0)  # the first frame of an animation
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, EOFError, SyntaxError) as exc:
        raise LogoError() from exc
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise LogoError() from exc
    try:
        upright = ImageOps.exif_transpose(image)  # as the camera meant it (then no EXIF at all)
    except Exception:  # a broken EXIF block turns nothing: the pixels as they are stored
        upright = image
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    mode = "RGBA" if has_alpha and kind != "JPEG" else "RGB"
    pixels = upright.convert(mode)
    # A new image from the pixel bytes alone: no info, no EXIF, no ICC, no text, no frames.
    fresh = Image.frombytes(mode, pixels.size, pixels.tobytes())
    file_name, options = FORMATS[kind]
    out = io.BytesIO()
    fresh.save(out, format=kind, **options)
    cleaned = out.getvalue()
    if len(cleaned) > MAX_LOGO_BYTES:
        raise LogoError(
            N_("Once cleaned, the logo is larger than 256 KiB: please use a smaller image")
        )
    return CleanLogo(cleaned, file_name, fresh.width, fresh.height)


def read(data_dir: Path, file_name: str) -> tuple[bytes, str] | None:
    """The stored logo's bytes and Content-Type, or None when there is none."""
    if file_name not in LOGO_MEDIA_TYPES:
        return None
    try:
        fd = open_regular(data_dir / file_name)  # never through a link
    except FileNotFoundError:
        return None
    try:
        data = read_at_most(fd, MAX_LOGO_BYTES)
    finally:
        os.close(fd)
    return data, LOGO_MEDIA_TYPES[file_name]
