"""The operator's hosts: the machines joined to the installation, per hosts zone, with the
join tokens that bring new ones in (docs/hosts.md).

Same actions as `api/routes/hosts.py`: list, drain or put back in service, remove, create a
join token. A token's secret is shown once, on the answer to the form that made it (never
in a redirect's address, never stored in the page's history: `no-store`), with the command
to run on the machine. The server address in that command is the installation's public URL
when the operator set one (`RTC_PUBLIC_URL`), else the address this page was reached at.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from rtcompute import errors
from rtcompute.console import guard, views
from rtcompute.console.i18n import N_
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import hosts as host_rules
from rtcompute.domain import operations
from rtcompute.services.capacity import hosts, zones
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = "/console/hosts"
HOST_PAGE = PAGE + "/{host}"
REFUSED = (errors.Invalid, errors.Conflict, errors.NotFound)
# the form offers hours; the service checks the seconds (60 s to 7 days)
TokenHours = Annotated[int, Form(ge=1, le=host_rules.MAX_TOKEN_SECONDS // 3600)]

NOTICES = views.Notices(
    {
        "drained": N_("The host is draining: no new node claims it; what runs there stays."),
        "resumed": N_("The host is back in service: new nodes may claim it."),
        "removed": N_("The host is removed: its agent's key stops working at once."),
    }
)


def server_of(request: Request) -> str:
    """The address the agent reaches the platform at: the public URL, else this page's."""
    configured = guard.platform_of(request).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


async def _page(
    request: Request,
    status: int = 200,
    refused: shared.Refusal | None = None,
    created: hosts.CreatedToken | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    platform = guard.platform_of(request)
    every = await shared.run(lambda: hosts.list_hosts(platform))
    zone_list = await shared.run(lambda: zones.list_zones(platform))
    hosts_zones = [zone for zone in zone_list if zone.provider == host_rules.HOSTS]
    by_zone: dict[str, list[hosts.HostView]] = {zone.name: [] for zone in hosts_zones}
    for host in every:
        by_zone.setdefault(host.zone, []).append(host)
    context: dict[str, Any] = {
        "active": "hosts",
        "notice": NOTICES.of(request),
        "by_zone": by_zone,
        "hosts_zones": hosts_zones,
        "region": platform.settings.region,
        "refused": refused,
        "created": created,
        "command": f"rtc agent --server {server_of(request)} --token {created.token}"
        if created
        else "",
        "values": values or {},
        "max_hours": host_rules.MAX_TOKEN_SECONDS // 3600,
    }
    headers = {"Cache-Control": "no-store"} if created else None
    return views.render(request, "capacity/hosts.html", context, status=status, headers=headers)


@router.get(PAGE)
async def hosts_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.LIST_HOSTS),
) -> Response:
    del principal
    return await _page(request)


@router.post(PAGE + "/join-tokens")
async def create_join_token(
    request: Request,
    zone: shared.NameField,
    hours: TokenHours = 1,
    principal: principals.Principal = guard.requires(operations.CREATE_HOST_JOIN_TOKEN),
) -> Response:
    platform = guard.platform_of(request)
    try:
        created = await shared.run(
            lambda: hosts.create_join_token(
                platform, zone, ttl_seconds=hours * 3600, created_by=principal.display
            )
        )
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        values = {"zone": zone, "hours": str(hours)}
        return await _page(request, refused.status, refused, values=values)
    return await _page(request, 201, created=created, values={"zone": zone})


async def _set_draining(request: Request, host: str, draining: bool) -> Response:
    platform = guard.platform_of(request)
    try:
        await shared.run(hosts.set_draining, platform, host, draining)
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        return await _page(request, refused.status, refused)
    return NOTICES.see_other(request, PAGE, "drained" if draining else "resumed")


@router.post(HOST_PAGE + "/drain")
async def drain(
    request: Request,
    host: shared.Name,
    principal: principals.Principal = guard.requires(operations.UPDATE_HOST),
) -> Response:
    del principal
    return await _set_draining(request, host, True)


@router.post(HOST_PAGE + "/resume")
async def resume(
    request: Request,
    host: shared.Name,
    principal: principals.Principal = guard.requires(operations.UPDATE_HOST),
) -> Response:
    """Put a drained host back in service."""
    del principal
    return await _set_draining(request, host, False)


@router.post(HOST_PAGE + "/delete")
async def remove(
    request: Request,
    host: shared.Name,
    principal: principals.Principal = guard.requires(operations.DELETE_HOST),
) -> Response:
    del principal
    platform = guard.platform_of(request)
    try:
        await shared.run(hosts.remove_host, platform, host)
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        return await _page(request, refused.status, refused)
    return NOTICES.see_other(request, PAGE, "removed")
