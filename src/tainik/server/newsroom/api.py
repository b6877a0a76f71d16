"""The workstation's JSON API under ``/api/v1`` (docs/api.md; OpenAPI at ``openapi.json``).

A token comes from ``POST /tokens`` with name, password, TOTP code and a scope (``read``, the
default, or ``full``), and goes in ``Authorization: Bearer TOKEN``. Every route whose method
changes state needs a ``full`` token, checked before its body is read, except the two in
:data:`~tainik.server.newsroom.scopes.OPEN_TO_READ_TOKENS`; the service functions check
again. Errors are answered by the newsroom app's handlers
(``tainik.server.exception_handlers``), as on the source interface's API:
``{"error": CODE, "message": TEXT}``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from tainik.core.jsonfields import JsonObject
from tainik.core.newsroom_api import (
    Page,
    ReplyObject,
    SourceObject,
    SubmissionObject,
    TokenObject,
    download_path,
)
from tainik.crypto import Secret
from tainik.server.json_body import SMALL_JSON, read_json
from tainik.server.newsroom.common import MAX_ID, path_id
from tainik.server.newsroom.openapi import document
from tainik.server.newsroom.scopes import needs_full_scope
from tainik.server.newsroom.streaming import download_response
from tainik.service.errors import RequestError
from tainik.service.instance import Instance
from tainik.service.newsroom import actions, auth, inbox
from tainik.service.newsroom.auth import Credential, Scope
from tainik.service.newsroom.errors import PasswordChangeRequiredError
from tainik.service.newsroom.inbox import ReplyItem, SourceSummary

PREFIX = "/api/v1"
# A reply of MAX_REPLY_CHARS characters, each escaped in JSON as up to 12 bytes, fits.
MAX_REPLY_JSON = 2 * 1024 * 1024
Endpoint = Callable[[Request], Awaitable[Response]]


def _bearer(request: Request) -> Credential:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return Credential.token(value.strip() if scheme.lower() == "bearer" else None)


def _since(request: Request) -> datetime | None:
    text = request.query_params.get("since")
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
        # In UTC here: a time at the edge of datetime's range with an offset (year 1 at
        # +14:00) has no UTC equivalent, and would overflow later.
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError) as exc:
        raise RequestError() from exc


def _int_query(request: Request, name: str) -> int | None:
    text = request.query_params.get(name)
    if text is None:
        return None
    if not text.isdigit() or int(text) > MAX_ID:
        raise RequestError()
    return int(text)


async def _json_body(request: Request, limit: int) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise RequestError()
    return await read_json(request, limit)


def _text(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or len(value) > limit:
        raise RequestError()
    try:
        value.encode("utf-8")  # JSON can carry lone surrogates, which no text may hold
    except UnicodeEncodeError as exc:
        raise RequestError() from exc
    return value


def source_json(source: SourceSummary) -> JsonObject:
    """A source in the API."""
    return SourceObject(
        id=source.id,
        designation=source.designation,
        created_at=source.created_at,
        last_activity=source.last_activity,
        starred=source.starred,
        submissions=source.submissions,
        replies=source.replies,
        unread=source.unread,
        uploading=source.uploading,
    ).to_json()


def submission_json(item: inbox.Item) -> JsonObject:
    """A submission in the API."""
    return SubmissionObject(
        id=item.id,
        source_id=item.source_id,
        sealed_id=item.sealed_id,
        kind=item.kind,
        size=item.size,
        created_at=item.created_at,
        read=item.read,
        complete=item.complete,
        download=download_path("submission", item.id),
    ).to_json()


def reply_json(reply: ReplyItem) -> JsonObject:
    """A reply in the API."""
    return ReplyObject(
        id=reply.id,
        source_id=reply.source_id,
        sealed_id=reply.sealed_id,
        created_at=reply.created_at,
        author=reply.author,
        read=reply.read,
        download=download_path("reply", reply.id),
    ).to_json()


class Api:
    """The API's handlers over one instance."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance

    def routes(self) -> list[Route]:
        """The routing table, relative to ``/api/v1``: a route whose method changes state needs
        a ``full`` token (:func:`needs_full_scope`), checked before anything else."""
        table: list[tuple[str, Endpoint, str]] = [
            ("/openapi.json", self.openapi, "GET"),
            ("/tokens", self.new_token, "POST"),
            ("/tokens/current", self.revoke_token, "DELETE"),
            ("/me", self.me, "GET"),
            ("/sources", self.sources, "GET"),
            ("/sources/{source_id:int}", self.source, "GET"),
            ("/sources/{source_id:int}", self.delete_source, "DELETE"),
            ("/sources/{source_id:int}/replies", self.reply, "POST"),
            ("/submissions", self.submissions, "GET"),
            ("/submissions/{submission_id:int}/download", self.download_submission, "GET"),
            ("/submissions/{submission_id:int}", self.delete_submission, "DELETE"),
            ("/replies", self.replies, "GET"),
            ("/replies/{reply_id:int}/download", self.download_reply, "GET"),
            ("/replies/{reply_id:int}", self.delete_reply, "DELETE"),
        ]
        return [
            Route(
                path,
                self._full_scope(handler) if needs_full_scope(method, path) else handler,
                methods=[method],
            )
            for path, handler, method in table
        ]

    def _full_scope(self, handler: Endpoint) -> Endpoint:
        """``handler`` behind a check that the request's token has the scope ``full``."""

        @functools.wraps(handler)
        async def checked(request: Request) -> Response:
            await run_in_threadpool(auth.require_scope, self.instance, _bearer(request))
            return await handler(request)

        return checked

    def mount(self) -> Mount:
        """The API under ``/api/v1``: routes of the newsroom app, so that its errors, unknown
        paths and methods included, are answered by the app's handlers, in JSON."""
        return Mount(PREFIX, routes=self.routes())

    async def openapi(self, _request: Request) -> Response:
        return JSONResponse(document())

    async def new_token(self, request: Request) -> Response:
        body = await _json_body(request, SMALL_JSON)  # before any password is hashed
        name, code = _text(body, "name", 200), _text(body, "code", 20)
        scope = Scope.parse(body.get("scope", Scope.READ.value))
        password = Secret(_text(body, "password", 1024))
        issued = await run_in_threadpool(
            auth.issue_token, self.instance, name, password, code, scope
        )
        issued_json = TokenObject(
            token=issued.token.reveal(),
            expires_at=issued.expires_at,
            name=issued.staff.name,
            is_admin=issued.staff.is_admin,
            scope=issued.scope.value,
        ).to_json()
        return JSONResponse(issued_json, status_code=201)

    async def revoke_token(self, request: Request) -> Response:
        await run_in_threadpool(
            functools.partial(auth.logout, self.instance, _bearer(request), strict=True)
        )
        return Response(status_code=204)

    async def me(self, request: Request) -> Response:
        staff, scope = await run_in_threadpool(
            auth.whoami_with_scope, self.instance, _bearer(request)
        )
        if staff.must_change_password:
            raise PasswordChangeRequiredError()
        return JSONResponse({"name": staff.name, "is_admin": staff.is_admin, "scope": scope.value})

    async def sources(self, request: Request) -> Response:
        found = await run_in_threadpool(
            inbox.changed_sources,
            self.instance,
            _bearer(request),
            _since(request),
            request.query_params.get("cursor"),
            _int_query(request, "limit"),
        )
        page = Page(tuple(source_json(s) for s in found.items), found.next_cursor)
        return JSONResponse(page.to_json())

    async def source(self, request: Request) -> Response:
        _staff, found = await run_in_threadpool(
            inbox.source, self.instance, _bearer(request), path_id(request, "source_id")
        )
        return JSONResponse(source_json(found))

    async def delete_source(self, request: Request) -> Response:
        await run_in_threadpool(
            actions.delete_source, self.instance, _bearer(request), path_id(request, "source_id")
        )
        return Response(status_code=204)

    async def reply(self, request: Request) -> Response:
        source_id = path_id(request, "source_id")
        body = await _json_body(request, MAX_REPLY_JSON)
        text = _text(body, "text", actions.MAX_REPLY_CHARS * 2)
        reply_id = await run_in_threadpool(
            actions.reply, self.instance, _bearer(request), source_id, text
        )
        return JSONResponse({"id": reply_id}, status_code=201)

    async def submissions(self, request: Request) -> Response:
        return await self._changes(request, inbox.changed_submissions, submission_json)

    async def replies(self, request: Request) -> Response:
        return await self._changes(request, inbox.changed_replies, reply_json)

    async def _changes(
        self,
        request: Request,
        feed: Callable[..., inbox.Changes[Any]],
        to_json: Callable[[Any], JsonObject],
    ) -> Response:
        """One page of a change feed (``since``, ``cursor``, ``limit``, ``source_id``)."""
        found = await run_in_threadpool(
            feed,
            self.instance,
            _bearer(request),
            _since(request),
            request.query_params.get("cursor"),
            _int_query(request, "limit"),
            _int_query(request, "source_id"),
        )
        page = Page(tuple(to_json(i) for i in found.items), found.next_cursor)
        return JSONResponse(page.to_json())

    async def download_submission(self, request: Request) -> Response:
        return await self._download(request, "submission", path_id(request, "submission_id"))

    async def download_reply(self, request: Request) -> Response:
        return await self._download(request, "reply", path_id(request, "reply_id"))

    async def _download(self, request: Request, kind: str, item_id: int) -> Response:
        return await download_response(self.instance, _bearer(request), request, kind, item_id)

    async def delete_submission(self, request: Request) -> Response:
        await run_in_threadpool(
            actions.delete_one,
            self.instance,
            _bearer(request),
            "submission",
            path_id(request, "submission_id"),
        )
        return Response(status_code=204)

    async def delete_reply(self, request: Request) -> Response:
        await run_in_threadpool(
            actions.delete_one,
            self.instance,
            _bearer(request),
            "reply",
            path_id(request, "reply_id"),
        )
        return Response(status_code=204)
