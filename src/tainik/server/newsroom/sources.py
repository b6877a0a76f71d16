"""The inbox, a source's page, what staff do there, and downloads."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tainik.core.errors import N_
from tainik.server.newsroom.common import (
    credential,
    done_notice,
    page,
    path_id,
    query_int,
    read_form,
)
from tainik.server.newsroom.streaming import download_response, origin_of, tar_response
from tainik.server.pages import Pages, see_other
from tainik.service.errors import RequestError
from tainik.service.instance import Instance
from tainik.service.newsroom import actions, downloads, inbox
from tainik.service.newsroom.actions import MAX_REPLY_CHARS

NOTICES = {
    "password": N_("Your new password is set."),
    "reply": N_("Your reply is sealed and stored; the source will see it when they next log in."),
    "deleted": N_("Deleted."),
    "deleted-source": N_("The source and everything from it are deleted."),
    "read": N_("Marked as read."),
    "unread": N_("Marked as unread."),
    "star": N_("Starred."),
    "unstar": N_("Unstarred."),
}
SELECTION_ACTIONS = ("download", "read", "unread", "delete")


class SourcePages:
    """Inbox and source handlers."""

    def __init__(self, instance: Instance, pages: Pages) -> None:
        self.instance = instance
        self.pages = pages

    async def inbox(self, request: Request) -> Response:
        starred = request.query_params.get("starred") == "1"
        found = await run_in_threadpool(
            inbox.inbox,
            self.instance,
            credential(request),
            request.query_params.get("after"),
            starred_only=starred,
        )
        return page(
            self.pages,
            request,
            "newsroom/inbox.html",
            found.staff,
            inbox=found,
            notice=done_notice(request, NOTICES),
        )

    async def source(self, request: Request) -> Response:
        found = await run_in_threadpool(
            inbox.source_page,
            self.instance,
            credential(request),
            path_id(request, "source_id"),
            query_int(request, "after"),
        )
        return page(
            self.pages,
            request,
            "newsroom/source.html",
            found.staff,
            page=found,
            max_reply=MAX_REPLY_CHARS,
            notice=done_notice(request, NOTICES),
        )

    async def reply(self, request: Request) -> Response:
        source_id = path_id(request, "source_id")
        form = await read_form(request)
        await run_in_threadpool(
            actions.reply, self.instance, credential(request), source_id, form.get("text")
        )
        return see_other(f"/sources/{source_id}?done=reply")

    async def star(self, request: Request) -> Response:
        source_id = path_id(request, "source_id")
        form = await read_form(request)
        starred = form.get("starred") == "1"
        await run_in_threadpool(
            actions.star, self.instance, credential(request), source_id, starred
        )
        back = "/inbox" if form.get("back") == "inbox" else f"/sources/{source_id}"
        return see_other(f"{back}?done={'star' if starred else 'unstar'}")

    async def selection(self, request: Request) -> Response:
        """One form, several buttons: download, mark read or unread, or delete the chosen."""
        source_id = path_id(request, "source_id")
        form = await read_form(request)
        action = form.get("action")
        if action not in SELECTION_ACTIONS:
            raise RequestError()
        chosen = form.getlist("item") if form.get("all") != "1" else None
        who = credential(request)
        if action == "download":
            found = await run_in_threadpool(
                downloads.download_selection,
                self.instance,
                who,
                source_id,
                chosen,
                origin_of(request),
            )
            return tar_response(found)
        if action == "delete":
            if form.get("confirm") != "1" or chosen is None:
                raise ConfirmError()
            await run_in_threadpool(actions.delete_items, self.instance, who, source_id, chosen)
            return see_other(f"/sources/{source_id}?done=deleted")
        await run_in_threadpool(
            actions.mark, self.instance, who, source_id, chosen, action == "read"
        )
        return see_other(f"/sources/{source_id}?done={action}")

    async def delete_source(self, request: Request) -> Response:
        source_id = path_id(request, "source_id")
        form = await read_form(request)
        if form.get("confirm") != "1":
            raise ConfirmError()
        await run_in_threadpool(
            actions.delete_source, self.instance, credential(request), source_id
        )
        return see_other("/inbox?done=deleted-source")

    async def download_submission(self, request: Request) -> Response:
        return await self._download(request, "submission", path_id(request, "submission_id"))

    async def download_reply(self, request: Request) -> Response:
        return await self._download(request, "reply", path_id(request, "reply_id"))

    async def _download(self, request: Request, kind: str, item_id: int) -> Response:
        # A tar from the pages carries which source sent it, for 'vault import' (the API's
        # downloads do not: 'tainik pull' writes that beside them).
        return await download_response(
            self.instance, credential(request), request, kind, item_id, with_link=True
        )


class ConfirmError(RequestError):
    """A deletion without its confirmation box ticked."""

    template = N_("Tick the box that confirms the deletion, then try again")
