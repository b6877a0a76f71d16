"""Handlers of the source interface: parse, call one service function, render."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from tainik.core.codename import check_words, normalize
from tainik.core.errors import N_, CodenameError
from tainik.core.profile import address_groups
from tainik.core.upload import MAX_MESSAGE_CHARS
from tainik.i18n import format_size
from tainik.server.language import get_fallback, language_route
from tainik.server.multipart import FormReader, boundary_of
from tainik.server.pages import Pages, logo_response, see_other, small_form
from tainik.server.security import CSRF_COOKIE, CSRF_FIELD, check_csrf
from tainik.server.source.session import (
    SESSION_COOKIE,
    set_session_cookie,
    source_session,
    who,
)
from tainik.server.source.submission_form import (
    MAX_FIELDS_BYTES,
    FieldsBeforeFiles,
    FilesReached,
    SubmissionForm,
)
from tainik.service import sources, uploads
from tainik.service.errors import (
    FirstSubmissionsBusyError,
    LoginError,
    SessionError,
    TooLargeError,
)
from tainik.service.instance import Instance
from tainik.service.intake import Intake
from tainik.service.new_source import NewSource
from tainik.service.receipts import Receipts, receipts
from tainik.wordlists import vocabulary

BATCH = 1024 * 1024  # parse and seal in batches of about this much, off the event loop
AHEAD = 2  # batches received but not yet parsed, per upload (bounds memory)
log = logging.getLogger("tainik.server")
TOO_LARGE_WITH_MESSAGE = N_(
    "Nothing was sent: the files are larger than this server accepts (%(size)s for one "
    "sending). Your message is still below: send it with smaller files, or on its own."
)
TOO_LARGE = N_(
    "Nothing was sent: the files are larger than this server accepts (%(size)s for one "
    "sending). Choose smaller files, or send fewer at a time."
)


class SourceInterface:
    """The routes of the source interface over one instance."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.pages = Pages("source", lambda: instance.config.profile)

    def routes(self) -> list[Route]:
        """The routing table."""
        return [
            Route("/", self.index, methods=["GET"]),
            Route("/generate", self.generate, methods=["POST"]),
            Route("/login", self.login_page, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/lookup", self.lookup, methods=["GET"]),
            Route("/submit", self.submit, methods=["POST"]),
            Route("/replies/{reply_id:int}/delete", self.delete_reply, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/check", self.check, methods=["GET"]),
            Route("/tor", self.tor, methods=["GET"]),
            Route("/logo", self.logo, methods=["GET"]),
            language_route({"codename": self.codename_again, "logged_out": self.logged_out_again}),
            # A GET of a POST-only path (a reload, a bookmark) goes to the page it belongs to.
            get_fallback("/generate", "/"),
            get_fallback("/submit", "/lookup"),
            get_fallback("/replies/{reply_id:int}/delete", "/lookup"),
            get_fallback("/logout", "/"),
        ]

    async def _session(self, request: Request) -> sources.SourceSession:
        return await source_session(self.instance, request)

    async def index(self, request: Request) -> Response:
        return self.pages.render(request, "source/index.html")

    async def generate(self, request: Request) -> Response:
        form = await small_form(request)
        check_csrf(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD))
        # Nothing is stored and nothing derived until the codename first sends something.
        codename, cookie = sources.new_codename(self.instance)
        response = self._codename_page(request, codename.reveal())
        set_session_cookie(response, cookie)
        return response

    def _codename_page(self, request: Request, codename: str) -> Response:
        """The page that shows a new codename, the only time it is shown. Its language switch
        posts the codename back (in the form, as on the page; never stored) to show it again."""
        return self.pages.render(
            request,
            "source/codename.html",
            codename=codename.split(" "),
            language_page="codename",
            language_keep={"codename": codename},
            check_link=False,  # leaving this page loses the codename: nothing to lure away
        )

    async def codename_again(self, request: Request, form: Mapping[str, str]) -> Response:
        """The codename page again, in another language (``POST /language``)."""
        codename = form.get("codename", "")
        check_words(codename, vocabulary())  # only ever a codename, never other text
        return self._codename_page(request, normalize(codename))

    async def logged_out_again(self, request: Request, _form: Mapping[str, str]) -> Response:
        """The logged-out page again, in another language (``POST /language``)."""
        return self._logged_out_page(request)

    def _logged_out_page(self, request: Request) -> Response:
        return self.pages.render(request, "source/logged_out.html", language_page="logged_out")

    async def login_page(self, request: Request) -> Response:
        return self.pages.render(request, "source/login.html", error=None)

    async def login(self, request: Request) -> Response:
        form = await small_form(request)
        check_csrf(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD))
        try:
            cookie = await run_in_threadpool(
                sources.login, self.instance, form.get("codename", "")[:1000]
            )
        except (LoginError, CodenameError) as error:
            _ = self.pages.gettext(request)
            return self.pages.render(
                request,
                "source/login.html",
                status=403,
                error=error.message(_),
            )
        response = see_other("/lookup")
        set_session_cookie(response, cookie)
        return response

    async def lookup(self, request: Request) -> Response:
        try:
            session = await who(self.instance, request)
        except SessionError:
            return see_other("/login")
        sent = request.query_params.get("sent", "")
        return await self._lookup_page(
            request, session, sent=int(sent) if sent.isdigit() and len(sent) < 6 else None
        )

    async def _lookup_page(
        self,
        request: Request,
        session: sources.SourceSession | NewSource,
        *,
        sent: int | None = None,
        status: int = 200,
        message: str = "",
        error: str | None = None,
    ) -> Response:
        """The source's page: the form (with ``message`` typed in and ``error`` above it when
        a sending was refused), the upload limit in the page's language, what arrived, the
        replies (new ones announced once)."""
        new = isinstance(session, NewSource)
        replies = []
        received = Receipts(items=[], count=0, total_bytes=0)
        if not isinstance(session, NewSource):
            replies = await run_in_threadpool(sources.list_replies, self.instance, session)
            received = await run_in_threadpool(receipts, self.instance, session)
        limit = self.instance.config.max_upload_bytes
        response = self.pages.render(
            request,
            "source/lookup.html",
            status=status,
            replies=replies,
            new_replies=[reply for reply in replies if reply.new],
            received=received,
            new_source=new,
            sent=sent,
            max_message=MAX_MESSAGE_CHARS,
            limit=format_size(limit, self.pages.language(request)) if limit else "",
            message=message,
            form_error=error,
        )
        if isinstance(session, NewSource):  # a visit renews the cookie's lifetime
            set_session_cookie(response, sources.seal_new(self.instance, session))
            return response
        # Announced once, on this page: from now on they are replies like the others.
        shown = [reply.id for reply in replies if reply.new]
        await run_in_threadpool(sources.mark_replies_seen, self.instance, session, shown)
        return response

    async def _too_large(
        self, request: Request, session: sources.SourceSession | NewSource, message: str
    ) -> Response:
        """The form again, refused as too large, with the message that was typed (413)."""
        limit = self.instance.config.max_upload_bytes or 0
        _ = self.pages.gettext(request)
        text = TOO_LARGE_WITH_MESSAGE if message.strip() else TOO_LARGE
        size = format_size(limit, self.pages.language(request))
        return await self._lookup_page(
            request, session, status=413, message=message, error=_(text) % {"size": size}
        )

    @staticmethod
    async def _fields_before_files(request: Request, boundary: bytes) -> FieldsBeforeFiles:
        """The token and the message of a form refused for its size: the body is read only
        up to its first file (at most :data:`MAX_FIELDS_BYTES`), nothing of a file is kept."""
        fields = FieldsBeforeFiles(request.cookies.get(CSRF_COOKIE))
        reader = FormReader(boundary, fields)
        read = 0
        try:
            async for chunk in request.stream():
                read += len(chunk)
                reader.write(chunk)
                if read > MAX_FIELDS_BYTES:
                    break
        except FilesReached:
            pass
        return fields

    def _address(self, request: Request) -> str:
        """This drop box's onion address: the configured one, else the one the browser asked
        for, if it is an onion name."""
        address = self.instance.config.profile.onion_address
        if not address:
            host = request.headers.get("host", "").split(":")[0].lower()
            address = host if host.endswith(".onion") and len(host) < 100 else ""
        return address

    async def check(self, request: Request) -> Response:
        """How to check this drop box's address against the organisation's public one."""
        return self.pages.render(
            request,
            "source/check.html",
            address_groups=address_groups(self._address(request)),
            check_link=False,
        )

    async def tor(self, request: Request) -> Response:
        """Reaching the drop box where Tor is blocked (bridges), and sending large files with
        ``tainik send`` through Tor Browser: docs/sources-censored.md, served over Tor."""
        return self.pages.render(
            request, "source/tor.html", address=self._address(request), tor_link=False
        )

    async def logo(self, request: Request) -> Response:
        """The organisation's logo (cleaned when it was set: service/logo.py)."""
        return await logo_response(self.instance)

    async def submit(self, request: Request) -> Response:
        session = await who(self.instance, request)
        limit = self.instance.config.max_upload_bytes
        declared = request.headers.get("content-length", "")
        boundary = boundary_of(request.headers.get("content-type"))
        if limit and declared.isdigit() and int(declared) > limit:
            # Refused before a byte of a file is read; the message typed is kept (issue 14).
            fields = await self._fields_before_files(request, boundary)
            if not fields.csrf_ok:
                raise TooLargeError(limit=format_size(limit, self.pages.language(request)))
            return await self._too_large(request, session, fields.message)
        if not isinstance(session, NewSource):
            return await self._take_in(request, session, limit, boundary)
        # A new source costs a stranger nothing to make: its first submissions, held open at
        # once, are bounded, so that stalled bodies cannot take every connection the
        # listener has from returning sources (docs/threat-model.md, "Source rows").
        if not self.instance.first_submissions.acquire(blocking=False):
            raise FirstSubmissionsBusyError()
        try:
            return await self._take_in(request, session, limit, boundary)
        finally:
            self.instance.first_submissions.release()

    async def _take_in(
        self,
        request: Request,
        session: sources.SourceSession | NewSource,
        limit: int | None,
        boundary: bytes,
    ) -> Response:
        """Read, seal and commit a form's message and files (``submit``'s checks passed)."""
        declared = request.headers.get("content-length", "")
        # Below the free-space margin nothing new is taken in (507), before a byte is read.
        size = int(declared) if declared.isdigit() else 0
        await run_in_threadpool(uploads.check_room, self.instance, self.instance.blobs, size)
        if isinstance(session, NewSource):
            # Its first submission: derive its keys now, before a byte of the body is read, so
            # that a busy KDF gate (429) costs the source a retry, not a whole upload.
            session = await run_in_threadpool(sources.with_keys, self.instance, session)
        intake = Intake(self.instance, session)
        form = SubmissionForm(intake, request.cookies.get(CSRF_COOKIE))
        reader = FormReader(boundary, form)
        try:
            await self._receive(request, reader, limit)
            await run_in_threadpool(form.complete)
            if form.honeypot:
                intake.abort()  # a bot: say thanks, keep nothing
                return see_other("/lookup?sent=1")
            count = await run_in_threadpool(intake.commit)
        except ClientDisconnect:
            await run_in_threadpool(intake.abort)
            return Response(status_code=400)
        except TooLargeError:
            # A body that declared no length, over the limit: the token and the message came
            # before the files, so the form has them.
            await run_in_threadpool(intake.abort)
            return await self._too_large(request, session, form.message if form.csrf_ok else "")
        except BaseException:
            await run_in_threadpool(intake.abort)
            raise
        response = see_other(f"/lookup?sent={count}")
        if intake.new_cookie is not None:  # the new source's first items: now it exists
            set_session_cookie(response, intake.new_cookie)
        elif isinstance(session, NewSource):  # sent nothing: keep the keys, store nothing
            set_session_cookie(response, sources.seal_new(self.instance, session))
        else:
            await run_in_threadpool(sources.touch, self.instance, session)
        return response

    @staticmethod
    async def _receive(request: Request, reader: FormReader, limit: int | None) -> None:
        """Feed the body to ``reader`` in batches, parsed and sealed in a thread of this
        request while the event loop goes on receiving; at most ``AHEAD`` batches wait."""
        loop = asyncio.get_running_loop()
        parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tainik-intake")
        queued: deque[asyncio.Future[None]] = deque()
        try:
            received = 0
            batch: list[bytes] = []
            batched = 0
            async for chunk in request.stream():
                received += len(chunk)
                if limit and received > limit:
                    # A body that declared no length: parse up to the limit, so that the form
                    # knows the fields before the files (the message) to show them again.
                    batch.append(chunk[: len(chunk) - (received - limit)])
                    queued.append(loop.run_in_executor(parser, reader.write_all, batch))
                    while queued:
                        await queued.popleft()
                    raise TooLargeError(limit=limit)  # caught by submit, which says it
                batch.append(chunk)
                batched += len(chunk)
                if batched >= BATCH:
                    queued.append(loop.run_in_executor(parser, reader.write_all, batch))
                    batch, batched = [], 0
                    while len(queued) > AHEAD or (queued and queued[0].done()):
                        await queued.popleft()
            if batch:
                queued.append(loop.run_in_executor(parser, reader.write_all, batch))
            while queued:
                await queued.popleft()
            await loop.run_in_executor(parser, reader.close)
        finally:
            # Nothing may still be sealing when the caller aborts and removes the files.
            await run_in_threadpool(parser.shutdown, True, cancel_futures=True)

    async def delete_reply(self, request: Request) -> Response:
        form = await small_form(request)
        check_csrf(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD))
        session = await self._session(request)
        await run_in_threadpool(
            sources.delete_reply, self.instance, session, int(request.path_params["reply_id"])
        )
        return see_other("/lookup")

    async def logout(self, request: Request) -> Response:
        form = await small_form(request)
        check_csrf(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD))
        try:
            session = await who(self.instance, request)
            if isinstance(session, NewSource):
                sources.end_new(self.instance, session)
            else:
                await run_in_threadpool(sources.logout, self.instance, session)
        except SessionError:
            pass
        response = self._logged_out_page(request)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
