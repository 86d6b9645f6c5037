"""The catalog (machine types, prices, regions) and the sizing helpers."""

from __future__ import annotations

from typing import Literal

import anyio
from fastapi import APIRouter, Query, Request

from rtcompute.api import deps
from rtcompute.api.schemas import orders as schemas
from rtcompute.domain import catalog as catalog_domain
from rtcompute.domain import operations, sizing
from rtcompute.services.capacity import agreement, machine_types
from rtcompute.services.kernel import principals

router = APIRouter(prefix=deps.API_PREFIX, tags=["catalog"], responses=deps.ERROR_RESPONSES)
CATALOG = "acs:stream:{region}:{account_id}:catalog"
ANY_CATALOG = "acs:rtc::*:catalog"
money = catalog_domain.money


def machine_type_out(machine_type: catalog_domain.MachineType) -> schemas.MachineType:
    return schemas.MachineType(
        role=machine_type.role,
        name=machine_type.name,
        cores=machine_type.cores,
        memory_gb=machine_type.memory_gb,
        cu=machine_type.cu,
        month=money(machine_type.month_cents),
        hour=money(machine_type.hour_cents),
        month_cents=machine_type.month_cents,
        hour_cents=machine_type.hour_cents,
    )


def region_out(region: machine_types.RegionInfo) -> schemas.Region:
    return schemas.Region(
        name=region.name,
        display_name=region.display_name,
        shared_cu_month=money(region.shared_cu_month_cents),
        shared_cu_month_cents=region.shared_cu_month_cents,
    )


@router.get("/catalog", response_model=schemas.Catalog)
async def read_catalog(
    platform: deps.PlatformDep,
    region: str = Query(default="", max_length=32),
    principal: principals.Principal = deps.requires(operations.DESCRIBE_CATALOG),
) -> schemas.Catalog:
    """Machine types (slave: usable CU; master: the cluster's maximum CU), prices, regions."""
    name = region or platform.settings.region
    found = await anyio.to_thread.run_sync(machine_types.read_catalog, platform, name)
    regions = await anyio.to_thread.run_sync(machine_types.list_regions, platform)
    return schemas.Catalog(
        region=name,
        currency=platform.settings.billing.currency,
        regions=[region_out(r) for r in regions],
        machine_types=[machine_type_out(t) for t in found.machine_types],
    )


@router.get("/catalog/agreement", response_model=schemas.Agreement)
async def read_agreement(
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_CATALOG),
) -> schemas.Agreement:
    """The service agreement a buyer accepts (`agree_to_terms` of an order)."""
    text = await anyio.to_thread.run_sync(agreement.agreement_text, platform)
    return schemas.Agreement(text=text)


@router.put("/catalog/regions/{region}", response_model=schemas.Region)
async def update_region(
    platform: deps.PlatformDep,
    region: str,
    body: schemas.RegionUpdate,
    principal: principals.Principal = deps.requires(operations.UPDATE_CATALOG),
) -> schemas.Region:
    """Add a region or change its shared CU price (operator)."""
    found = await anyio.to_thread.run_sync(
        lambda: machine_types.update_region(
            platform,
            region,
            display_name=body.display_name,
            shared_cu_month_cents=body.shared_cu_month_cents,
        )
    )
    return region_out(found)


@router.put("/catalog/machine-types/{role}/{name}", response_model=schemas.MachineType)
async def update_machine_type(
    platform: deps.PlatformDep,
    role: str,
    name: str,
    body: schemas.MachineTypeUpdate,
    principal: principals.Principal = deps.requires(operations.UPDATE_CATALOG),
) -> schemas.MachineType:
    """Add a machine type or change its CU figure and prices (operator)."""
    found = await anyio.to_thread.run_sync(
        lambda: machine_types.update_machine_type(
            platform,
            role,
            name,
            cu=body.cu,
            month_cents=body.month_cents,
            hour_cents=body.hour_cents,
        )
    )
    return machine_type_out(found)


@router.get("/sizing/cu", response_model=schemas.CuEstimate)
async def size_cu(
    request: Request,
    qps: int = Query(ge=1, le=sizing.MAX_QPS),
    complexity: Literal["simple", "complex"] = "simple",
    principal: principals.Principal = deps.requires(operations.DESCRIBE_CATALOG),
) -> schemas.CuEstimate:
    """The guide's rule: simple jobs 10,000 records/s per CU, complex 1,000-5,000; the
    reasoning in the Accept-Language language (English or Chinese), as errors."""
    estimate = sizing.cu_for_qps(qps, complexity)
    return schemas.CuEstimate(
        qps=qps,
        complexity=complexity,
        low=estimate.low,
        high=estimate.high,
        reasoning=estimate.reasoning_in(deps.language(request)),
    )


@router.get("/sizing/quote", response_model=schemas.Quote)
async def size_quote(
    platform: deps.PlatformDep,
    cu: int = Query(ge=1, le=sizing.MAX_QUOTE_CU),
    ha: bool = False,
    region: str = Query(default="", max_length=32),
    principal: principals.Principal = deps.requires(operations.DESCRIBE_CATALOG),
) -> schemas.Quote:
    """The cheapest machine mix with at least `cu` usable CU (3 masters with `ha`)."""
    found = await anyio.to_thread.run_sync(
        machine_types.read_catalog, platform, region or platform.settings.region
    )
    quote = sizing.quote(cu, ha, found)
    return schemas.Quote(
        cu=cu,
        ha=ha,
        slave_type=quote.slave.name,
        slave_count=quote.slave_count,
        master_type=quote.master.name,
        master_count=quote.master_count,
        usable_cu=quote.usable_cu,
        currency=platform.settings.billing.currency,
        month=money(quote.month_cents),
        hour=money(quote.hour_cents),
        month_cents=quote.month_cents,
        hour_cents=quote.hour_cents,
    )
