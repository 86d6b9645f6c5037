"""Sign-in, sign-up and sign-out pages: the only console pages usable without a session.

Forms post back to themselves and are re-rendered with the error, so a failed attempt keeps
the alias and user name; the audit middleware still sees the failure through the status and
`request.state.error_code`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from rtcompute import errors
from rtcompute.console import auth, fields, guard, views
from rtcompute.domain import identities, operations, resources
from rtcompute.services.iam import authz
from rtcompute.services.kernel import accounts, principals, sessions
from rtcompute.services.kernel import auth as auth_service

router = APIRouter(include_in_schema=False)

# sign-in takes any text (an odd name is an unknown name); sign-up stores what it takes
Text = Annotated[str, Form(max_length=200)]
Secret = Annotated[str, Form(max_length=1024)]
NewAlias = Annotated[str, Form(max_length=64), fields.Printable]
NewText = Annotated[str, Form(max_length=200), fields.Printable]
NewSecret = Annotated[str, Form(max_length=1024), fields.Storable]


def _see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def _login_url(request: Request, alias: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/login/{quote(alias, safe='')}"


def _public_form(
    request: Request, template: str, context: dict[str, object], status: int = 200
) -> Response:
    """Render a pre-sign-in form with its double-submit token (cookie and hidden field)."""
    token = auth.presession_token(request)
    response = views.render(request, template, {**context, "csrf_token": token}, status=status)
    auth.set_presession_token(response, request, token)
    return response


def _failed(request: Request, error: errors.RtcError) -> tuple[int, str]:
    request.state.error_code = error.code
    return views.status_of(error), views.error_message(request, error)


@router.get("/", dependencies=[guard.public()])
async def home(request: Request) -> Response:
    try:
        await guard.signed_in(request)
    except errors.Unauthenticated:
        return _see_other("/login")
    return _see_other("/console")


@router.get("/login", dependencies=[guard.public("rtc:SignIn")])
def login_start(
    request: Request, alias: Annotated[str | None, Query(max_length=64), fields.Printable] = None
) -> Response:
    if alias and alias.strip():
        return _see_other(f"/login/{quote(alias.strip().lower(), safe='')}")
    return views.render(request, "kernel/login_start.html")


@router.get("/login/{alias}", dependencies=[guard.public("rtc:SignIn")])
def login_form(request: Request, alias: str, created: bool = False) -> Response:
    context: dict[str, object] = {"alias": alias, "user": "", "created": created}
    context["login_url"] = _login_url(request, alias)
    return _public_form(request, "kernel/login.html", context)


@router.post("/login/{alias}", dependencies=[guard.public("rtc:SignIn")])
async def login_submit(
    request: Request,
    alias: str,
    password: Secret,
    user: Text = "",
    code: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    user = user.strip()
    request.state.audit_claimed = fields.for_audit(f"{user}@{alias}" if user else alias)[:200]
    platform = guard.platform_of(request)
    request.state.audit_account_id = await anyio.to_thread.run_sync(
        accounts.find_account_id, platform, alias
    )
    attempt = auth_service.SignIn(
        alias=alias,
        user=user or None,
        password=password,
        code=code.strip() or None,
        kind=sessions.CONSOLE,
        source_ip=guard.source_ip(request),
    )
    context: dict[str, object] = {"alias": alias, "user": user}
    context["login_url"] = _login_url(request, alias)
    try:
        signed = await anyio.to_thread.run_sync(auth_service.sign_in, platform, attempt)
    except errors.VerificationRequired as exc:
        status, message = _failed(request, exc)
        context.update(error=message, need_code=True, method=exc.method)
        return _public_form(request, "kernel/login.html", context, status)
    except (errors.Unauthenticated, errors.Forbidden) as exc:
        status, message = _failed(request, exc)
        context.update(error=message, need_code=bool(code))
        return _public_form(request, "kernel/login.html", context, status)
    request.state.principal = signed.principal
    request.state.audit_account_id = signed.principal.account_id
    request.state.audit_resource = authz.own_resource(signed.principal)
    response = _see_other("/console")
    auth.set_session(response, request, signed.token, signed.principal.account_alias)
    return response


@router.get("/signup", dependencies=[guard.public("rtc:SignUp")])
def signup_form(request: Request) -> Response:
    enabled = guard.platform_of(request).settings.auth.public_signup
    return _public_form(request, "kernel/signup.html", {"enabled": enabled, "values": {}})


@router.post("/signup", dependencies=[guard.public("rtc:SignUp")])
async def signup_submit(
    request: Request,
    alias: NewAlias,
    password: NewSecret,
    password_again: NewSecret,
    display_name: NewText = "",
    email: NewText = "",
) -> Response:
    alias = alias.strip().lower()
    request.state.audit_claimed = alias
    request.state.audit_account_id = None
    platform = guard.platform_of(request)
    values = {"alias": alias, "display_name": display_name, "email": email}
    context: dict[str, object] = {"enabled": platform.settings.auth.public_signup}
    context["values"] = values
    try:
        if password != password_again:
            raise identities.passwords_differ()
        new = accounts.NewAccount(alias, password, display_name.strip(), email.strip())
        account = await anyio.to_thread.run_sync(accounts.sign_up, platform, new)
    except (errors.Invalid, errors.Conflict, errors.Forbidden) as exc:
        status, message = _failed(request, exc)
        return _public_form(request, "kernel/signup.html", {**context, "error": message}, status)
    request.state.audit_account_id = account.id
    request.state.audit_resource = resources.account_root(account.id)
    return _see_other(f"/login/{quote(account.alias, safe='')}?created=true")


@router.post("/logout")
async def logout(
    request: Request,
    principal: principals.Principal = guard.requires(operations.SIGN_OUT),
) -> Response:
    await anyio.to_thread.run_sync(sessions.sign_out, guard.platform_of(request), principal)
    response = _see_other(f"/login/{quote(principal.account_alias, safe='')}")
    auth.clear_session(response, request)
    return response
