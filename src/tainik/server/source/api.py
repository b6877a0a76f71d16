"""The source interface's JSON API: sessions and resumable uploads (docs/protocol.md)."""

from __future__ import annotations

import base64
import binascii
import functools

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tainik.core.jsonfields import JsonObject
from tainik.core.manifest import Kind
from tainik.core.segments import DEFAULT_SEGMENT_SIZE
from tainik.core.source_api import NewCodename, SessionObject, UploadList
from tainik.core.upload import UploadError, max_segment_bytes
from tainik.server.json_body import SMALL_JSON, check_declared_length, read_json
from tainik.server.pages import COOKIE_FLAGS
from tainik.server.security import CSRF_COOKIE, check_csrf, csrf_token
from tainik.server.source.session import (
    SESSION_COOKIE,
    set_session_cookie,
    source_session,
    who,
)
from tainik.service import sources, uploads
from tainik.service.errors import LengthRequiredError, RequestError, TooLargeError
from tainik.service.instance import Instance
from tainik.service.new_source import NewSource

CSRF_HEADER = "x-csrf-token"
MAX_COMPLETE_JSON = 1024
SOURCE_KINDS = (Kind.FILE.value, Kind.MESSAGE.value)  # a source never sends a reply
# POST /api/uploads: the largest note in base64, the id, the count and the keys (~33.4 MiB).
MAX_CREATE_JSON = 4 * -(-uploads.MAX_NOTE_BYTES // 3) + 1024


class SourceApi:
    """JSON endpoints for the browser's uploader and ``tainik send``."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance

    def routes(self) -> list[Route]:
        """The routing table."""
        return [
            Route("/api/session", self.session_info, methods=["GET"]),
            Route("/api/session", self.ready_session, methods=["POST"]),
            Route("/api/sources", self.new_source, methods=["POST"]),
            Route("/api/login", self.login, methods=["POST"]),
            Route("/api/logout", self.logout, methods=["POST"]),
            Route("/api/uploads", self.list_uploads, methods=["GET"]),
            Route("/api/uploads", self.create_upload, methods=["POST"]),
            Route("/api/uploads/{sealed_id}", self.get_upload, methods=["GET"]),
            Route("/api/uploads/{sealed_id}", self.abandon, methods=["DELETE"]),
            Route(
                "/api/uploads/{sealed_id}/segments/{index:int}", self.put_segment, methods=["PUT"]
            ),
            Route("/api/uploads/{sealed_id}/manifest", self.put_manifest, methods=["PUT"]),
            Route("/api/uploads/{sealed_id}/complete", self.complete, methods=["POST"]),
        ]

    @staticmethod
    def _csrf(request: Request) -> None:
        check_csrf(request.cookies.get(CSRF_COOKIE), request.headers.get(CSRF_HEADER))

    async def _session(self, request: Request) -> sources.SourceSession:
        return await source_session(self.instance, request)

    def _session_body(self, token: str, session: sources.SourceSession | NewSource) -> JsonObject:
        if isinstance(session, NewSource):
            recipient = session.keys.recipient.text if session.keys is not None else None
        else:
            recipient = session.reply_identity.recipient.text
        return SessionObject(
            csrf=token,
            recipient=recipient,
            new=isinstance(session, NewSource),
            organisation=tuple(r.text for r in self.instance.config.recipients),
            segment_size=DEFAULT_SEGMENT_SIZE,
            max_upload_bytes=uploads.upload_limit(self.instance),
        ).to_json()

    async def session_info(self, request: Request) -> Response:
        token, fresh = csrf_token(request.cookies.get(CSRF_COOKIE))
        session = await who(self.instance, request)
        response = JSONResponse(self._session_body(token, session))
        if fresh:
            response.set_cookie(CSRF_COOKIE, token, **COOKIE_FLAGS)
        return response

    async def ready_session(self, request: Request) -> Response:
        """Ready to send: a new source's keys are derived (once) so that the client can seal
        its resumable uploads' notes to its reply recipient."""
        self._csrf(request)
        session = await who(self.instance, request)
        if isinstance(session, NewSource):
            session = await run_in_threadpool(sources.with_keys, self.instance, session)
        token, _fresh = csrf_token(request.cookies.get(CSRF_COOKIE))
        response = JSONResponse(self._session_body(token, session))
        if isinstance(session, NewSource):
            set_session_cookie(response, sources.seal_new(self.instance, session))
        return response

    async def new_source(self, request: Request) -> Response:
        self._csrf(request)
        codename, cookie = sources.new_codename(self.instance)  # stores nothing
        response = JSONResponse(NewCodename(codename.reveal()).to_json(), status_code=201)
        set_session_cookie(response, cookie)
        return response

    async def login(self, request: Request) -> Response:
        self._csrf(request)
        body = await read_json(request, SMALL_JSON)  # before any work for the codename
        typed, new_ok = body.get("codename"), body.get("new", False)
        if not isinstance(typed, str) or not isinstance(new_ok, bool):
            raise RequestError()
        cookie = await run_in_threadpool(
            functools.partial(sources.login, self.instance, typed[:1000], new_ok=new_ok)
        )
        response = Response(status_code=204)
        set_session_cookie(response, cookie)
        return response

    async def logout(self, request: Request) -> Response:
        self._csrf(request)
        session = await who(self.instance, request)
        if isinstance(session, NewSource):
            sources.end_new(self.instance, session)
        else:
            await run_in_threadpool(sources.logout, self.instance, session)
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def list_uploads(self, request: Request) -> Response:
        session = await who(self.instance, request)
        if isinstance(session, NewSource):
            return JSONResponse(UploadList(()).to_json())  # it has sent nothing, nor started to
        views = await run_in_threadpool(uploads.list_uploads, self.instance, session)
        return JSONResponse(UploadList(tuple(views)).to_json())

    async def create_upload(self, request: Request) -> Response:
        check_declared_length(request, MAX_CREATE_JSON)  # before the session is looked up
        self._csrf(request)
        found = await who(self.instance, request)
        body = await read_json(request, MAX_CREATE_JSON)
        sealed_id, segments, note = body.get("id"), body.get("segments"), body.get("note")
        if not (
            isinstance(sealed_id, str) and isinstance(segments, int) and isinstance(note, str)
        ) or isinstance(segments, bool):
            raise RequestError()
        try:
            sealed_note = base64.b64decode(note, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RequestError() from exc
        uploads.check_new_upload(sealed_id, segments, sealed_note)
        cookie = None
        if isinstance(found, NewSource):
            # A new source's first upload: now its row is written, with a session.
            session, cookie = await run_in_threadpool(sources.adopt, self.instance, found)
        else:
            session = found
        view, created = await run_in_threadpool(
            uploads.create_upload, self.instance, session, sealed_id, segments, sealed_note
        )
        response = JSONResponse(view.to_json(), status_code=201 if created else 200)
        if cookie is not None:
            set_session_cookie(response, cookie)
        return response

    async def get_upload(self, request: Request) -> Response:
        session = await self._session(request)
        view = await run_in_threadpool(
            uploads.get_upload, self.instance, session, request.path_params["sealed_id"]
        )
        return JSONResponse(view.to_json())

    async def abandon(self, request: Request) -> Response:
        self._csrf(request)
        session = await self._session(request)
        await run_in_threadpool(
            uploads.abandon, self.instance, session, request.path_params["sealed_id"]
        )
        return Response(status_code=204)

    async def put_segment(self, request: Request) -> Response:
        self._csrf(request)
        session = await self._session(request)
        body = await _chunks(request, max_segment_bytes())
        index = int(request.path_params["index"])
        await run_in_threadpool(
            uploads.put_segment,
            self.instance,
            session,
            request.path_params["sealed_id"],
            index,
            body,
        )
        return JSONResponse({"stored": index})

    async def put_manifest(self, request: Request) -> Response:
        self._csrf(request)
        session = await self._session(request)
        body = await _body(request, 64 * 1024 * 1024)
        await run_in_threadpool(
            uploads.put_manifest, self.instance, session, request.path_params["sealed_id"], body
        )
        return JSONResponse({})

    async def complete(self, request: Request) -> Response:
        self._csrf(request)
        session = await self._session(request)
        kind = await _stated_kind(request)
        await run_in_threadpool(
            uploads.complete, self.instance, session, request.path_params["sealed_id"], kind
        )
        await run_in_threadpool(sources.touch, self.instance, session)
        return JSONResponse({"complete": True})


async def _stated_kind(request: Request) -> Kind:
    """The kind the client states in ``complete``'s optional body (docs/protocol.md,
    "Completing"); ``file`` when it states none, as the browser page did before it could."""
    if request.headers.get("content-length", "0") in ("", "0"):
        return Kind.FILE
    stated = (await read_json(request, MAX_COMPLETE_JSON)).get("kind", Kind.FILE.value)
    if stated not in SOURCE_KINDS:
        raise RequestError()
    return Kind(stated)


async def _chunks(request: Request, limit: int) -> list[bytes]:
    """The request's body as the chunks it arrived in, after checking its declared length."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise LengthRequiredError()
    if int(declared) > limit:
        raise TooLargeError(limit=limit)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > int(declared):
            raise RequestError()
        chunks.append(chunk)
    if received != int(declared):
        raise RequestError()
    return chunks


async def _body(request: Request, limit: int) -> bytes:
    return b"".join(await _chunks(request, limit))


__all__ = ["SourceApi", "UploadError"]
