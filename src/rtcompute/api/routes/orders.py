"""Orders: buy shared CU or an exclusive cluster, pay, cancel; the operator approves."""

from __future__ import annotations

import anyio
from fastapi import APIRouter

from rtcompute.api import deps
from rtcompute.api.schemas import orders as schemas
from rtcompute.domain import catalog as catalog_domain
from rtcompute.domain import operations
from rtcompute.services.capacity import costs, orders
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store.tables import capacity as capacity_tables

router = APIRouter(
    prefix=f"{deps.API_PREFIX}/orders", tags=["orders"], responses=deps.ERROR_RESPONSES
)
ORDERS = "acs:stream:{region}:{account_id}:order/*"
ORDER = "acs:stream:{region}:{account_id}:order/{order_id}"
ANY_ORDER = "acs:stream:*:*:order/*"


def order_out(
    order: capacity_tables.Order, currency: str, hour_cents: int | None = None
) -> schemas.Order:
    """An order as the API answers it; `hour_cents`: a pay-as-you-go order's hourly rate."""
    return schemas.Order(
        id=order.id,
        region=order.region,
        mode=order.mode,
        billing=order.billing,
        purpose=order.purpose,
        target=order.target,
        cu=order.cu,
        master_type=order.master_type,
        master_count=order.master_count,
        slave_type=order.slave_type,
        slave_count=order.slave_count,
        months=order.months,
        amount=catalog_domain.money(order.amount_cents),
        amount_cents=order.amount_cents,
        currency=currency,
        hour=None if hour_cents is None else catalog_domain.money(hour_cents),
        hour_cents=hour_cents,
        state=order.state,
        consumed_by=order.consumed_by,
        created_by=order.created_by,
        created_at=order.created_at,
        paid_at=order.paid_at,
        consumed_at=order.consumed_at,
    )


async def orders_out(
    platform: platform_module.Platform, found: list[capacity_tables.Order]
) -> list[schemas.Order]:
    """Orders with the currency and, pay-as-you-go, the hourly rate the meter uses."""
    rates = await anyio.to_thread.run_sync(costs.hour_rates, platform, found)
    currency = platform.settings.billing.currency
    return [order_out(o, currency, rates.get(o.id)) for o in found]


async def one_out(
    platform: platform_module.Platform, order: capacity_tables.Order
) -> schemas.Order:
    return (await orders_out(platform, [order]))[0]


@router.post("", status_code=201, response_model=schemas.Order)
async def create_order(
    platform: deps.PlatformDep,
    body: schemas.OrderCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_ORDER),
) -> schemas.Order:
    """Place an order (pending payment); only the account itself buys, and only with
    `agree_to_terms: true` (the service agreement: `GET /api/v1/catalog/agreement`)."""
    purchase = orders.Purchase(**body.model_dump())
    order = await anyio.to_thread.run_sync(orders.place_order, platform, principal, purchase)
    return await one_out(platform, order)


@router.get("", response_model=list[schemas.Order])
async def list_orders(
    platform: deps.PlatformDep,
    unconsumed: bool = False,
    listing: deps.Listing = deps.requires(operations.LIST_ORDERS),
) -> list[schemas.Order]:
    """The account's orders, newest first; `unconsumed=true`: paid, not made into anything."""
    found = await anyio.to_thread.run_sync(
        lambda: orders.list_orders(platform, listing.principal.account_id, unconsumed=unconsumed)
    )
    return await orders_out(platform, await listing.visible(found, orders.resource_of))


@router.get("/counts", response_model=schemas.OrderCounts)
async def order_counts(
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.LIST_EVERY_ORDER),
) -> schemas.OrderCounts:
    """Paid orders waiting to become a project (shared) or a cluster (exclusive)."""
    counts = await anyio.to_thread.run_sync(
        orders.unconsumed_counts, platform, principal.account_id
    )
    return schemas.OrderCounts(**counts)


@router.get("/pending", response_model=list[schemas.Order])
async def pending_orders(
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.LIST_PENDING_ORDERS),
) -> list[schemas.Order]:
    """Every account's orders waiting for payment (operator)."""
    return await orders_out(platform, await anyio.to_thread.run_sync(orders.list_pending, platform))


@router.get("/{order_id}", response_model=schemas.Order)
async def get_order(
    platform: deps.PlatformDep,
    order_id: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_ORDER),
) -> schemas.Order:
    found = await anyio.to_thread.run_sync(
        orders.read_order, platform, principal.account_id, order_id
    )
    return await one_out(platform, found)


@router.post("/{order_id}/pay", response_model=schemas.Order)
async def pay_order(
    platform: deps.PlatformDep,
    order_id: str,
    principal: principals.Principal = deps.requires(operations.PAY_ORDER),
) -> schemas.Order:
    """Pay (auto payment); a renewal or scale takes effect at once."""
    return await one_out(
        platform, await anyio.to_thread.run_sync(orders.pay_order, platform, principal, order_id)
    )


@router.post("/{order_id}/cancel", response_model=schemas.Order)
async def cancel_order(
    platform: deps.PlatformDep,
    order_id: str,
    principal: principals.Principal = deps.requires(operations.CANCEL_ORDER),
) -> schemas.Order:
    return await one_out(
        platform,
        await anyio.to_thread.run_sync(
            orders.cancel_order, platform, principal.account_id, order_id
        ),
    )


@router.post("/{order_id}/approve", response_model=schemas.Order)
async def approve_order(
    platform: deps.PlatformDep,
    order_id: str,
    principal: principals.Principal = deps.requires(operations.APPROVE_ORDER),
) -> schemas.Order:
    """The operator confirms payment of an order of any account."""
    return await one_out(
        platform, await anyio.to_thread.run_sync(orders.approve_order, platform, order_id)
    )
