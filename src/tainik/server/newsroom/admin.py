"""Administration pages: staff accounts, instance settings, the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tainik.core.errors import N_
from tainik.crypto import Secret
from tainik.server.multipart import FormReader, boundary_of
from tainik.server.newsroom.common import (
    Form,
    credential,
    done_notice,
    page,
    path_id,
    query_int,
    read_form,
)
from tainik.server.pages import Pages, form_pairs, see_other
from tainik.server.security import CSRF_COOKIE, CSRF_FIELD, check_csrf
from tainik.service import logo
from tainik.service.errors import RequestError
from tainik.service.instance import Instance
from tainik.service.newsroom import admin, audit, auth, profile, settings
from tainik.service.newsroom.errors import (
    KeyChangeError,
    PasswordChecksThrottledError,
    SettingsError,
    StaffLoginError,
)
from tainik.service.newsroom.key_change import ProposedChange

NOTICES = {
    "deactivated": N_("The account is deactivated; its sessions and tokens have ended."),
    "activated": N_("The account is active again."),
    "settings": N_("The settings are saved and in force."),
    "profile": N_("What sources see is saved and in force."),
    "logo": N_("The logo is cleaned, saved and in force."),
    "logo-removed": N_("The logo is removed."),
    "keys": N_(
        "The organisation's keys are changed: what sources send from now on is encrypted to "
        "them. Every staff member is told so for 14 days."
    ),
}
PROFILE_FIELDS = ("name", "welcome_en", "welcome_ru", "onion_address", "public_pages")
MAX_LOGO_FORM = logo.MAX_LOGO_BYTES + 64 * 1024  # the image and the form around it
MAX_FIELD = 1024
ACCOUNT_ACTIONS = ("deactivate", "activate", "reset-2fa", "reset-password")


class AdminPages:
    """Handlers of the administration pages (the service checks the administrator)."""

    def __init__(self, instance: Instance, pages: Pages) -> None:
        self.instance = instance
        self.pages = pages

    async def users(self, request: Request) -> Response:
        found = await run_in_threadpool(admin.accounts, self.instance, credential(request))
        return page(
            self.pages,
            request,
            "newsroom/users.html",
            found.staff,
            accounts=found.accounts,
            notice=done_notice(request, NOTICES),
        )

    async def add_user(self, request: Request) -> Response:
        form = await read_form(request)
        made = await run_in_threadpool(
            admin.add_account,
            self.instance,
            credential(request),
            form.get("name")[:200],
            form.get("admin") == "1",
        )
        return _secrets_page(self.pages, request, made, new=True)

    async def account_action(self, request: Request) -> Response:
        user_id = path_id(request, "user_id")
        action = request.path_params["action"]
        if action not in ACCOUNT_ACTIONS:
            raise RequestError()
        await read_form(request)
        who = credential(request)
        if action in ("deactivate", "activate"):
            active = action == "activate"
            made = await run_in_threadpool(admin.set_active, self.instance, who, user_id, active)
            if made is not None:  # reactivated with a new newsroom onion key, shown once
                return _secrets_page(self.pages, request, made, new=False)
            return see_other(f"/admin/users?done={action}d")
        reset = admin.reset_totp if action == "reset-2fa" else admin.reset_password
        made = await run_in_threadpool(reset, self.instance, who, user_id)
        return _secrets_page(self.pages, request, made, new=False)

    async def settings_page(self, request: Request) -> Response:
        found = await run_in_threadpool(settings.settings_page, self.instance, credential(request))
        return page(
            self.pages,
            request,
            "newsroom/settings.html",
            found.staff,
            settings=found.settings,
            form=None,
            error=None,
            notice=done_notice(request, NOTICES),
            **self._profile_context(),
        )

    def _profile_context(self, **changed: Any) -> dict[str, Any]:
        """What the page's sections on the organisation show: the saved profile, unless a
        refused form is shown again."""
        saved = self.instance.config.profile
        context: dict[str, Any] = {
            "profile_form": {
                "name": saved.name,
                "welcome_en": saved.welcome.get("en", ""),
                "welcome_ru": saved.welcome.get("ru", ""),
                "onion_address": saved.onion_address,
                "public_pages": "\n".join(saved.public_pages),
            },
            "profile_error": None,
            "logo_error": None,
        }
        context.update(changed)
        return context

    async def _settings_refused(self, request: Request, **changed: Any) -> Response:
        """The settings page again with what a refused form sent, and why (status 400)."""
        found = await run_in_threadpool(settings.settings_page, self.instance, credential(request))
        return page(
            self.pages,
            request,
            "newsroom/settings.html",
            found.staff,
            settings=found.settings,
            form=None,
            error=None,
            notice=None,
            status=400,
            **self._profile_context(**changed),
        )

    async def save_profile(self, request: Request) -> Response:
        form = await read_form(request)
        fields = {name: form.get(name)[:10_000] for name in PROFILE_FIELDS}
        try:
            await run_in_threadpool(
                profile.update_profile,
                self.instance,
                credential(request),
                profile.ProfileText(**fields),
            )
        except SettingsError as error:
            _ = self.pages.gettext(request)
            return await self._settings_refused(
                request, profile_form=fields, profile_error=error.message(_)
            )
        return see_other("/admin/settings?done=profile")

    async def save_logo(self, request: Request) -> Response:
        try:
            data = await read_logo_form(request)
            await run_in_threadpool(profile.set_logo, self.instance, credential(request), data)
        except logo.LogoError as error:
            _ = self.pages.gettext(request)
            return await self._settings_refused(request, logo_error=error.message(_))
        return see_other("/admin/settings?done=logo")

    async def delete_logo(self, request: Request) -> Response:
        await read_form(request)
        await run_in_threadpool(profile.remove_logo, self.instance, credential(request))
        return see_other("/admin/settings?done=logo-removed")

    async def save_settings(self, request: Request) -> Response:
        form = await read_form(request)
        fields = _settings_fields(form)
        try:
            proposed = await run_in_threadpool(
                settings.update_settings, self.instance, credential(request), *fields
            )
        except SettingsError as error:
            _ = self.pages.gettext(request)
            return page(
                self.pages,
                request,
                "newsroom/settings.html",
                None,
                settings=None,
                form=fields._asdict(),
                error=error.message(_),
                notice=None,
                status=400,
                **self._profile_context(),
            )
        if proposed is not None:  # nothing written: the keys change only once confirmed
            return await self._confirm_page(request, proposed, fields)
        return see_other("/admin/settings?done=settings")

    async def confirm_keys(self, request: Request) -> Response:
        """The second step of a change of the organisation's keys (see the service)."""
        form = await read_form(request)
        fields = _settings_fields(form)
        code = form.get("code").strip()[:MAX_FIELD]
        password = form.get("password")
        if len(password) > MAX_FIELD:
            raise RequestError()
        confirmation = settings.Confirmation(
            base=form.get("base")[:100],
            fingerprints=tuple(typed[:200] for typed in form.getlist("fingerprint")[:100]),
            password=Secret(password),
            code=code,
        )
        try:
            await run_in_threadpool(
                settings.change_recipients,
                self.instance,
                credential(request),
                settings.SettingsForm(*fields),
                confirmation,
            )
        except (KeyChangeError, SettingsError, StaffLoginError, PasswordChecksThrottledError) as e:
            _ = self.pages.gettext(request)
            proposed = await run_in_threadpool(
                settings.propose_change, self.instance, credential(request), *fields
            )
            if proposed is None:
                return see_other("/admin/settings")
            return await self._confirm_page(
                request,
                proposed,
                fields,
                error=e.message(_),
                status=429 if isinstance(e, PasswordChecksThrottledError) else 400,
            )
        return see_other("/admin/settings?done=keys")

    async def confirm_again(self, request: Request, form: Mapping[str, str]) -> Response:
        """The confirmation page again, in another language (``POST /language``)."""
        fields = SettingsFields(*(form.get(name, "")[:10_000] for name in SettingsFields._fields))
        proposed = await run_in_threadpool(
            settings.propose_change, self.instance, credential(request), *fields
        )
        if proposed is None:
            return see_other("/admin/settings")
        return await self._confirm_page(request, proposed, fields)

    async def _confirm_page(
        self,
        request: Request,
        proposed: ProposedChange,
        fields: SettingsFields,
        *,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        """The page that asks to confirm a change of the keys: what it adds and removes, each
        new key's fingerprint to type back, the password and a fresh code."""
        staff = await run_in_threadpool(auth.whoami, self.instance, credential(request))
        # One line for the hidden field (a recipient has no spaces; commas separate them too).
        fields = fields._replace(recipients=",".join(fields.recipients.split()))
        return page(
            self.pages,
            request,
            "newsroom/keys_confirm.html",
            staff,
            change=proposed,
            fields=fields._asdict(),
            error=error,
            status=status,
            language_page="keys-confirm",
            language_keep=fields._asdict(),
        )

    async def audit_log(self, request: Request) -> Response:
        found = await run_in_threadpool(
            admin.audit_page, self.instance, credential(request), query_int(request, "before")
        )
        return page(
            self.pages,
            request,
            "newsroom/audit.html",
            found.staff,
            log=found,
            actions=audit.ACTIONS,
        )


class SettingsFields(NamedTuple):
    """The settings form's fields, as text."""

    recipients: str
    max_upload_bytes: str
    unfinished_upload_hours: str


def _settings_fields(form: Form) -> SettingsFields:
    return SettingsFields(*(form.get(name)[:10_000] for name in SettingsFields._fields))


def _secrets_page(pages: Pages, request: Request, made: Any, *, new: bool) -> Response:
    """The one-time secrets of an account. It offers no language switch: switching would
    lose them (they are shown once and never stored in the clear), and posting them back
    through a form is not worth their exposure; the admin reads this page in the language
    of the form that asked for it."""
    return page(
        pages, request, "newsroom/secrets.html", None, made=made, new=new, language_switch=False
    )


class _LogoForm:
    """The parts of the logo form: small fields, and the image (bounded by the body's size)."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.image = bytearray()
        self._name: str | None = None
        self._value = bytearray()

    def begin(self, name: str, filename: bytes | None) -> None:
        self._name = name
        self._value = bytearray()

    def data(self, chunk: memoryview) -> None:
        if self._name == "logo":
            self.image += chunk
        else:
            self._value += chunk
            if len(self._value) > MAX_FIELD:
                raise RequestError()

    def end(self) -> None:
        if self._name is not None and self._name != "logo":
            self.fields[self._name] = self._value.decode("utf-8", errors="replace")
        self._name = None


async def read_logo_form(request: Request) -> bytes:
    """The image of the logo form (multipart; an URL-encoded form has none), its CSRF token
    checked; a body larger than an acceptable logo is a :class:`LogoError`."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/"):
        pairs = await form_pairs(request, MAX_LOGO_FORM, 50)
        check_csrf(request.cookies.get(CSRF_COOKIE), dict(pairs).get(CSRF_FIELD))
        return b""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_LOGO_FORM:
        raise logo.LogoError()
    parts = _LogoForm()
    reader = FormReader(boundary_of(content_type), parts)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_LOGO_FORM:
            raise logo.LogoError()
        reader.write(chunk)
    reader.close()
    check_csrf(request.cookies.get(CSRF_COOKIE), parts.fields.get(CSRF_FIELD))
    return bytes(parts.image)
