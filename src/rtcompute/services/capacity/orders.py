"""Orders: buy shared CU or an exclusive cluster, renew, scale; pay; consume.

Payment is a pluggable step (settings.billing.payment): `auto` pays when the tenant pays
(development), `operator` waits for the operator's approval. Paying a renewal or a scale
applies it in the same transaction, so a paid order and its effect never part.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from rtcompute import errors
from rtcompute.domain import catalog as catalog_domain
from rtcompute.domain import orders as order_rules
from rtcompute.domain import resources
from rtcompute.services.capacity import clusters as cluster_service
from rtcompute.services.capacity import machine_types, order_use
from rtcompute.services.capacity import projects as project_service
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import db
from rtcompute.store import orders as order_store
from rtcompute.store.tables import capacity as capacity_tables

Order = capacity_tables.Order


@dataclass(frozen=True)
class Purchase:
    """What a tenant asks to buy (a new project's CU or a new cluster)."""

    mode: str
    billing: str = order_rules.SUBSCRIPTION
    region: str = ""
    cu: int = 0
    months: int = 0
    master_type: str = ""
    master_count: int = 0
    slave_type: str = ""
    slave_count: int = 0
    # the buyer accepted the service agreement (guide: 勾选服务协议); an order is refused
    # without it
    agree_to_terms: bool = False


def _new_id(now: datetime) -> str:
    return f"{now:%Y%m%d}{secrets.randbelow(10**8):08d}"


def problems(catalog_: catalog_domain.Catalog, purchase: Purchase) -> list[order_rules.Problem]:
    """Every purchase rule a new purchase breaks; none when it can be priced."""
    if purchase.mode == order_rules.SHARED:
        found = order_rules.shared_problems(purchase.cu, purchase.months)
        if purchase.billing != order_rules.SUBSCRIPTION:
            found.append(
                order_rules.Problem(
                    "shared mode is sold by subscription only", "共享模式只按包年包月出售"
                )
            )
        return found
    if purchase.mode != order_rules.EXCLUSIVE:
        modes = ", ".join(order_rules.MODES)
        return [order_rules.Problem(f"mode must be one of {modes}", f"模式须为 {modes} 之一")]
    found = order_rules.exclusive_problems(
        catalog_,
        purchase.master_type,
        purchase.master_count,
        purchase.slave_type,
        purchase.slave_count,
    )
    if purchase.billing == order_rules.SUBSCRIPTION:
        return order_rules.check_months(purchase.months) + found
    if purchase.billing == order_rules.PAYG:
        if purchase.months:
            no_months = order_rules.Problem(
                "pay-as-you-go orders have no months: they are metered hourly",
                "按量付费的订单没有购买时长：按小时计费",
            )
            return [no_months, *found]
        return found
    billings = ", ".join(order_rules.BILLINGS)
    return [
        order_rules.Problem(f"billing must be one of {billings}", f"付费方式须为 {billings} 之一"),
        *found,
    ]


def price(catalog_: catalog_domain.Catalog, purchase: Purchase) -> int:
    """The amount of a new purchase; validates it first (Invalid names every broken rule)."""
    found = problems(catalog_, purchase)
    if found:
        raise order_rules.refusal(found)
    if purchase.mode == order_rules.SHARED:
        return order_rules.shared_amount(
            catalog_.shared_cu_month_cents, purchase.cu, purchase.months
        )
    master = catalog_.find(catalog_domain.MASTER, purchase.master_type)
    slave = catalog_.find(catalog_domain.SLAVE, purchase.slave_type)
    assert master is not None and slave is not None
    if purchase.billing == order_rules.PAYG:
        return 0
    monthly = order_rules.exclusive_month_cents(
        master, purchase.master_count, slave, purchase.slave_count
    )
    return monthly * purchase.months


def _insert(session: db.Session, platform: platform_module.Platform, order: Order) -> Order:
    order.id = _new_id(platform.now())
    while order_store.read_order(session=session, order_id=order.id) is not None:
        order.id = _new_id(platform.now())
    return order_store.create_order(session=session, order=order)


def place_order(
    platform: platform_module.Platform, principal: principals.Principal, purchase: Purchase
) -> Order:
    principals.require_account(principal, "buy")
    region = purchase.region or platform.settings.region
    with db.transaction(platform.sessions) as session:
        catalog_ = machine_types.load(session, platform, region)
        amount = price(catalog_, purchase)
        if not purchase.agree_to_terms:
            raise order_rules.agreement_refusal()
        return _insert(
            session,
            platform,
            Order(
                account_id=principal.account_id,
                region=region,
                mode=purchase.mode,
                billing=purchase.billing,
                purpose=order_rules.NEW,
                cu=purchase.cu if purchase.mode == order_rules.SHARED else 0,
                master_type=purchase.master_type,
                master_count=purchase.master_count,
                slave_type=purchase.slave_type,
                slave_count=purchase.slave_count,
                months=purchase.months,
                amount_cents=amount,
                state=order_rules.PENDING_PAYMENT,
                created_by=principal.display[:200],
                created_at=platform.now(),
            ),
        )


def read_order(platform: platform_module.Platform, account_id: str, order_id: str) -> Order:
    with db.transaction(platform.sessions) as session:
        return order_use.read(session, account_id, order_id)


def resource_of(order: capacity_tables.Order) -> str:
    return resources.order(order.region, order.account_id, order.id)


def list_orders(
    platform: platform_module.Platform, account_id: str, *, unconsumed: bool = False
) -> list[Order]:
    states = [order_rules.PAID] if unconsumed else []
    with db.transaction(platform.sessions) as session:
        found = order_store.list_orders(session=session, account_id=account_id, states=states)
    if unconsumed:
        found = [o for o in found if o.purpose == order_rules.NEW]
    return found


def list_pending(platform: platform_module.Platform) -> list[Order]:
    """Every account's orders waiting for payment (operator)."""
    with db.transaction(platform.sessions) as session:
        return order_store.list_orders(
            session=session, account_id=None, states=[order_rules.PENDING_PAYMENT]
        )


def unconsumed_counts(platform: platform_module.Platform, account_id: str) -> dict[str, int]:
    """Paid new orders not yet made into a project or cluster: the console's red number."""
    with db.transaction(platform.sessions) as session:
        counts = order_store.count_by_mode(
            session=session, account_id=account_id, state=order_rules.PAID, purpose=order_rules.NEW
        )
    return {mode: counts.get(mode, 0) for mode in order_rules.MODES}


def _state_zh(order: Order) -> str:
    return order_rules.STATES_ZH.get(order.state, order.state)


def _paid(session: db.Session, platform: platform_module.Platform, order: Order) -> Order:
    moved = order_store.move(
        session=session,
        order_id=order.id,
        sources=[order_rules.PENDING_PAYMENT],
        target=order_rules.PAID,
        paid_at=platform.now(),
    )
    if not moved:
        raise errors.Conflict(
            f"order {order.id} is {order.state.replace('_', ' ')}: only an order pending "
            "payment can be paid",
            f"订单 {order.id} {_state_zh(order)}：只有待支付的订单可以支付",
            code="OrderNotPayable",
        )
    session.refresh(order)
    if order.purpose != order_rules.NEW:
        _apply(session, platform, order)
    return order


def _apply(session: db.Session, platform: platform_module.Platform, order: Order) -> None:
    """A paid renewal or scale takes effect now; the order is consumed by its target."""
    if order.mode == order_rules.SHARED:
        project_service.apply_order(session, platform, order)
    else:
        cluster_service.apply_order(session, platform, order)
    order_store.move(
        session=session,
        order_id=order.id,
        sources=[order_rules.PAID],
        target=order_rules.CONSUMED,
        consumed_at=platform.now(),
        consumed_by=order.target,
    )
    session.refresh(order)


def pay_order(
    platform: platform_module.Platform, principal: principals.Principal, order_id: str
) -> Order:
    principals.require_account(principal, "pay for orders")
    with db.transaction(platform.sessions) as session:
        order = order_use.read(session, principal.account_id, order_id)
        if platform.settings.payment != "auto":
            raise errors.Conflict(
                f"payments of this installation are approved by its operator: ask them to "
                f"approve order {order.id}",
                f"本平台的付款由运维人员审批：请联系他们审批订单 {order.id}",
                code="PaymentNeedsApproval",
            )
        return _paid(session, platform, order)


def approve_order(platform: platform_module.Platform, order_id: str) -> Order:
    """The operator confirms payment of any account's order."""
    with db.transaction(platform.sessions) as session:
        return _paid(session, platform, order_use.read(session, None, order_id))


def cancel_order(platform: platform_module.Platform, account_id: str, order_id: str) -> Order:
    with db.transaction(platform.sessions) as session:
        order = order_use.read(session, account_id, order_id)
        if not order_store.move(
            session=session,
            order_id=order.id,
            sources=[order_rules.PENDING_PAYMENT],
            target=order_rules.CANCELLED,
        ):
            raise errors.Conflict(
                f"order {order.id} is {order.state.replace('_', ' ')}: only an order pending "
                "payment can be cancelled",
                f"订单 {order.id} {_state_zh(order)}：只有待支付的订单可以取消",
                code="OrderNotCancellable",
            )
        session.refresh(order)
        return order


def follow_up(
    platform: platform_module.Platform,
    principal: principals.Principal,
    *,
    kind: str,
    target: str,
    months: int = 0,
    cu: int | None = None,
    slave_count: int | None = None,
) -> Order:
    """A renewal (months) or a scale (cu for a shared project, slave_count for a cluster)."""
    principals.require_account(principal, "renew or scale")
    with db.transaction(platform.sessions) as session:
        if kind == "project":
            order = project_service.follow_up_order(
                session, platform, principal.account_id, target, months=months, cu=cu
            )
        else:
            order = cluster_service.follow_up_order(
                session,
                platform,
                principal.account_id,
                target,
                months=months,
                slave_count=slave_count,
            )
        order.created_by = principal.display[:200]
        order.created_at = platform.now()
        order.state = order_rules.PENDING_PAYMENT
        return _insert(session, platform, order)
