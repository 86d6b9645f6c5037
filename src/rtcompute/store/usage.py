"""Data access for metered usage of pay-as-you-go clusters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcompute.store.tables import capacity as capacity_tables

Usage = capacity_tables.UsageRecord


def last_hour(*, session: Session, cluster_id: int) -> datetime | None:
    query = select(func.max(Usage.hour_start)).where(Usage.cluster_id == cluster_id)
    found: datetime | None = session.scalar(query)
    return found


def add(*, session: Session, record: Usage) -> None:
    session.add(record)
    session.flush()


def list_usage(*, session: Session, cluster_id: int, limit: int = 1000) -> list[Usage]:
    query = (
        select(Usage)
        .where(Usage.cluster_id == cluster_id)
        .order_by(Usage.hour_start.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def totals(*, session: Session, cluster_id: int) -> tuple[int, int]:
    """(hours recorded, their amount in cents) of a cluster."""
    query = select(func.count(Usage.id), func.coalesce(func.sum(Usage.amount_cents), 0)).where(
        Usage.cluster_id == cluster_id
    )
    row = session.execute(query).one()
    return int(row[0]), int(row[1])
