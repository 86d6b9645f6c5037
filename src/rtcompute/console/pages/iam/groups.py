"""RAM groups (guide: 用户组授权): list, create, and a group's page with members and policies.

Policies attached to a group apply to each member; membership is managed here, on the
group's page, as in the vendor's console.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from rtcompute import errors
from rtcompute.console import guard
from rtcompute.console.pages.iam import shared as ram_shared
from rtcompute.domain import operations, ram
from rtcompute.services.iam import attachments
from rtcompute.services.iam import groups as group_service
from rtcompute.services.iam import policies as ram_policies
from rtcompute.services.iam import users as ram_users
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = ram_shared.BASE + "/groups"
GROUP_PAGE = PAGE + "/{group}"


async def _list(
    request: Request, principal: principals.Principal, offset: int, status: int = 200, **extra: Any
) -> Response:
    platform = guard.platform_of(request)
    found, total = await ram_shared.run(
        group_service.list_groups,
        platform,
        principal.account_id,
        limit=ram_shared.PAGE_SIZE,
        offset=offset,
    )
    context: dict[str, Any] = {"values": {}, **extra}
    return ram_shared.render(
        request,
        "iam/groups.html",
        "ram-groups",
        status,
        groups=found,
        total=total,
        offset=offset,
        page_size=ram_shared.PAGE_SIZE,
        max_groups=ram.MAX_GROUPS,
        **context,
    )


@router.get(PAGE)
async def groups_page(
    request: Request,
    offset: ram_shared.Offset = 0,
    principal: principals.Principal = guard.requires(operations.LIST_GROUPS),
) -> Response:
    return await _list(request, principal, offset)


@router.post(PAGE)
async def create_group(
    request: Request,
    name: ram_shared.NameField,
    display_name: ram_shared.NameField = "",
    comment: ram_shared.TextField = "",
    principal: principals.Principal = guard.requires(operations.CREATE_GROUP),
) -> Response:
    platform = guard.platform_of(request)
    name = name.strip()
    try:
        group = await ram_shared.run(
            group_service.create_group,
            platform,
            principal.account_id,
            name,
            display_name=display_name.strip(),
            comment=comment.strip(),
        )
    except (errors.Invalid, errors.Conflict, errors.QuotaExceeded) as exc:
        status, message = ram_shared.failed(request, exc)
        values = {"name": name, "display_name": display_name, "comment": comment}
        return await _list(request, principal, 0, status, error=message, values=values)
    return ram_shared.see_other(request, ram_shared.path_of("groups", group.name), "created")


@router.get(GROUP_PAGE)
async def group_page(
    request: Request,
    group: ram_shared.Name,
    principal: principals.Principal = guard.requires(operations.GET_GROUP),
) -> Response:
    platform = guard.platform_of(request)
    account_id = principal.account_id
    found = await ram_shared.run(group_service.read_group, platform, account_id, group)
    listed, attach, detach = operations.POLICY_HOLDERS["Group"]
    may = await guard.may(
        request,
        principal,
        {
            "members": operations.LIST_USERS_FOR_GROUP,
            "add": operations.ADD_USER_TO_GROUP,
            "remove": operations.REMOVE_USER_FROM_GROUP,
            "users": operations.LIST_USERS,
            "policies": listed,
            "attach": attach,
            "detach": detach,
            "choices": operations.LIST_POLICIES,
            "update": operations.UPDATE_GROUP,
            "delete": operations.DELETE_GROUP,
        },
        group=found.name,
        name=found.name,
    )
    context: dict[str, Any] = {"group": found, "may": may, "members": [], "attached": []}
    if may["members"]:
        context["members"] = await ram_shared.run(
            group_service.list_members, platform, account_id, found.name
        )
    context["users"] = []
    if may["users"]:
        users, _ = await ram_shared.run(
            ram_users.list_users, platform, account_id, limit=ram_shared.LIST_ALL, offset=0
        )
        context["users"] = [user.name for user in users]
    if may["policies"]:
        context["attached"] = await ram_shared.run(
            attachments.list_attached, platform, account_id, "Group", found.name
        )
    context["choices"] = None
    if may["choices"]:
        context["choices"], _ = await ram_shared.run(
            ram_policies.list_policies,
            platform,
            account_id,
            None,
            limit=ram_shared.LIST_ALL,
            offset=0,
        )
    context["group_url"] = ram_shared.path_of("groups", found.name)
    return ram_shared.render(request, "iam/group.html", "ram-groups", **context)


@router.post(GROUP_PAGE)
async def update_group(
    request: Request,
    group: ram_shared.Name,
    new_name: ram_shared.NameField,
    display_name: ram_shared.NameField = "",
    comment: ram_shared.TextField = "",
    principal: principals.Principal = guard.requires(operations.UPDATE_GROUP),
) -> Response:
    updated = await ram_shared.run(
        group_service.update_group,
        guard.platform_of(request),
        principal.account_id,
        group,
        new_name=new_name.strip() or None,
        display_name=display_name.strip(),
        comment=comment.strip(),
    )
    return ram_shared.see_other(request, ram_shared.path_of("groups", updated.name), "saved")


@router.post(GROUP_PAGE + "/delete")
async def delete_group(
    request: Request,
    group: ram_shared.Name,
    principal: principals.Principal = guard.requires(operations.DELETE_GROUP),
) -> Response:
    await ram_shared.run(
        group_service.delete_group, guard.platform_of(request), principal.account_id, group
    )
    return ram_shared.see_other(request, PAGE, "deleted")


@router.post(GROUP_PAGE + "/members")
async def add_member(
    request: Request,
    group: ram_shared.Name,
    user: ram_shared.NameField,
    principal: principals.Principal = guard.requires(operations.ADD_USER_TO_GROUP),
) -> Response:
    await ram_shared.run(
        group_service.add_user,
        guard.platform_of(request),
        principal.account_id,
        group,
        user.strip(),
    )
    return ram_shared.see_other(request, ram_shared.path_of("groups", group), "member-added")


@router.post(GROUP_PAGE + "/members/{user}/remove")
async def remove_member(
    request: Request,
    group: ram_shared.Name,
    user: ram_shared.Name,
    principal: principals.Principal = guard.requires(operations.REMOVE_USER_FROM_GROUP),
) -> Response:
    await ram_shared.run(
        group_service.remove_user, guard.platform_of(request), principal.account_id, group, user
    )
    return ram_shared.see_other(request, ram_shared.path_of("groups", group), "member-removed")
