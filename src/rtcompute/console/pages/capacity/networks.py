"""Networks and subnets (the guide's VPC and VSwitch): create, delete, free addresses.

A cluster takes one address per node from a subnet, and a subnet lies in one of the zones
the operator registered, so the network's page shows each subnet's free addresses and the
zones with their remaining capacity: what the cluster wizard's step 3 will offer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from rtcompute import errors
from rtcompute.console import guard
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import operations
from rtcompute.services.capacity import networks, zones
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = "/console/networks"
NETWORK_PAGE = PAGE + "/{network}"
REFUSED = (errors.Invalid, errors.Conflict, errors.NotFound, errors.QuotaExceeded)


async def _list(
    request: Request,
    principal: principals.Principal,
    status: int = 200,
    refused: shared.Refusal | None = None,
    values: dict[str, str] | None = None,
    listing: guard.Listing | None = None,
) -> Response:
    """The networks: all, or (given a `listing` of some) those the caller may see one by one."""
    platform = guard.platform_of(request)
    found = await shared.run(networks.list_networks, platform, principal.account_id)
    if listing is not None:
        found = await listing.visible(found, lambda network: network.arn)
    zone_list = await shared.run(lambda: zones.list_zones(platform))
    return shared.render(
        request,
        "capacity/networks.html",
        "networks",
        status,
        networks=found,
        zones=zone_list,
        region=platform.settings.region,
        refused=refused,
        values=values or {},
    )


@router.get(PAGE)
async def networks_page(
    request: Request,
    listing: guard.Listing = guard.requires(operations.DESCRIBE_VPCS),
) -> Response:
    return await _list(request, listing.principal, listing=listing)


@router.post(PAGE)
async def create_network(
    request: Request,
    name: shared.NameField,
    cidr: shared.NameField,
    description: shared.TextField = "",
    principal: principals.Principal = guard.requires(operations.CREATE_VPC),
) -> Response:
    platform = guard.platform_of(request)
    try:
        created = await shared.run(
            lambda: networks.create_network(
                platform, principal, name.strip(), cidr.strip(), description=description.strip()
            )
        )
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        values = {"name": name, "cidr": cidr, "description": description}
        return await _list(request, principal, refused.status, refused, values)
    return shared.see_other(request, shared.path_of(PAGE, created.name), "created")


async def _network(
    request: Request,
    principal: principals.Principal,
    name: str,
    status: int = 200,
    refused: shared.Refusal | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    platform = guard.platform_of(request)
    found = await shared.run(networks.describe_network, platform, principal.account_id, name)
    subnets = await shared.run(networks.list_subnets, platform, principal.account_id, name)
    zone_list = await shared.run(lambda: zones.list_zones(platform))
    context: dict[str, Any] = {
        "network": found,
        "subnets": subnets,
        "zones": zone_list,
        "region": platform.settings.region,
        "refused": refused,
        "values": values or {},
    }
    return shared.render(request, "capacity/network.html", "networks", status, **context)


@router.get(NETWORK_PAGE)
async def network_page(
    request: Request,
    network: shared.Name,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_VPC),
) -> Response:
    return await _network(request, principal, network)


@router.post(NETWORK_PAGE + "/delete")
async def delete_network(
    request: Request,
    network: shared.Name,
    principal: principals.Principal = guard.requires(operations.DELETE_VPC),
) -> Response:
    platform = guard.platform_of(request)
    try:
        await shared.run(networks.delete_network, platform, principal.account_id, network)
    except errors.Conflict as exc:
        refused = shared.refusal(request, exc)
        return await _network(request, principal, network, refused.status, refused)
    return shared.see_other(request, PAGE, "deleted")


@router.post(NETWORK_PAGE + "/subnets")
async def create_subnet(
    request: Request,
    network: shared.Name,
    name: shared.NameField,
    cidr: shared.NameField,
    zone: shared.NameField = "",
    principal: principals.Principal = guard.requires(operations.CREATE_V_SWITCH),
) -> Response:
    platform = guard.platform_of(request)
    try:
        await shared.run(
            networks.create_subnet,
            platform,
            principal.account_id,
            network,
            name.strip(),
            cidr.strip(),
            zone,
        )
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        values = {"name": name, "cidr": cidr, "zone": zone}
        return await _network(request, principal, network, refused.status, refused, values)
    return shared.see_other(request, shared.path_of(PAGE, network), "created")


@router.post(NETWORK_PAGE + "/subnets/{subnet}/delete")
async def delete_subnet(
    request: Request,
    network: shared.Name,
    subnet: shared.Name,
    principal: principals.Principal = guard.requires(operations.DELETE_V_SWITCH),
) -> Response:
    platform = guard.platform_of(request)
    try:
        await shared.run(networks.delete_subnet, platform, principal.account_id, network, subnet)
    except errors.Conflict as exc:
        refused = shared.refusal(request, exc)
        return await _network(request, principal, network, refused.status, refused)
    return shared.see_other(request, shared.path_of(PAGE, network), "deleted")
