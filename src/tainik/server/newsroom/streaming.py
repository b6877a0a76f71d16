"""Sending an archive: streamed from its layout in constant memory, one byte range or all."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tainik.service.errors import RequestError
from tainik.service.instance import Instance
from tainik.service.newsroom import downloads
from tainik.service.newsroom.auth import Credential
from tainik.service.newsroom.downloads import Download
from tainik.service.newsroom.ranges import ByteRange, parse_range

TAR_TYPE = "application/x-tar"
# scheme://host[:port] with a name, an IPv4 address or a bracketed IPv6 one; nothing else.
_ORIGIN = re.compile(r"https?://(?:[A-Za-z0-9.\-]{1,180}|\[[0-9A-Fa-f:.]{2,60}\])(?::[0-9]{1,5})?")
log = logging.getLogger("tainik.server")


def wanted_range(request: Request) -> tuple[ByteRange | None, str | None]:
    """The ``Range`` a request asks for (None: everything) and its ``If-Range`` validator."""
    return parse_range(request.headers.get("range")), request.headers.get("if-range")


def origin_of(request: Request) -> str:
    """The newsroom's address as the browser reached it (``http://NAME.onion``), for the pull
    metadata of a download from the pages: the address ``tainik pull --server`` would be given.
    """
    url = request.base_url
    origin = f"{url.scheme}://{url.netloc}"
    if not _ORIGIN.fullmatch(origin):
        raise RequestError()
    return origin


async def download_response(
    instance: Instance,
    who: Credential,
    request: Request,
    kind: str,
    item_id: int,
    *,
    with_link: bool = False,
) -> Response:
    """One submission or reply (``kind``) as a sealed-file tar, honouring ``Range``,
    ``If-Range`` and ``HEAD``: the pages and the API send downloads through here. With
    ``with_link`` (the pages), a selection tar that also carries which source sent it."""
    wanted, if_range = wanted_range(request)
    head = request.method == "HEAD"
    origin = origin_of(request) if with_link else None
    found = await run_in_threadpool(
        functools.partial(downloads.download_one, head=head, origin=origin),
        instance,
        who,
        kind,
        item_id,
        wanted,
        if_range,
    )
    return tar_response(found, head=head)


def _guarded(chunks: Iterator[bytes]) -> Iterator[bytes]:
    # The status line is sent already: a failure can only cut the body short, which the client
    # sees against Content-Length. Log the type only, as everywhere.
    try:
        yield from chunks
    except Exception as exc:
        log.error("download interrupted: %s", type(exc).__name__)


def tar_response(download: Download, *, head: bool = False) -> Response:
    """200 with the whole archive, 206 with the range asked for, or 416; for ``head``, the
    same status and headers without reading a byte."""
    size = download.layout.size
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": download.etag,
        "Content-Disposition": f'attachment; filename="{download.filename}"',
    }
    if download.unsatisfiable:
        headers["Content-Range"] = f"bytes */{size}"
        return Response(status_code=416, headers=headers)
    start, stop = download.span or (0, size)
    status = 200
    if download.span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    headers["Content-Length"] = str(stop - start)
    if head:
        return Response(status_code=status, headers=headers, media_type=TAR_TYPE)
    return StreamingResponse(
        _guarded(download.layout.stream(start, stop)),
        status_code=status,
        headers=headers,
        media_type=TAR_TYPE,
    )
