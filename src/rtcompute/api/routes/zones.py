"""Zones: the operator registers them with host capacity; every tenant may list them."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Response, status

from rtcompute.api import deps
from rtcompute.api.schemas import zones as schemas
from rtcompute.domain import operations
from rtcompute.services.capacity import zones
from rtcompute.services.kernel import principals

router = APIRouter(
    prefix=f"{deps.API_PREFIX}/zones", tags=["zones"], responses=deps.ERROR_RESPONSES
)
# zones belong to the installation; a tenant sees them as its own region's zones, so that
# an account passes and a RAM user needs `vpc:DescribeZones` like any other action
ZONES_SEEN = "acs:vpc:{region}:{account_id}:zone/*"
ZONE = "acs:vpc:{region}:*:zone/{zone}"
RegionQuery = Annotated[str | None, Query(max_length=32)]


def zone_out(zone: zones.ZoneView) -> schemas.Zone:
    return schemas.Zone(
        name=zone.name,
        region=zone.region,
        capacity=zone.capacity,
        used=zone.used,
        remaining=zone.remaining,
        created_at=zone.created_at,
        provider=zone.provider,
    )


@router.get("", response_model=list[schemas.Zone])
async def list_zones(
    platform: deps.PlatformDep,
    region: RegionQuery = None,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_ZONES),
) -> list[schemas.Zone]:
    """The region's zones: capacity, nodes placed (used) and what remains, by machine type."""
    found = await anyio.to_thread.run_sync(lambda: zones.list_zones(platform, region=region))
    return [zone_out(zone) for zone in found]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.Zone)
async def create_zone(
    platform: deps.PlatformDep,
    body: schemas.ZoneCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_ZONE),
) -> schemas.Zone:
    """Register a zone and how many nodes of each machine type it can hold (operator)."""
    zone = await anyio.to_thread.run_sync(
        lambda: zones.create_zone(
            platform, body.name, body.capacity, region=body.region, provider=body.provider
        )
    )
    return zone_out(zone)


@router.put("/{zone}", response_model=schemas.Zone)
async def update_zone(
    platform: deps.PlatformDep,
    zone: str,
    body: schemas.ZoneUpdate,
    region: RegionQuery = None,
    principal: principals.Principal = deps.requires(operations.UPDATE_ZONE),
) -> schemas.Zone:
    """Replace the zone's capacity; never below the nodes placed in it (operator)."""
    updated = await anyio.to_thread.run_sync(
        lambda: zones.update_zone(platform, zone, body.capacity, region=region)
    )
    return zone_out(updated)


@router.delete("/{zone}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_zone(
    platform: deps.PlatformDep,
    zone: str,
    region: RegionQuery = None,
    principal: principals.Principal = deps.requires(operations.DELETE_ZONE),
) -> Response:
    """Remove a zone no subnet, node or cluster uses (operator)."""
    await anyio.to_thread.run_sync(lambda: zones.delete_zone(platform, zone, region=region))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
