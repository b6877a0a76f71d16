"""The logo is re-encoded from its pixels alone: nothing else of the uploaded file survives."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from organisation_support import (
    EXIF_CANARY,
    PAYLOAD,
    jpeg_with_secrets,
    logo_png,
    png_with_text_chunks,
)
from tainik.service import logo

CANARIES = (b"CANARY", PAYLOAD, EXIF_CANARY.encode(), b"Exif", b"ICC_PROFILE", b"tEXt", b"zTXt")


def _assert_only_pixels(cleaned: logo.CleanLogo) -> Image.Image:
    for canary in CANARIES:
        assert canary not in cleaned.data, canary
    image = Image.open(io.BytesIO(cleaned.data))
    image.load()
    assert not image.getexif()
    assert "icc_profile" not in image.info
    assert "comment" not in image.info
    return image


def test_a_jpeg_loses_exif_gps_comment_icc_and_the_payload_after_it() -> None:
    sent = jpeg_with_secrets()
    for canary in (PAYLOAD, EXIF_CANARY.encode(), b"COMMENT-CANARY", b"ICC-CANARY"):
        assert canary in sent  # the test image does carry them
    cleaned = logo.clean(sent)
    assert cleaned.file_name == "logo.jpg"
    assert cleaned.media_type == "image/jpeg"
    image = _assert_only_pixels(cleaned)
    assert image.format == "JPEG"
    assert image.size == (320, 200)
    # The pixels are the picture's (a lossy re-encoding: close, not equal).
    assert image.getpixel((300, 100)) == pytest.approx((200, 40, 40), abs=8)


def test_a_png_loses_text_chunks_and_the_payload_and_keeps_transparency() -> None:
    sent = png_with_text_chunks()
    assert b"TEXT-CANARY" in sent
    cleaned = logo.clean(sent)
    assert cleaned.file_name == "logo.png"
    image = _assert_only_pixels(cleaned)
    assert image.mode == "RGBA"
    corner = image.getpixel((0, 0))
    assert isinstance(corner, tuple)
    assert corner[3] == 0
    original = Image.open(io.BytesIO(logo_png()))
    assert image.tobytes() == original.convert("RGBA").tobytes()


def test_webp_is_accepted_and_re_encoded() -> None:
    out = io.BytesIO()
    Image.open(io.BytesIO(logo_png())).save(out, format="WEBP", exif=b"Exif\x00\x00CANARY")
    cleaned = logo.clean(out.getvalue())
    assert cleaned.file_name == "logo.webp"
    _assert_only_pixels(cleaned)


def _png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture (a decompression bomb's first bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    chunk += struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    idat = zlib.compress(b"\x00" * 64)
    chunk += struct.pack(">I", len(idat)) + b"IDAT" + idat
    chunk += struct.pack(">I", zlib.crc32(b"IDAT" + idat) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00\x00\x00\x00IEND\xaeB`\x82"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', id="svg"
        ),
        pytest.param(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", id="gif"),
        pytest.param(b"<html><body>hi</body></html>", id="html"),
        pytest.param(_png_header_claiming(100_000, 100_000), id="bomb-header"),
        pytest.param(_png_header_claiming(1025, 10), id="too-wide"),
        pytest.param(logo_png()[:60], id="truncated"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * (256 * 1024), id="over-256-KiB"),
    ],
)
def test_anything_else_is_refused(data: bytes) -> None:
    with pytest.raises(logo.LogoError):
        logo.clean(data)


def test_the_largest_accepted_picture() -> None:
    image = Image.new("RGB", (1024, 1024), (10, 20, 30))
    out = io.BytesIO()
    image.save(out, format="PNG")
    assert logo.clean(out.getvalue()).width == 1024
