"""Data access for leader leases: a conditional update is the whole protocol.

A holder renews while it holds; anyone takes over once the lease has expired, and a take-over
by a new holder raises the lease's term (the fencing token of that holder's actions). The
WHERE clause makes the take-over atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rtcompute.store import tables


def try_acquire_lease(
    *, session: Session, name: str, holder: str, now: datetime, expires_at: datetime
) -> int | None:
    """The term `holder` holds the lease in until `expires_at` after this call, or None."""
    lease = tables.Lease
    result = session.execute(
        update(lease)
        .where(lease.name == name, (lease.holder == holder) | (lease.expires_at <= now))
        .values(
            holder=holder,
            expires_at=expires_at,
            term=case((lease.holder == holder, lease.term), else_=lease.term + 1),
        )
        .returning(lease.term)
    )
    term = result.scalar_one_or_none()
    if term is not None:
        return int(term)
    if session.get(lease, name) is not None:
        return None
    try:
        with session.begin_nested():
            session.add(lease(name=name, holder=holder, expires_at=expires_at, term=1))
    except IntegrityError:
        return None
    return 1


def holds_lease(*, session: Session, name: str, holder: str, term: int, now: datetime) -> bool:
    """Whether `holder` still holds the lease in `term`; on PostgreSQL the row stays locked
    (FOR SHARE) until the caller's transaction ends, so that nobody takes the lease over
    before the caller's writes commit."""
    lease = tables.Lease
    query = (
        select(lease.name)
        .where(
            lease.name == name,
            lease.holder == holder,
            lease.term == term,
            lease.expires_at > now,
        )
        .with_for_update(read=True)
    )
    return session.execute(query).first() is not None


def read_lease(*, session: Session, name: str) -> tables.Lease | None:
    return session.scalars(select(tables.Lease).where(tables.Lease.name == name)).first()


def release_lease(*, session: Session, name: str, holder: str) -> None:
    session.execute(
        delete(tables.Lease).where(tables.Lease.name == name, tables.Lease.holder == holder)
    )
