"""The caller's own settings: password and the virtual MFA device.

Plain forms that post and re-render the page with the outcome: these are rare, deliberate
actions, and a full page makes the new state (e.g. the MFA secret to scan) unmistakable.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Form, Request, Response

from rtcompute import errors
from rtcompute.console import fields, guard, views
from rtcompute.domain import identities, operations
from rtcompute.services.kernel import auth, principals

router = APIRouter(include_in_schema=False)

Secret = Annotated[str, Form(max_length=1024), fields.Storable]
Code = Annotated[str, Form(max_length=16), fields.Printable]


def _page(request: Request, status: int = 200, **context: Any) -> Response:
    principal = request.state.principal
    context.setdefault("mfa_on", auth.mfa_enabled(guard.platform_of(request), principal))
    return views.render(
        request, "kernel/settings.html", {"active": "settings", **context}, status=status
    )


def _failed(request: Request, error: errors.RtcError) -> Response:
    request.state.error_code = error.code
    return _page(request, views.status_of(error), error=views.error_message(request, error))


@router.get("/console/settings")
def settings_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.GET_OWN_LOGIN_PROFILE),
) -> Response:
    del principal
    return _page(request)


@router.post("/console/settings/password")
async def change_password(
    request: Request,
    old_password: Secret,
    new_password: Secret,
    new_password_again: Secret,
    principal: principals.Principal = guard.requires(operations.CHANGE_PASSWORD),
) -> Response:
    _ = views.translator(request)
    platform = guard.platform_of(request)
    try:
        if new_password != new_password_again:
            raise identities.passwords_differ()
        await anyio.to_thread.run_sync(
            lambda: auth.change_password(
                platform, principal, old_password=old_password, new_password=new_password
            )
        )
    except (errors.Invalid, errors.NotFound) as exc:
        return _failed(request, exc)
    return _page(request, notice=_("Password changed. Your other sessions have ended."))


@router.post("/console/settings/mfa/begin")
async def begin_mfa(
    request: Request,
    principal: principals.Principal = guard.requires(operations.CREATE_VIRTUAL_MFA_DEVICE),
) -> Response:
    platform = guard.platform_of(request)
    try:
        secret, uri = await anyio.to_thread.run_sync(auth.begin_mfa, platform, principal)
    except (errors.Conflict, errors.NotFound) as exc:
        return _failed(request, exc)
    return _page(request, mfa_secret=secret, mfa_uri=uri)


@router.post("/console/settings/mfa")
async def set_mfa(
    request: Request,
    code: Code,
    enabled: Annotated[bool, Form()],
    principal: principals.Principal = guard.requires(operations.BIND_MFA_DEVICE),
) -> Response:
    _ = views.translator(request)
    platform = guard.platform_of(request)
    try:
        await anyio.to_thread.run_sync(
            lambda: auth.set_mfa(platform, principal, code=code.strip(), enabled=enabled)
        )
    except (errors.Invalid, errors.Conflict, errors.NotFound) as exc:
        return _failed(request, exc)
    notice = _("MFA is on.") if enabled else _("MFA is off.")
    return _page(request, notice=notice)
