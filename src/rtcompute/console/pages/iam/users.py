"""RAM users (guide, 账号管理 > 创建子账号): list, create, and the user's page.

The user's page gathers what the vendor's console shows on one screen: the user's details,
console access and password, MFA, groups, attached policies and access keys. Each section
asks for its own action; each button posts to a route that declares the action it performs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, Response

from rtcompute import errors
from rtcompute.console import guard, views
from rtcompute.console.pages.iam import shared as ram_shared
from rtcompute.domain import identities, operations, ram
from rtcompute.services.iam import attachments
from rtcompute.services.iam import groups as group_service
from rtcompute.services.iam import policies as ram_policies
from rtcompute.services.iam import users as ram_users
from rtcompute.services.kernel import access_keys, principals

router = APIRouter(include_in_schema=False)
PAGE = ram_shared.BASE + "/users"
USER_PAGE = PAGE + "/{user}"
Flag = Annotated[bool, Form()]


async def _list(
    request: Request, principal: principals.Principal, offset: int, status: int = 200, **extra: Any
) -> Response:
    platform = guard.platform_of(request)
    users, total = await ram_shared.run(
        ram_users.list_users,
        platform,
        principal.account_id,
        limit=ram_shared.PAGE_SIZE,
        offset=offset,
    )
    context: dict[str, Any] = {"values": {}, **extra}
    return ram_shared.render(
        request,
        "iam/users.html",
        "ram-users",
        status,
        users=users,
        total=total,
        offset=offset,
        page_size=ram_shared.PAGE_SIZE,
        max_users=ram.MAX_USERS,
        **context,
    )


@router.get(PAGE)
async def users_page(
    request: Request,
    offset: ram_shared.Offset = 0,
    principal: principals.Principal = guard.requires(operations.LIST_USERS),
) -> Response:
    return await _list(request, principal, offset)


@router.post(PAGE)
async def create_user(
    request: Request,
    name: ram_shared.NameField,
    display_name: ram_shared.NameField = "",
    comment: ram_shared.TextField = "",
    password: ram_shared.SecretField = "",
    console_enabled: Flag = False,
    principal: principals.Principal = guard.requires(operations.CREATE_USER),
) -> Response:
    new = ram_users.NewUser(
        name=name.strip(),
        display_name=display_name.strip(),
        comment=comment.strip(),
        password=password or None,
        console_enabled=console_enabled,
    )
    platform = guard.platform_of(request)
    try:
        user = await ram_shared.run(ram_users.create_user, platform, principal.account_id, new)
    except (errors.Invalid, errors.Conflict, errors.QuotaExceeded) as exc:
        status, message = ram_shared.failed(request, exc)
        values = {
            "name": new.name,
            "display_name": new.display_name,
            "comment": new.comment,
            "console_enabled": console_enabled,
        }
        return await _list(request, principal, 0, status, error=message, values=values)
    return ram_shared.see_other(request, ram_shared.path_of("users", user.name), "created")


async def user_context(
    request: Request, principal: principals.Principal, user: str
) -> dict[str, Any]:
    """What the user's page shows, each section only when the caller may read it."""
    platform = guard.platform_of(request)
    account_id = principal.account_id
    found = await ram_shared.run(ram_users.read_user, platform, account_id, user)
    listed, attach, detach = operations.POLICY_HOLDERS["User"]
    may = await guard.may(
        request,
        principal,
        {
            "groups": operations.LIST_GROUPS_FOR_USER,
            "policies": listed,
            "attach": attach,
            "detach": detach,
            "choices": operations.LIST_POLICIES,
            "keys": operations.LIST_USER_ACCESS_KEYS,
            "create_key": operations.CREATE_USER_ACCESS_KEY,
            "update": operations.UPDATE_USER,
            "password": operations.UPDATE_LOGIN_PROFILE,
            "mfa": operations.UNBIND_MFA_DEVICE,
            "delete": operations.DELETE_USER,
        },
        user=found.name,
        name=found.name,
    )
    context: dict[str, Any] = {"user": found, "may": may, "groups": [], "attached": []}
    if may["groups"]:
        context["groups"] = await ram_shared.run(
            group_service.list_groups_of, platform, account_id, found.name
        )
    if may["policies"]:
        context["attached"] = await ram_shared.run(
            attachments.list_attached, platform, account_id, "User", found.name
        )
    context["choices"] = None
    if may["choices"]:
        choices, _ = await ram_shared.run(
            ram_policies.list_policies,
            platform,
            account_id,
            None,
            limit=ram_shared.LIST_ALL,
            offset=0,
        )
        context["choices"] = choices
    context["keys"] = []
    if may["keys"]:
        context["keys"] = await ram_shared.run(access_keys.list_access_keys, platform, found.id)
    context["keys_base"] = ram_shared.path_of("users", found.name, "access-keys")
    context["user_url"] = ram_shared.path_of("users", found.name)
    return context


@router.get(USER_PAGE)
async def user_page(
    request: Request,
    user: ram_shared.Name,
    principal: principals.Principal = guard.requires(operations.GET_USER),
) -> Response:
    context = await user_context(request, principal, user)
    return ram_shared.render(request, "iam/user.html", "ram-users", **context)


@router.post(USER_PAGE)
async def update_user(
    request: Request,
    user: ram_shared.Name,
    new_name: ram_shared.NameField,
    display_name: ram_shared.NameField = "",
    comment: ram_shared.TextField = "",
    principal: principals.Principal = guard.requires(operations.UPDATE_USER),
) -> Response:
    change = ram_users.UserChange(
        new_name=new_name.strip() or None,
        display_name=display_name.strip(),
        comment=comment.strip(),
    )
    platform = guard.platform_of(request)
    updated = await ram_shared.run(
        ram_users.update_user, platform, principal.account_id, user, change
    )
    return ram_shared.see_other(request, ram_shared.path_of("users", updated.name), "saved")


@router.post(USER_PAGE + "/password")
async def set_password(
    request: Request,
    user: ram_shared.Name,
    password: ram_shared.SecretField,
    password_again: ram_shared.SecretField,
    principal: principals.Principal = guard.requires(operations.UPDATE_LOGIN_PROFILE),
) -> Response:
    if password != password_again:
        raise identities.passwords_differ()
    platform = guard.platform_of(request)
    await ram_shared.run(ram_users.set_password, platform, principal.account_id, user, password)
    return ram_shared.see_other(request, ram_shared.path_of("users", user), "password")


@router.post(USER_PAGE + "/console-access")
async def set_console_access(
    request: Request,
    user: ram_shared.Name,
    enabled: Flag,
    principal: principals.Principal = guard.requires(operations.UPDATE_USER),
) -> Response:
    platform = guard.platform_of(request)
    change = ram_users.UserChange(console_enabled=enabled)
    await ram_shared.run(ram_users.update_user, platform, principal.account_id, user, change)
    done = "console-on" if enabled else "console-off"
    return ram_shared.see_other(request, ram_shared.path_of("users", user), done)


@router.post(USER_PAGE + "/mfa/unbind")
async def unbind_mfa(
    request: Request,
    user: ram_shared.Name,
    principal: principals.Principal = guard.requires(operations.UNBIND_MFA_DEVICE),
) -> Response:
    platform = guard.platform_of(request)
    await ram_shared.run(ram_users.unbind_mfa, platform, principal.account_id, user)
    return ram_shared.see_other(request, ram_shared.path_of("users", user), "mfa")


@router.post(USER_PAGE + "/delete")
async def delete_user(
    request: Request,
    user: ram_shared.Name,
    principal: principals.Principal = guard.requires(operations.DELETE_USER),
) -> Response:
    platform = guard.platform_of(request)
    await ram_shared.run(ram_users.delete_user, platform, principal.account_id, user)
    return ram_shared.see_other(request, PAGE, "deleted")


# the user's access keys: the same table and secret box as the caller's own keys page


async def _keys_fragment(
    request: Request, principal: principals.Principal, user: str, template: str, **extra: Any
) -> Response:
    if not views.is_htmx(request):
        return ram_shared.see_other(request, ram_shared.path_of("users", user))
    platform = guard.platform_of(request)
    identity_id = await ram_shared.run(ram_users.user_id, platform, principal.account_id, user)
    keys = await ram_shared.run(access_keys.list_access_keys, platform, identity_id)
    context = {"keys": keys, "keys_base": ram_shared.path_of("users", user, "access-keys")}
    headers = {"Cache-Control": "no-store"}
    return views.render(request, template, {**context, **extra}, headers=headers)


@router.post(USER_PAGE + "/access-keys")
async def create_key(
    request: Request,
    user: ram_shared.Name,
    principal: principals.Principal = guard.requires(operations.CREATE_USER_ACCESS_KEY),
) -> Response:
    """A key for the user; its secret is in this answer only (htmx), never in the page."""
    platform = guard.platform_of(request)
    identity_id = await ram_shared.run(ram_users.user_id, platform, principal.account_id, user)
    created = await ram_shared.run(access_keys.create_access_key, platform, identity_id)
    if not views.is_htmx(request):
        context = await user_context(request, principal, user)
        response = ram_shared.render(
            request, "iam/user.html", "ram-users", created=created, **context
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    return await _keys_fragment(
        request, principal, user, "components/key_created.html", created=created
    )


@router.post(USER_PAGE + "/access-keys/{key_id}/status")
async def set_key_status(
    request: Request,
    user: ram_shared.Name,
    key_id: ram_shared.KeyId,
    status: Annotated[Literal["Active", "Inactive"], Form()],
    principal: principals.Principal = guard.requires(operations.UPDATE_USER_ACCESS_KEY),
) -> Response:
    platform = guard.platform_of(request)
    identity_id = await ram_shared.run(ram_users.user_id, platform, principal.account_id, user)
    await ram_shared.run(access_keys.set_status, platform, identity_id, key_id, status)
    return await _keys_fragment(request, principal, user, "components/keys_table.html")


@router.delete(USER_PAGE + "/access-keys/{key_id}")
async def delete_key(
    request: Request,
    user: ram_shared.Name,
    key_id: ram_shared.KeyId,
    principal: principals.Principal = guard.requires(operations.DELETE_USER_ACCESS_KEY),
) -> Response:
    platform = guard.platform_of(request)
    identity_id = await ram_shared.run(ram_users.user_id, platform, principal.account_id, user)
    await ram_shared.run(access_keys.delete_access_key, platform, identity_id, key_id)
    return await _keys_fragment(request, principal, user, "components/keys_table.html")
