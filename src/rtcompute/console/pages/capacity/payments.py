"""The operator's payment step: every account's orders pending payment, approved one by one.

With `RTC_BILLING__PAYMENT=operator` a tenant's order waits here until the operator confirms
the payment (the same actions as `GET /api/v1/orders/pending` and `POST .../approve`); with
`auto` the list is the orders tenants have not paid yet.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from rtcompute import errors
from rtcompute.console import guard
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import catalog as catalog_domain
from rtcompute.domain import operations
from rtcompute.services.capacity import orders
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = "/console/payments"
ANY_ORDER = "acs:stream:*:*:order/*"


def any_order(*_: object) -> str:
    return ANY_ORDER


async def _page(
    request: Request, status: int = 200, refused: shared.Refusal | None = None
) -> Response:
    platform = guard.platform_of(request)
    pending = await shared.run(orders.list_pending, platform)
    return shared.render(
        request,
        "capacity/payments.html",
        "payments",
        status,
        orders=pending,
        money=catalog_domain.money,
        auto_payment=platform.settings.payment == "auto",
        refused=refused,
    )


@router.get(PAGE)
async def payments_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.LIST_PENDING_ORDERS),
) -> Response:
    del principal
    return await _page(request)


@router.post(PAGE + "/{order_id}/approve")
async def approve(
    request: Request,
    order_id: shared.OrderId,
    principal: principals.Principal = guard.requires(operations.APPROVE_ORDER),
) -> Response:
    del principal
    platform = guard.platform_of(request)
    try:
        await shared.run(orders.approve_order, platform, order_id)
    except (errors.Conflict, errors.NotFound) as exc:
        refused = shared.refusal(request, exc)
        return await _page(request, refused.status, refused)
    return shared.see_other(request, PAGE, "paid")
