"""The operator's zones: register a zone backed by this machine (`local`, with how many nodes
of each machine type it holds) or by joined hosts (`hosts`: its capacity is its hosts).

Same actions as `api/routes/zones.py`. The list is what every tenant sees of the zones (the
networks page shows it too), but this page is where the installation is run, so it asks for
the operator's own action as well (`rtc:CreateZone`): a tenant is refused the page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from rtcompute import errors
from rtcompute.console import guard, views
from rtcompute.console.i18n import N_
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import hosts as host_rules
from rtcompute.domain import operations
from rtcompute.services.capacity import machine_types, zones
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = "/console/zones"
CAPACITY_FIELD = "capacity-"  # one number field per machine type: capacity-4c16g
REFUSED = (errors.Invalid, errors.Conflict, errors.NotFound)

NOTICES = views.Notices({"created": N_("Zone created."), "deleted": N_("Zone deleted.")})


def type_names(platform: platform_module.Platform, region: str) -> list[str]:
    """The machine types a local zone's capacity counts, each once, in the catalog's order."""
    found = machine_types.read_catalog(platform, region).machine_types
    return list(dict.fromkeys(machine_type.name for machine_type in found))


async def _page(
    request: Request,
    status: int = 200,
    refused: shared.Refusal | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    platform = guard.platform_of(request)
    region = platform.settings.region
    zone_list = await shared.run(lambda: zones.list_zones(platform))
    types = await shared.run(type_names, platform, region)
    context: dict[str, Any] = {
        "active": "zones",
        "notice": NOTICES.of(request),
        "zones": zone_list,
        "types": types,
        "region": region,
        "capacity_field": CAPACITY_FIELD,
        "refused": refused,
        "values": values or {},
    }
    return views.render(request, "capacity/zones.html", context, status=status)


@router.get(PAGE)
async def zones_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_ZONES),
) -> Response:
    await guard.require(request, principal, operations.CREATE_ZONE, name="*")
    return await _page(request)


def capacity_of(form: Any, types: list[str]) -> dict[str, object]:
    """The capacity typed in the form: a number per machine type (empty: none); what is not
    a whole number goes to the service as typed, which says what is wrong."""
    capacity: dict[str, object] = {}
    for name in types:
        typed = form.get(CAPACITY_FIELD + name)
        if not isinstance(typed, str) or not typed.strip():
            continue
        text = typed.strip()[:16]
        try:
            capacity[name] = int(text)
        except ValueError:
            capacity[name] = text
    return capacity


@router.post(PAGE)
async def create_zone(
    request: Request,
    name: shared.NameField,
    provider: shared.NameField = host_rules.LOCAL,
    principal: principals.Principal = guard.requires(operations.CREATE_ZONE),
) -> Response:
    del principal
    platform = guard.platform_of(request)
    form = await request.form()
    types = await shared.run(type_names, platform, platform.settings.region)
    capacity = capacity_of(form, types) if provider == host_rules.LOCAL else {}
    try:
        await shared.run(
            lambda: zones.create_zone(platform, name.strip(), capacity, provider=provider)
        )
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        values = {"name": name, "provider": provider}
        values |= {CAPACITY_FIELD + t: str(form.get(CAPACITY_FIELD + t) or "")[:16] for t in types}
        return await _page(request, refused.status, refused, values)
    return NOTICES.see_other(request, PAGE, "created")


@router.post(PAGE + "/{zone}/delete")
async def delete_zone(
    request: Request,
    zone: shared.Name,
    principal: principals.Principal = guard.requires(operations.DELETE_ZONE),
) -> Response:
    del principal
    platform = guard.platform_of(request)
    try:
        await shared.run(lambda: zones.delete_zone(platform, zone))
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        return await _page(request, refused.status, refused)
    return NOTICES.see_other(request, PAGE, "deleted")
