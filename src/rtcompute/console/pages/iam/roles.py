"""RAM roles: list, create with a live-validated trust policy, a role's page.

A role's trust policy says who may assume it; its attached policies what it may do. The
editor checks the trust policy with the trust grammar (`Principal`, `sts:AssumeRole`) as one
types, through the same validation route as permission policies.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from rtcompute import errors
from rtcompute.console import guard
from rtcompute.console.pages.iam import shared as ram_shared
from rtcompute.domain import operations, ram, resources
from rtcompute.services.iam import attachments, roles
from rtcompute.services.iam import policies as ram_policies
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = ram_shared.BASE + "/roles"
ROLE_PAGE = PAGE + "/{role}"


async def _list(
    request: Request, principal: principals.Principal, offset: int, status: int = 200, **extra: Any
) -> Response:
    platform = guard.platform_of(request)
    found, total = await ram_shared.run(
        roles.list_roles, platform, principal.account_id, limit=ram_shared.PAGE_SIZE, offset=offset
    )
    context: dict[str, Any] = {
        "values": {"document": ram.account_trust_policy(principal.account_id)},
        **extra,
    }
    return ram_shared.render(
        request,
        "iam/roles.html",
        "ram-roles",
        status,
        roles=found,
        total=total,
        offset=offset,
        page_size=ram_shared.PAGE_SIZE,
        max_roles=ram.MAX_ROLES,
        service_role=ram.SERVICE_ROLE,
        **context,
    )


@router.get(PAGE)
async def roles_page(
    request: Request,
    offset: ram_shared.Offset = 0,
    principal: principals.Principal = guard.requires(operations.LIST_ROLES),
) -> Response:
    return await _list(request, principal, offset)


@router.post(PAGE)
async def create_role(
    request: Request,
    name: ram_shared.NameField,
    document: ram_shared.DocumentField,
    description: ram_shared.TextField = "",
    principal: principals.Principal = guard.requires(operations.CREATE_ROLE),
) -> Response:
    name = name.strip()
    platform = guard.platform_of(request)
    try:
        role = await ram_shared.run(
            roles.create_role,
            platform,
            principal.account_id,
            name,
            description=description.strip(),
            trust_policy=document,
        )
    except (errors.Invalid, errors.Conflict, errors.QuotaExceeded) as exc:
        status, message = ram_shared.failed(request, exc)
        values = {"name": name, "description": description, "document": document}
        problems = ram_shared.problems_of(request, document, trust=True)
        return await _list(
            request, principal, 0, status, error=message, values=values, problems=problems
        )
    return ram_shared.see_other(request, ram_shared.path_of("roles", role.name), "created")


async def _role_page(
    request: Request, principal: principals.Principal, role: str, status: int = 200, **extra: Any
) -> Response:
    platform = guard.platform_of(request)
    account_id = principal.account_id
    found = await ram_shared.run(roles.read_role, platform, account_id, role)
    listed, attach, detach = operations.POLICY_HOLDERS["Role"]
    may = await guard.may(
        request,
        principal,
        {
            "update": operations.UPDATE_ROLE,
            "policies": listed,
            "attach": attach,
            "detach": detach,
            "choices": operations.LIST_POLICIES,
            "delete": operations.DELETE_ROLE,
        },
        role=found.name,
        name=found.name,
    )
    context: dict[str, Any] = {"role": found, "may": may, "attached": [], "choices": None}
    if may["policies"]:
        context["attached"] = await ram_shared.run(
            attachments.list_attached, platform, account_id, "Role", found.name
        )
    if may["choices"]:
        context["choices"], _ = await ram_shared.run(
            ram_policies.list_policies,
            platform,
            account_id,
            None,
            limit=ram_shared.LIST_ALL,
            offset=0,
        )
    context["role_url"] = ram_shared.path_of("roles", found.name)
    context["is_service_role"] = found.name == ram.SERVICE_ROLE
    context["arn"] = resources.ram_role(account_id, found.name)
    return ram_shared.render(request, "iam/role.html", "ram-roles", status, **{**context, **extra})


@router.get(ROLE_PAGE)
async def role_page(
    request: Request,
    role: ram_shared.Name,
    principal: principals.Principal = guard.requires(operations.GET_ROLE),
) -> Response:
    return await _role_page(request, principal, role)


@router.post(ROLE_PAGE)
async def update_role(
    request: Request,
    role: ram_shared.Name,
    document: ram_shared.DocumentField,
    description: ram_shared.TextField = "",
    principal: principals.Principal = guard.requires(operations.UPDATE_ROLE),
) -> Response:
    """Description and trust policy; a refused document comes back with its problems."""
    platform = guard.platform_of(request)
    try:
        await ram_shared.run(
            roles.update_role,
            platform,
            principal.account_id,
            role,
            description=description.strip(),
            trust_policy=document,
        )
    except errors.Invalid as exc:
        status, message = ram_shared.failed(request, exc)
        problems = ram_shared.problems_of(request, document, trust=True)
        return await _role_page(
            request, principal, role, status, error=message, draft=document, problems=problems
        )
    return ram_shared.see_other(request, ram_shared.path_of("roles", role), "saved")


@router.post(ROLE_PAGE + "/delete")
async def delete_role(
    request: Request,
    role: ram_shared.Name,
    principal: principals.Principal = guard.requires(operations.DELETE_ROLE),
) -> Response:
    await ram_shared.run(roles.delete_role, guard.platform_of(request), principal.account_id, role)
    return ram_shared.see_other(request, PAGE, "deleted")
