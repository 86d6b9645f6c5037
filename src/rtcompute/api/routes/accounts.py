"""Accounts, as the operator manages them."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request, status

from rtcompute.api import deps
from rtcompute.api.routes import auth as auth_routes
from rtcompute.api.schemas import accounts as schemas
from rtcompute.domain import operations
from rtcompute.services.kernel import accounts, principals

router = APIRouter(
    prefix=f"{deps.API_PREFIX}/accounts", tags=["accounts"], responses=deps.ERROR_RESPONSES
)
ANY_ACCOUNT = "acs:rtc::*:account/*"


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.Account)
async def create_account(
    body: schemas.AccountCreate,
    request: Request,
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.CREATE_ACCOUNT),
) -> schemas.Account:
    """Create a tenant account (operator only; works with public sign-up off)."""
    new = accounts.NewAccount(body.alias, body.password, body.display_name, body.email)
    account = await anyio.to_thread.run_sync(accounts.create_account, platform, principal, new)
    result = schemas.Account.model_validate(account)
    result.login_url = auth_routes.login_url(request, account.alias)
    return result


@router.get("", response_model=list[schemas.Account])
async def list_accounts(
    request: Request,
    platform: deps.PlatformDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    principal: principals.Principal = deps.requires(operations.LIST_ACCOUNTS),
) -> list[schemas.Account]:
    rows = await anyio.to_thread.run_sync(
        lambda: accounts.list_accounts(platform, limit=limit, offset=offset)
    )
    result = [schemas.Account.model_validate(row) for row in rows]
    for item in result:
        item.login_url = auth_routes.login_url(request, item.alias)
    return result
