"""The RAM overview (guide: 概览 > 账号管理): counts against limits and the users' login URL.

RAM users sign in at the account's own address, `/login/<alias>`; the page shows it as a full
URL, built from the address this page was asked for, like the sign-in page does.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from rtcompute.console import guard
from rtcompute.console.i18n import N_
from rtcompute.console.pages.iam import shared as ram_shared
from rtcompute.domain import operations, ram
from rtcompute.services.iam import overview as ram_overview
from rtcompute.services.iam import service_role
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)

# (label, count field, limit, page)
ROWS = (
    (N_("Users"), "users", ram.MAX_USERS, "users"),
    (N_("Groups"), "groups", ram.MAX_GROUPS, "groups"),
    (N_("Custom policies"), "custom_policies", ram.MAX_CUSTOM_POLICIES, "policies"),
    (N_("Roles"), "roles", ram.MAX_ROLES, "roles"),
)


def login_url(request: Request, alias: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/login/{quote(alias, safe='')}"


@router.get(ram_shared.BASE)
async def overview_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.GET_ACCOUNT_SUMMARY),
) -> Response:
    platform = guard.platform_of(request)
    counts = await ram_shared.run(ram_overview.counts, platform, principal.account_id)
    may = await guard.may(request, principal, {"service_role": operations.GET_SERVICE_ROLE})
    authorized = None
    if may["service_role"]:
        current = await ram_shared.run(service_role.status, platform, principal.account_id)
        authorized = current.authorized
    rows = [(label, getattr(counts, field), limit, page) for label, field, limit, page in ROWS]
    return ram_shared.render(
        request,
        "iam/overview.html",
        "ram",
        rows=rows,
        login_url=login_url(request, principal.account_alias),
        authorized=authorized,
        limits={
            "groups_per_user": ram.MAX_GROUPS_PER_USER,
            "system_attachments": ram.MAX_SYSTEM_ATTACHMENTS,
            "custom_attachments": ram.MAX_CUSTOM_ATTACHMENTS,
            "versions": ram.MAX_POLICY_VERSIONS,
        },
    )
