"""RAM users of the caller's account: lifecycle, password, console access, keys, MFA."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Response, status

from rtcompute.api import deps
from rtcompute.api.schemas import access_keys as key_schemas
from rtcompute.api.schemas import ram as schemas
from rtcompute.domain import operations, resources
from rtcompute.services.iam import users as ram_users
from rtcompute.services.kernel import access_keys, principals
from rtcompute.store import tables

router = APIRouter(
    prefix=f"{deps.API_PREFIX}/ram/users", tags=["ram"], responses=deps.ERROR_RESPONSES
)
USERS = "acs:ram::{account_id}:user/*"
USER = "acs:ram::{account_id}:user/{user}"
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def user_out(user: tables.Identity) -> schemas.User:
    return schemas.User(
        name=user.name,
        display_name=user.display_name,
        comment=user.comment,
        console_enabled=user.console_enabled,
        has_password=user.password_hash is not None,
        mfa_enabled=user.mfa_enabled,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        arn=resources.ram_user(user.account_id, user.name),
    )


@router.get("", response_model=schemas.UserPage)
async def list_users(
    platform: deps.PlatformDep,
    limit: Limit = 100,
    offset: Offset = 0,
    principal: principals.Principal = deps.requires(operations.LIST_USERS),
) -> schemas.UserPage:
    users, total = await anyio.to_thread.run_sync(
        lambda: ram_users.list_users(platform, principal.account_id, limit=limit, offset=offset)
    )
    return schemas.UserPage(users=[user_out(u) for u in users], total=total)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.User)
async def create_user(
    platform: deps.PlatformDep,
    body: schemas.UserCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_USER),
) -> schemas.User:
    new = ram_users.NewUser(
        name=body.name,
        display_name=body.display_name,
        comment=body.comment,
        password=body.password,
        console_enabled=body.console_enabled,
    )
    user = await anyio.to_thread.run_sync(
        ram_users.create_user, platform, principal.account_id, new
    )
    return user_out(user)


@router.get("/{user}", response_model=schemas.User)
async def get_user(
    platform: deps.PlatformDep,
    user: str,
    principal: principals.Principal = deps.requires(operations.GET_USER),
) -> schemas.User:
    found = await anyio.to_thread.run_sync(
        ram_users.read_user, platform, principal.account_id, user
    )
    return user_out(found)


@router.patch("/{user}", response_model=schemas.User)
async def update_user(
    platform: deps.PlatformDep,
    user: str,
    body: schemas.UserUpdate,
    principal: principals.Principal = deps.requires(operations.UPDATE_USER),
) -> schemas.User:
    change = ram_users.UserChange(
        new_name=body.new_name,
        display_name=body.display_name,
        comment=body.comment,
        console_enabled=body.console_enabled,
    )
    found = await anyio.to_thread.run_sync(
        ram_users.update_user, platform, principal.account_id, user, change
    )
    return user_out(found)


@router.delete("/{user}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(
    platform: deps.PlatformDep,
    user: str,
    principal: principals.Principal = deps.requires(operations.DELETE_USER),
) -> Response:
    """Delete the user with its keys, sessions, memberships and attachments."""
    await anyio.to_thread.run_sync(ram_users.delete_user, platform, principal.account_id, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{user}/password", status_code=status.HTTP_204_NO_CONTENT)
async def set_password(
    platform: deps.PlatformDep,
    user: str,
    body: schemas.PasswordSet,
    principal: principals.Principal = deps.requires(operations.UPDATE_LOGIN_PROFILE),
) -> Response:
    """Set or reset the user's console password; the user's sessions end."""
    await anyio.to_thread.run_sync(
        ram_users.set_password, platform, principal.account_id, user, body.password
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{user}/mfa", status_code=status.HTTP_204_NO_CONTENT)
async def unbind_mfa(
    platform: deps.PlatformDep,
    user: str,
    principal: principals.Principal = deps.requires(operations.UNBIND_MFA_DEVICE),
) -> Response:
    """Remove the user's MFA device (a lost phone)."""
    await anyio.to_thread.run_sync(ram_users.unbind_mfa, platform, principal.account_id, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{user}/access-keys", response_model=list[key_schemas.AccessKey])
async def list_user_access_keys(
    platform: deps.PlatformDep,
    user: str,
    principal: principals.Principal = deps.requires(operations.LIST_USER_ACCESS_KEYS),
) -> list[key_schemas.AccessKey]:
    identity_id = await anyio.to_thread.run_sync(
        ram_users.user_id, platform, principal.account_id, user
    )
    keys = await anyio.to_thread.run_sync(access_keys.list_access_keys, platform, identity_id)
    return [key_schemas.AccessKey.model_validate(key) for key in keys]


@router.post(
    "/{user}/access-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=key_schemas.AccessKeyCreated,
)
async def create_user_access_key(
    platform: deps.PlatformDep,
    user: str,
    principal: principals.Principal = deps.requires(operations.CREATE_USER_ACCESS_KEY),
) -> key_schemas.AccessKeyCreated:
    """A key for the user (at most 2); the secret is in this response and never again."""
    identity_id = await anyio.to_thread.run_sync(
        ram_users.user_id, platform, principal.account_id, user
    )
    created = await anyio.to_thread.run_sync(access_keys.create_access_key, platform, identity_id)
    return key_schemas.AccessKeyCreated(
        id=created.key.id,
        status=created.key.status,
        created_at=created.key.created_at,
        last_used_at=None,
        secret=created.secret,
    )


@router.patch("/{user}/access-keys/{key_id}", response_model=key_schemas.AccessKey)
async def update_user_access_key(
    platform: deps.PlatformDep,
    user: str,
    key_id: str,
    body: key_schemas.AccessKeyUpdate,
    principal: principals.Principal = deps.requires(operations.UPDATE_USER_ACCESS_KEY),
) -> key_schemas.AccessKey:
    identity_id = await anyio.to_thread.run_sync(
        ram_users.user_id, platform, principal.account_id, user
    )
    key = await anyio.to_thread.run_sync(
        access_keys.set_status, platform, identity_id, key_id, body.status
    )
    return key_schemas.AccessKey.model_validate(key)


@router.delete("/{user}/access-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user_access_key(
    platform: deps.PlatformDep,
    user: str,
    key_id: str,
    principal: principals.Principal = deps.requires(operations.DELETE_USER_ACCESS_KEY),
) -> Response:
    identity_id = await anyio.to_thread.run_sync(
        ram_users.user_id, platform, principal.account_id, user
    )
    await anyio.to_thread.run_sync(access_keys.delete_access_key, platform, identity_id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
