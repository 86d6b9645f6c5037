"""Orders: the list, one order's page with "Pay" and "Cancel" (guide: 去支付).

Payment is the platform's pluggable step: with `payment=auto` the tenant's "Pay" marks the
order paid; with `operator` the page says the operator approves it. A paid new order links
to where it is used (create a project or a cluster); a paid renewal or scale has already
taken effect and links back to its target.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from rtcompute import errors
from rtcompute.console import guard
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import operations
from rtcompute.domain import orders as order_rules
from rtcompute.services.capacity import costs, orders
from rtcompute.services.kernel import principals
from rtcompute.store.tables import capacity as capacity_tables

router = APIRouter(include_in_schema=False)
PAGE = "/console/orders"
ORDER_PAGE = PAGE + "/{order_id}"


def next_step(order: capacity_tables.Order) -> tuple[str, str] | None:
    """Where a paid order is used next: (path, label key)."""
    if order.state != order_rules.PAID or order.purpose != order_rules.NEW:
        return None
    if order.mode == order_rules.SHARED:
        return (f"/console/shared-projects/new?order={order.id}", "project")
    return (f"/console/exclusive-clusters/new?order={order.id}", "cluster")


def target_page(order: capacity_tables.Order) -> str | None:
    if not order.target:
        return None
    if order.mode == order_rules.SHARED:
        return shared.path_of("/console/projects", order.target)
    return shared.path_of("/console/clusters", order.target)


@router.get(PAGE)
async def orders_page(
    request: Request,
    listing: guard.Listing = guard.requires(operations.LIST_ORDERS),
) -> Response:
    """The orders: all, or those the caller's policies name one by one."""
    platform = guard.platform_of(request)
    found = await shared.run(orders.list_orders, platform, listing.principal.account_id)
    found = await listing.visible(found, orders.resource_of)
    rates = await shared.run(costs.hour_rates, platform, found)
    return shared.render(
        request,
        "capacity/orders.html",
        "orders",
        orders=found,
        money=costs.currency(platform).amount,
        hour_rates=rates,
    )


@router.get(ORDER_PAGE)
async def order_page(
    request: Request,
    order_id: shared.OrderId,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_ORDER),
) -> Response:
    platform = guard.platform_of(request)
    order = await shared.run(orders.read_order, platform, principal.account_id, order_id)
    return await _order(request, order)


async def _order(
    request: Request,
    order: capacity_tables.Order,
    status: int = 200,
    refused: shared.Refusal | None = None,
) -> Response:
    platform = guard.platform_of(request)
    return shared.render(
        request,
        "capacity/order.html",
        "orders",
        status,
        order=order,
        money=costs.currency(platform).amount,
        hour_rates=await shared.run(costs.hour_rates, platform, [order]),
        next_step=next_step(order),
        target_page=target_page(order),
        auto_payment=platform.settings.payment == "auto",
        refused=refused,
    )


@router.post(ORDER_PAGE + "/pay")
async def pay(
    request: Request,
    order_id: shared.OrderId,
    principal: principals.Principal = guard.requires(operations.PAY_ORDER),
) -> Response:
    platform = guard.platform_of(request)
    try:
        await shared.run(orders.pay_order, platform, principal, order_id)
    except (errors.Conflict, errors.Forbidden) as exc:
        order = await shared.run(orders.read_order, platform, principal.account_id, order_id)
        refused = shared.refusal(request, exc)
        return await _order(request, order, refused.status, refused)
    return shared.see_other(request, shared.path_of(PAGE, order_id), "paid")


@router.post(ORDER_PAGE + "/cancel")
async def cancel(
    request: Request,
    order_id: shared.OrderId,
    principal: principals.Principal = guard.requires(operations.CANCEL_ORDER),
) -> Response:
    platform = guard.platform_of(request)
    try:
        await shared.run(orders.cancel_order, platform, principal.account_id, order_id)
    except errors.Conflict as exc:
        order = await shared.run(orders.read_order, platform, principal.account_id, order_id)
        refused = shared.refusal(request, exc)
        return await _order(request, order, refused.status, refused)
    return shared.see_other(request, shared.path_of(PAGE, order_id), "cancelled")
