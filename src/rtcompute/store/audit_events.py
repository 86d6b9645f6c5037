"""Data access for the audit trail: append and page backwards by id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rtcompute.store import tables


@dataclass(frozen=True)
class AuditFilter:
    account_id: str | None
    action: str | None = None
    principal: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None


def create_audit_event(*, session: Session, event: tables.AuditEvent) -> tables.AuditEvent:
    session.add(event)
    session.flush()
    return event


def audit_event_exists(*, session: Session, event_id: int) -> bool:
    event = tables.AuditEvent
    return session.execute(select(event.id).where(event.id == event_id)).first() is not None


def update_audit_event(*, session: Session, event_id: int, values: dict[str, object]) -> None:
    event = tables.AuditEvent
    session.execute(update(event).where(event.id == event_id).values(**values))


def list_audit_events(
    *, session: Session, where: AuditFilter, limit: int
) -> list[tables.AuditEvent]:
    """Newest first; `where.account_id` None means every account (the operator's view)."""
    event = tables.AuditEvent
    query = select(event)
    if where.account_id is not None:
        query = query.where(event.account_id == where.account_id)
    if where.action:
        query = query.where(event.action == where.action)
    if where.principal:
        query = query.where(event.principal == where.principal)
    if where.outcome:
        query = query.where(event.outcome == where.outcome)
    if where.since:
        query = query.where(event.occurred_at >= where.since)
    if where.until:
        query = query.where(event.occurred_at < where.until)
    if where.before_id:
        query = query.where(event.id < where.before_id)
    return list(session.scalars(query.order_by(event.id.desc()).limit(limit)))
