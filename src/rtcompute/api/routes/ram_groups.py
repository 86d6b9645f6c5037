"""RAM groups and their members."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Response, status

from rtcompute.api import deps
from rtcompute.api.routes import ram_users as user_routes
from rtcompute.api.schemas import ram as schemas
from rtcompute.domain import operations, resources
from rtcompute.services.iam import groups
from rtcompute.services.kernel import principals
from rtcompute.store import tables

router = APIRouter(prefix=f"{deps.API_PREFIX}/ram", tags=["ram"], responses=deps.ERROR_RESPONSES)
GROUPS = "acs:ram::{account_id}:group/*"
GROUP = "acs:ram::{account_id}:group/{group}"


def group_out(group: tables.RamGroup) -> schemas.Group:
    return schemas.Group(
        name=group.name,
        display_name=group.display_name,
        comment=group.comment,
        created_at=group.created_at,
        arn=resources.ram_group(group.account_id, group.name),
    )


@router.get("/groups", response_model=schemas.GroupPage)
async def list_groups(
    platform: deps.PlatformDep,
    limit: user_routes.Limit = 100,
    offset: user_routes.Offset = 0,
    principal: principals.Principal = deps.requires(operations.LIST_GROUPS),
) -> schemas.GroupPage:
    found, total = await anyio.to_thread.run_sync(
        lambda: groups.list_groups(platform, principal.account_id, limit=limit, offset=offset)
    )
    return schemas.GroupPage(groups=[group_out(g) for g in found], total=total)


@router.post("/groups", status_code=status.HTTP_201_CREATED, response_model=schemas.Group)
async def create_group(
    platform: deps.PlatformDep,
    body: schemas.GroupCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_GROUP),
) -> schemas.Group:
    group = await anyio.to_thread.run_sync(
        lambda: groups.create_group(
            platform,
            principal.account_id,
            body.name,
            display_name=body.display_name,
            comment=body.comment,
        )
    )
    return group_out(group)


@router.get("/groups/{group}", response_model=schemas.Group)
async def get_group(
    platform: deps.PlatformDep,
    group: str,
    principal: principals.Principal = deps.requires(operations.GET_GROUP),
) -> schemas.Group:
    found = await anyio.to_thread.run_sync(groups.read_group, platform, principal.account_id, group)
    return group_out(found)


@router.patch("/groups/{group}", response_model=schemas.Group)
async def update_group(
    platform: deps.PlatformDep,
    group: str,
    body: schemas.GroupUpdate,
    principal: principals.Principal = deps.requires(operations.UPDATE_GROUP),
) -> schemas.Group:
    found = await anyio.to_thread.run_sync(
        lambda: groups.update_group(
            platform,
            principal.account_id,
            group,
            new_name=body.new_name,
            display_name=body.display_name,
            comment=body.comment,
        )
    )
    return group_out(found)


@router.delete("/groups/{group}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_group(
    platform: deps.PlatformDep,
    group: str,
    principal: principals.Principal = deps.requires(operations.DELETE_GROUP),
) -> Response:
    """Delete the group; its members stay, losing what the group's policies gave them."""
    await anyio.to_thread.run_sync(groups.delete_group, platform, principal.account_id, group)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/groups/{group}/users", response_model=list[schemas.User])
async def list_members(
    platform: deps.PlatformDep,
    group: str,
    principal: principals.Principal = deps.requires(operations.LIST_USERS_FOR_GROUP),
) -> list[schemas.User]:
    members = await anyio.to_thread.run_sync(
        groups.list_members, platform, principal.account_id, group
    )
    return [user_routes.user_out(m) for m in members]


@router.put("/groups/{group}/users/{user}", status_code=status.HTTP_204_NO_CONTENT)
async def add_member(
    platform: deps.PlatformDep,
    group: str,
    user: str,
    principal: principals.Principal = deps.requires(operations.ADD_USER_TO_GROUP),
) -> Response:
    """Add a user to the group (a user belongs to at most 10 groups); again is a no-op."""
    await anyio.to_thread.run_sync(groups.add_user, platform, principal.account_id, group, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/groups/{group}/users/{user}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    platform: deps.PlatformDep,
    group: str,
    user: str,
    principal: principals.Principal = deps.requires(operations.REMOVE_USER_FROM_GROUP),
) -> Response:
    await anyio.to_thread.run_sync(groups.remove_user, platform, principal.account_id, group, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users/{user}/groups", response_model=list[schemas.Group])
async def list_groups_for_user(
    platform: deps.PlatformDep,
    user: str,
    principal: principals.Principal = deps.requires(operations.LIST_GROUPS_FOR_USER),
) -> list[schemas.Group]:
    found = await anyio.to_thread.run_sync(
        groups.list_groups_of, platform, principal.account_id, user
    )
    return [group_out(g) for g in found]
