"""The operator's page of tenant accounts: list them, create one.

With public sign-up off this is how tenants get an account (the guide: a project belongs to
one account; here the operator hands accounts out). Same actions as `POST/GET /api/v1/accounts`.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Form, Request, Response

from rtcompute import errors
from rtcompute.console import fields, guard, views
from rtcompute.domain import operations
from rtcompute.services.kernel import accounts, principals

router = APIRouter(include_in_schema=False)
PAGE = "/console/accounts"
ANY_ACCOUNT = "acs:rtc::*:account/*"
LIST_LIMIT = 500


def any_account(*_: object) -> str:
    return ANY_ACCOUNT


Text = Annotated[str, Form(max_length=256), fields.Printable]
Secret = Annotated[str, Form(max_length=1024), fields.Storable]


async def _page(request: Request, status: int = 200, **context: Any) -> Response:
    platform = guard.platform_of(request)
    rows = await anyio.to_thread.run_sync(
        lambda: accounts.list_accounts(platform, limit=LIST_LIMIT, offset=0)
    )
    base = f"{request.url.scheme}://{request.headers.get('host', '')}"
    values = {"active": "accounts", "accounts": rows, "base": base, "values": {}, **context}
    return views.render(request, "kernel/accounts.html", values, status=status)


@router.get(PAGE)
async def accounts_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.LIST_ACCOUNTS),
) -> Response:
    del principal
    return await _page(request)


@router.post(PAGE)
async def create_account(
    request: Request,
    alias: Text,
    password: Secret,
    display_name: Text = "",
    email: Text = "",
    principal: principals.Principal = guard.requires(operations.CREATE_ACCOUNT),
) -> Response:
    platform = guard.platform_of(request)
    new = accounts.NewAccount(alias.strip().lower(), password, display_name.strip(), email.strip())
    values = {"alias": new.alias, "display_name": new.display_name, "email": new.email}
    try:
        account = await anyio.to_thread.run_sync(accounts.create_account, platform, principal, new)
    except (errors.Invalid, errors.Conflict) as exc:
        request.state.error_code = exc.code
        message = views.error_message(request, exc)
        return await _page(request, views.status_of(exc), error=message, values=values)
    return await _page(request, 201, created=account.alias)
