"""Using an order: the paid new order a project or cluster is made from, consuming it,
and the end date a subscription gets. Shared by the project and cluster services (the
order service imports both, so this cannot live there)."""

from __future__ import annotations

from datetime import datetime, timedelta

from rtcompute import errors
from rtcompute.domain import orders as order_rules
from rtcompute.domain import text
from rtcompute.store import db
from rtcompute.store import orders as order_store
from rtcompute.store.tables import capacity as capacity_tables

MAKES = {order_rules.SHARED: "a project", order_rules.EXCLUSIVE: "a cluster"}
OTHER = {
    order_rules.SHARED: "exclusive orders make clusters (create the cluster first, then "
    "projects inside it)",
    order_rules.EXCLUSIVE: "shared-mode orders make projects directly",
}


def read(session: db.Session, account_id: str | None, order_id: str) -> capacity_tables.Order:
    """The order of that account (any account's for the operator: `account_id=None`)."""
    found = (
        order_store.read_order(session=session, order_id=order_id)
        if text.is_storable(order_id) and len(order_id) <= 20
        else None
    )
    if found is None or (account_id is not None and found.account_id != account_id):
        raise errors.NotFound(f"order {order_id[:20]} does not exist", code="OrderNotFound")
    return found


def usable(session: db.Session, account_id: str, order_id: str, mode: str) -> capacity_tables.Order:
    """The paid, unused new order of that mode, or an error that says what it is instead."""
    order = read(session, account_id, order_id)
    if order.mode != mode or order.purpose != order_rules.NEW:
        raise errors.Invalid(
            f"order {order.id} is not a new {mode} order; {OTHER[mode]}",
            code="InvalidParameter.Order",
        )
    if order.state != order_rules.PAID:
        raise errors.Conflict(
            f"order {order.id} is {order.state.replace('_', ' ')}: {MAKES[mode]} is made from a "
            "paid order that has not made one yet",
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
            f"order {order.id} was just used by another request", code="OrderNotUsable"
        )


def end_after(start: datetime, months: int) -> datetime:
    return start + timedelta(days=order_rules.DAYS_PER_MONTH * months)


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
        raise errors.Conflict(
            f"order {order.id} was priced for {kind} {order.target} at {order.base} {unit}; it "
            f"has {current} now. Cancel this order and place a new one",
            code="OrderStale",
        )
