"""Purchase pages (guide: 开通服务): shared CU, and an exclusive cluster with the live calculator.

The forms ask the same questions as the guide's purchase pages; the price below them is
answered live (htmx, on every change) by the same rules that place the order, so a form
that shows a price is a form the service accepts, and a broken rule shows its message
before "Buy". The calculator turns QPS and complexity into CU (domain.sizing) and fills
the machine configuration with the cheapest mix for N CU, 3 masters when HA is asked.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, Response

from rtcompute import errors
from rtcompute.console import guard, views
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import catalog as catalog_domain
from rtcompute.domain import operations, sizing
from rtcompute.domain import orders as order_rules
from rtcompute.services.capacity import agreement, costs, machine_types, orders
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
BASE = "/console/purchase"
SHARED_PAGE = BASE + "/shared"
EXCLUSIVE_PAGE = BASE + "/exclusive"
Count = Annotated[str, Query(max_length=12)]
Field = Annotated[str, Query(max_length=32)]
FormCount = Annotated[str, Form(max_length=12)]
FormField = Annotated[str, Form(max_length=32)]


# what a checked "I accept the service agreement" box sends
AGREED = ("true", "on")


def number(value: str) -> int:
    """A count typed in a form: ASCII digits only, else 0 (the rules then say what is wrong;
    `isdigit` alone passes superscripts and other scripts' digits, which `int` refuses or
    reads as another number)."""
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else 0


def purchase_of(values: dict[str, str]) -> orders.Purchase:
    return orders.Purchase(
        mode=values.get("mode", ""),
        billing=values.get("billing") or order_rules.SUBSCRIPTION,
        region=values.get("region", ""),
        cu=number(values.get("cu", "")),
        months=number(values.get("months", "")) if values.get("billing") != "payg" else 0,
        master_type=values.get("master_type", ""),
        master_count=number(values.get("master_count", "")),
        slave_type=values.get("slave_type", ""),
        slave_count=number(values.get("slave_count", "")),
        agree_to_terms=values.get("agree", "") in AGREED,
    )


def quote_of(
    request: Request, catalog_: catalog_domain.Catalog, purchase: orders.Purchase
) -> dict[str, Any]:
    """The live price of a purchase, or the rules it breaks (in the page's language)."""
    problems = orders.problems(catalog_, purchase)
    if problems:
        language, _ = views.language_of(request)
        return {"problems": [problem.text(language) for problem in problems]}
    money = costs.currency(guard.platform_of(request)).amount
    amount = orders.price(catalog_, purchase)
    answer: dict[str, Any] = {"problems": [], "amount": money(amount), "months": purchase.months}
    if purchase.mode == order_rules.EXCLUSIVE:
        master = catalog_.find(catalog_domain.MASTER, purchase.master_type)
        slave = catalog_.find(catalog_domain.SLAVE, purchase.slave_type)
        assert master is not None and slave is not None and slave.cu is not None
        answer["usable_cu"] = slave.cu * purchase.slave_count
        answer["hour"] = money(
            order_rules.exclusive_hour_cents(
                master, purchase.master_count, slave, purchase.slave_count
            )
        )
        answer["payg"] = purchase.billing == order_rules.PAYG
    return answer


async def _catalog(request: Request, region: str = "") -> catalog_domain.Catalog:
    platform = guard.platform_of(request)
    try:
        return await shared.run(
            machine_types.read_catalog, platform, region or platform.settings.region
        )
    except errors.Invalid:
        return await shared.run(machine_types.read_catalog, platform, platform.settings.region)


async def _page(
    request: Request,
    mode: str,
    values: dict[str, str],
    status: int = 200,
    refused: shared.Refusal | None = None,
) -> Response:
    platform = guard.platform_of(request)
    regions = await shared.run(machine_types.list_regions, platform)
    catalog_ = await _catalog(request, values.get("region", ""))
    return shared.render(
        request,
        "capacity/purchase_shared.html"
        if mode == order_rules.SHARED
        else "capacity/purchase_exclusive.html",
        "orders",
        status,
        values=values,
        regions=regions,
        region=values.get("region") or platform.settings.region,
        catalog=catalog_,
        masters=catalog_.of_role(catalog_domain.MASTER),
        slaves=catalog_.of_role(catalog_domain.SLAVE),
        price=quote_of(request, catalog_, purchase_of({**values, "mode": mode})),
        refused=refused,
        max_months=order_rules.MAX_MONTHS,
    )


SHARED_DEFAULTS = {"cu": "2", "months": "1", "billing": order_rules.SUBSCRIPTION}
EXCLUSIVE_DEFAULTS = {
    "billing": order_rules.SUBSCRIPTION,
    "master_type": "4c16g",
    "master_count": "1",
    "slave_type": "4c16g",
    "slave_count": "2",
    "months": "1",
}


@router.get(SHARED_PAGE)
async def shared_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_CATALOG),
) -> Response:
    return await _page(request, order_rules.SHARED, dict(SHARED_DEFAULTS))


@router.get(EXCLUSIVE_PAGE)
async def exclusive_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_CATALOG),
) -> Response:
    return await _page(request, order_rules.EXCLUSIVE, dict(EXCLUSIVE_DEFAULTS))


async def _buy(
    request: Request, principal: principals.Principal, mode: str, values: dict[str, str]
) -> Response:
    platform = guard.platform_of(request)
    purchase = purchase_of({**values, "mode": mode})
    try:
        order = await shared.run(orders.place_order, platform, principal, purchase)
    except (errors.Invalid, errors.Forbidden) as exc:
        refused = shared.refusal(request, exc)
        return await _page(request, mode, values, refused.status, refused)
    return shared.see_other(request, shared.path_of("/console/orders", order.id), "ordered")


@router.post(SHARED_PAGE)
async def buy_shared(
    request: Request,
    cu: FormCount = "",
    months: FormCount = "",
    region: FormField = "",
    agree: FormField = "",
    principal: principals.Principal = guard.requires(operations.CREATE_ORDER),
) -> Response:
    values = {"cu": cu, "months": months, "region": region, "agree": agree}
    return await _buy(request, principal, order_rules.SHARED, values)


@router.post(EXCLUSIVE_PAGE)
async def buy_exclusive(
    request: Request,
    billing: FormField = order_rules.SUBSCRIPTION,
    region: FormField = "",
    master_type: FormField = "",
    master_count: FormCount = "",
    slave_type: FormField = "",
    slave_count: FormCount = "",
    months: FormCount = "",
    agree: FormField = "",
    principal: principals.Principal = guard.requires(operations.CREATE_ORDER),
) -> Response:
    values = {
        "agree": agree,
        "billing": billing,
        "region": region,
        "master_type": master_type,
        "master_count": master_count,
        "slave_type": slave_type,
        "slave_count": slave_count,
        "months": months,
    }
    return await _buy(request, principal, order_rules.EXCLUSIVE, values)


@router.get(BASE + "/agreement")
async def agreement_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_CATALOG),
) -> Response:
    """The service agreement the purchase forms ask to accept (the operator's, or the
    default text)."""
    text = await shared.run(agreement.agreement_text, guard.platform_of(request))
    return shared.render(request, "capacity/agreement.html", "orders", text=text)


@router.get(BASE + "/price")
async def live_price(
    request: Request,
    mode: Field = order_rules.SHARED,
    billing: Field = order_rules.SUBSCRIPTION,
    region: Field = "",
    cu: Count = "",
    months: Count = "",
    master_type: Field = "",
    master_count: Count = "",
    slave_type: Field = "",
    slave_count: Count = "",
    principal: principals.Principal = guard.requires(operations.DESCRIBE_CATALOG),
) -> Response:
    """The price fragment under the purchase forms (htmx, on every change)."""
    values = {
        "mode": mode,
        "billing": billing,
        "region": region,
        "cu": cu,
        "months": months,
        "master_type": master_type,
        "master_count": master_count,
        "slave_type": slave_type,
        "slave_count": slave_count,
    }
    catalog_ = await _catalog(request, region)
    price = quote_of(request, catalog_, purchase_of(values))
    return shared.render(request, "capacity/purchase_price.html", "orders", price=price)


@router.get(BASE + "/sizing")
async def size_cu(
    request: Request,
    qps: Count = "",
    complexity: Literal["simple", "complex"] = "simple",
    principal: principals.Principal = guard.requires(operations.DESCRIBE_CATALOG),
) -> Response:
    """CU from QPS and complexity (guide: simple 10,000 records/s per CU, complex 1,000-5,000)."""
    try:
        estimate = sizing.cu_for_qps(number(qps), complexity)
    except errors.Invalid as exc:
        problem = views.error_message(request, exc)
        return shared.render(request, "capacity/purchase_sizing.html", "orders", problem=problem)
    language, _ = views.language_of(request)
    return shared.render(
        request,
        "capacity/purchase_sizing.html",
        "orders",
        estimate=estimate,
        reasoning=estimate.reasoning_in(language),
    )


@router.get(BASE + "/quote")
async def cheapest_mix(
    request: Request,
    quote_cu: Count = "",
    ha: bool = False,
    billing: Field = order_rules.SUBSCRIPTION,
    months: Count = "1",
    region: Field = "",
    principal: principals.Principal = guard.requires(operations.DESCRIBE_CATALOG),
) -> Response:
    """The cheapest mix for N CU: the machine configuration, filled, and its price."""
    catalog_ = await _catalog(request, region)
    values = {"billing": billing, "months": months, "region": region}
    try:
        found = sizing.quote(number(quote_cu), ha, catalog_)
    except errors.Invalid as exc:
        problem = views.error_message(request, exc)
        return shared.render(request, "capacity/purchase_sizing.html", "orders", problem=problem)
    values |= {
        "master_type": found.master.name,
        "master_count": str(found.master_count),
        "slave_type": found.slave.name,
        "slave_count": str(found.slave_count),
    }
    return shared.render(
        request,
        "capacity/purchase_machines.html",
        "orders",
        values=values,
        masters=catalog_.of_role(catalog_domain.MASTER),
        slaves=catalog_.of_role(catalog_domain.SLAVE),
        quote=found,
        asked_cu=number(quote_cu),
        quote_month=costs.currency(guard.platform_of(request)).amount(found.month_cents),
        price=quote_of(request, catalog_, purchase_of({**values, "mode": order_rules.EXCLUSIVE})),
        oob=True,
    )
