"""Data access for leader leases: a conditional update is the whole protocol.

A holder renews while it holds; anyone takes over once the lease has expired. The WHERE
clause makes the take-over atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rtcompute.store import tables


def try_acquire_lease(
    *, session: Session, name: str, holder: str, now: datetime, expires_at: datetime
) -> bool:
    """True when `holder` holds the lease until `expires_at` after this call."""
    lease = tables.Lease
    result = session.execute(
        update(lease)
        .where(lease.name == name, (lease.holder == holder) | (lease.expires_at <= now))
        .values(holder=holder, expires_at=expires_at)
    )
    if getattr(result, "rowcount", 0):
        return True
    if session.get(lease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(lease(name=name, holder=holder, expires_at=expires_at))
    except IntegrityError:
        return False
    return True


def read_lease(*, session: Session, name: str) -> tables.Lease | None:
    return session.scalars(select(tables.Lease).where(tables.Lease.name == name)).first()


def release_lease(*, session: Session, name: str, holder: str) -> None:
    session.execute(
        delete(tables.Lease).where(tables.Lease.name == name, tables.Lease.holder == holder)
    )
