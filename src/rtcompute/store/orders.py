"""Data access for orders. State moves are conditional updates, so two racing writers
cannot both pay or both consume one order."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from rtcompute.store.tables import capacity as capacity_tables

Order = capacity_tables.Order


def create_order(*, session: Session, order: Order) -> Order:
    session.add(order)
    session.flush()
    return order


def read_order(*, session: Session, order_id: str) -> Order | None:
    return session.get(Order, order_id)


def list_orders(
    *, session: Session, account_id: str | None, states: Collection[str] = ()
) -> list[Order]:
    query = select(Order).order_by(Order.created_at.desc(), Order.id.desc())
    if account_id is not None:
        query = query.where(Order.account_id == account_id)
    if states:
        query = query.where(Order.state.in_(list(states)))
    return list(session.scalars(query))


def count_by_mode(*, session: Session, account_id: str, state: str, purpose: str) -> dict[str, int]:
    query = (
        select(Order.mode, func.count())
        .where(Order.account_id == account_id, Order.state == state, Order.purpose == purpose)
        .group_by(Order.mode)
    )
    return {mode: count for mode, count in session.execute(query).all()}


def move(
    *, session: Session, order_id: str, sources: Collection[str], target: str, **values: Any
) -> bool:
    """Move the order only if it is still in one of `sources`; True when it moved."""
    result = session.execute(
        update(Order)
        .where(Order.id == order_id, Order.state.in_(list(sources)))
        .values(state=target, **values)
        .execution_options(synchronize_session="fetch")
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1
