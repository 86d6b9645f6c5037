"""The service role (guide: 共享模式角色授权 and 独享模式角色授权).

Not authorized: the guide's prompt, "Go to authorize" and "I have authorized" (a re-check:
both sides cache, so the guide tells users to click it after authorizing). The authorization
page shows the role, its description, its policy and "Agree" / "Cancel". Authorized: the
role's current policy document (当前角色授权信息查看), whether exclusive clusters have every
action they need, and "Re-initialize" behind a confirmation page that carries the guide's
warning. `ServiceRoleNotAuthorized` errors of the API point to this page's path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from rtcompute.console import guard
from rtcompute.console.i18n import N_
from rtcompute.console.pages.iam import shared as ram_shared
from rtcompute.domain import operations, ram
from rtcompute.services.iam import service_role
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = service_role.AUTHORIZATION_PAGE
# the domain's English descriptions, marked here for the catalog (a unit test keeps them equal)
ROLE_DESCRIPTION = N_(
    "The stream computing service uses this role by default to access your resources in "
    "other services"
)
POLICY_DESCRIPTION = N_("The policy of the stream computing service's default role")


async def _status(request: Request, principal: principals.Principal) -> service_role.Status:
    platform = guard.platform_of(request)
    return await ram_shared.run(service_role.status, platform, principal.account_id)


@router.get(PAGE)
async def service_role_page(
    request: Request,
    checked: Annotated[bool, Query()] = False,
    principal: principals.Principal = guard.requires(operations.GET_SERVICE_ROLE),
) -> Response:
    current = await _status(request, principal)
    return ram_shared.render(
        request,
        "iam/service_role.html",
        "ram-service-role",
        current=current,
        checked=checked,
        role_url=ram_shared.path_of("roles", ram.SERVICE_ROLE),
        policy_url=ram_shared.path_of("policies", "Custom", ram.SERVICE_ROLE_POLICY),
    )


@router.get(PAGE + "/authorize")
async def authorize_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.GET_SERVICE_ROLE),
) -> Response:
    current = await _status(request, principal)
    return ram_shared.render(
        request,
        "iam/service_role_authorize.html",
        "ram-service-role",
        current=current,
        document=ram.SERVICE_ROLE_POLICY_DOCUMENT,
        role_description=ROLE_DESCRIPTION,
        policy_description=POLICY_DESCRIPTION,
    )


@router.post(PAGE + "/authorize")
async def agree(
    request: Request,
    principal: principals.Principal = guard.requires(operations.CREATE_SERVICE_ROLE),
) -> Response:
    """ "Agree": create the role, its policy and the attachment, whichever is missing."""
    platform = guard.platform_of(request)
    await ram_shared.run(service_role.authorize, platform, principal.account_id)
    return ram_shared.see_other(request, PAGE, "authorized")


@router.get(PAGE + "/reinitialize")
async def reinitialize_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.DELETE_SERVICE_ROLE),
) -> Response:
    """The confirmation step, with the guide's warning."""
    current = await _status(request, principal)
    return ram_shared.render(
        request, "iam/service_role_reinitialize.html", "ram-service-role", current=current
    )


@router.post(PAGE + "/reinitialize")
async def reinitialize(
    request: Request,
    principal: principals.Principal = guard.requires(operations.DELETE_SERVICE_ROLE),
) -> Response:
    platform = guard.platform_of(request)
    await ram_shared.run(service_role.reinitialize, platform, principal.account_id)
    return ram_shared.see_other(request, PAGE, "reinitialized")
