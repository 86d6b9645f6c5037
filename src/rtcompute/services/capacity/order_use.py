"""Using an order: the paid new order a project or cluster is made from, consuming it,
and the end date a subscription gets. Shared by the project and cluster services (the
order service imports both, so this cannot live there)."""

from __future__ import annotations

from datetime import datetime

from rtcompute import errors
from rtcompute.domain import orders as order_rules
from rtcompute.domain import text
from rtcompute.store import db
from rtcompute.store import orders as order_store
from rtcompute.store.tables import capacity as capacity_tables

MAKES = {order_rules.SHARED: "a project", order_rules.EXCLUSIVE: "a cluster"}
MAKES_ZH = {order_rules.SHARED: "项目", order_rules.EXCLUSIVE: "集群"}
OTHER = {
    order_rules.SHARED: "exclusive orders make clusters (create the cluster first, then "
    "projects inside it)",
    order_rules.EXCLUSIVE: "shared-mode orders make projects directly",
}
OTHER_ZH = {
    order_rules.SHARED: "独享模式的订单用于创建集群（先创建集群，再在集群中创建项目）",
    order_rules.EXCLUSIVE: "共享模式的订单直接用于创建项目",
}
# check_fresh's words: what an order targets and what it counts
KINDS_ZH = {"project": "项目", "cluster": "集群"}
UNITS_ZH = {"CU": "CU", "slaves": "个 slave"}


def not_found(order_id: str) -> errors.NotFound:
    return errors.NotFound(
        f"order {order_id[:20]} does not exist",
        f"订单 {order_id[:20]} 不存在",
        code="OrderNotFound",
    )


def read(session: db.Session, account_id: str | None, order_id: str) -> capacity_tables.Order:
    """The order of that account (any account's for the operator: `account_id=None`)."""
    found = (
        order_store.read_order(session=session, order_id=order_id)
        if text.is_storable(order_id) and len(order_id) <= 20
        else None
    )
    if found is None or (account_id is not None and found.account_id != account_id):
        raise not_found(order_id)
    return found


def usable(session: db.Session, account_id: str, order_id: str, mode: str) -> capacity_tables.Order:
    """The paid, unused new order of that mode, or an error that says what it is instead."""
    order = read(session, account_id, order_id)
    if order.mode != mode or order.purpose != order_rules.NEW:
        raise errors.Invalid(
            f"order {order.id} is not a new {mode} order; {OTHER[mode]}",
            f"订单 {order.id} 不是{order_rules.MODES_ZH[mode]}的新购订单；{OTHER_ZH[mode]}",
            code="InvalidParameter.Order",
        )
    if order.state != order_rules.PAID:
        raise errors.Conflict(
            f"order {order.id} is {order.state.replace('_', ' ')}: {MAKES[mode]} is made from a "
            "paid order that has not made one yet",
            f"订单 {order.id} {order_rules.STATES_ZH.get(order.state, order.state)}："
            f"{MAKES_ZH[mode]}须由已支付且尚未使用的订单创建",
            code="OrderNotUsable",
        )
    return order


def consume(session: db.Session, order: capacity_tables.Order, by: str, now: datetime) -> None:
    """Paid -> consumed, once: of two requests racing for one order, the second is refused."""
    if not order_store.move(
        session=session,
        order_id=order.id,
        sources=[order_rules.PAID],
        target=order_rules.CONSUMED,
        consumed_at=now,
        consumed_by=by,
    ):
        raise errors.Conflict(
            f"order {order.id} was just used by another request",
            f"订单 {order.id} 刚刚被另一个请求使用了",
            code="OrderNotUsable",
        )


def end_after(start: datetime, months: int) -> datetime:
    """The end of `months` calendar months from `start` (domain/orders.add_months)."""
    return order_rules.add_months(start, months)


def renewed_end(expires_at: datetime | None, now: datetime, months: int) -> datetime:
    """A renewal extends from the current end, or from now when that has passed."""
    return end_after(max(expires_at or now, now), months)


def revive(session: db.Session, order_id: str | None) -> None:
    """The renewal of an expired resource brings its order back to consumed."""
    if order_id is not None:
        order_store.move(
            session=session,
            order_id=order_id,
            sources=[order_rules.EXPIRED],
            target=order_rules.CONSUMED,
        )


def release(session: db.Session, order_id: str | None) -> None:
    """A deleted project or released cluster releases the order it was made from."""
    if order_id is not None:
        order_store.move(
            session=session,
            order_id=order_id,
            sources=[order_rules.CONSUMED, order_rules.EXPIRED],
            target=order_rules.RELEASED,
        )


def check_fresh(order: capacity_tables.Order, kind: str, current: int, unit: str) -> None:
    """A renewal or scale priced for another shape of its target is not applied."""
    if order.base != current:
        unit_zh = UNITS_ZH.get(unit, unit)
        raise errors.Conflict(
            f"order {order.id} was priced for {kind} {order.target} at {order.base} {unit}; it "
            f"has {current} now. Cancel this order and place a new one",
            f"订单 {order.id} 是按{KINDS_ZH.get(kind, kind)} {order.target} 的 {order.base} "
            f"{unit_zh}定价的，它现在是 {current} {unit_zh}。请取消此订单并重新下单",
            code="OrderStale",
        )
