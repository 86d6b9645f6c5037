"""The caller's access keys."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Response, status

from rtcompute.api import deps
from rtcompute.api.schemas import access_keys as schemas
from rtcompute.domain import operations
from rtcompute.services.kernel import access_keys, principals

router = APIRouter(
    prefix=f"{deps.API_PREFIX}/access-keys", tags=["access-keys"], responses=deps.ERROR_RESPONSES
)


@router.get("", response_model=list[schemas.AccessKey])
async def list_access_keys(
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.LIST_ACCESS_KEYS),
) -> list[schemas.AccessKey]:
    keys = await anyio.to_thread.run_sync(
        access_keys.list_access_keys, platform, principal.identity_id
    )
    return [schemas.AccessKey.model_validate(key) for key in keys]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.AccessKeyCreated)
async def create_access_key(
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.CREATE_ACCESS_KEY),
) -> schemas.AccessKeyCreated:
    """Create a key; its secret is in this response and never again."""
    created = await anyio.to_thread.run_sync(
        access_keys.create_access_key, platform, principal.identity_id
    )
    return schemas.AccessKeyCreated(
        id=created.key.id,
        status=created.key.status,
        created_at=created.key.created_at,
        last_used_at=created.key.last_used_at,
        secret=created.secret,
    )


@router.patch("/{key_id}", response_model=schemas.AccessKey)
async def update_access_key(
    key_id: str,
    body: schemas.AccessKeyUpdate,
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.UPDATE_ACCESS_KEY),
) -> schemas.AccessKey:
    """Enable (`Active`) or disable (`Inactive`) a key."""
    key = await anyio.to_thread.run_sync(
        access_keys.set_status, platform, principal.identity_id, key_id, body.status
    )
    return schemas.AccessKey.model_validate(key)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_access_key(
    key_id: str,
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.DELETE_ACCESS_KEY),
) -> Response:
    await anyio.to_thread.run_sync(
        access_keys.delete_access_key, platform, principal.identity_id, key_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
