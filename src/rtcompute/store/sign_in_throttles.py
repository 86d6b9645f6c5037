"""Data access for sign-in throttling: failure counts per (source, subject).

A failure is counted in one statement (`INSERT ... ON CONFLICT DO UPDATE`, on both databases),
so concurrent failures never overwrite each other, and two servers on one PostgreSQL share
the counts. The rule it applies is domain/throttling.py's: a spent count starts over, the
failure that reaches the limit throttles for a whole period from now, later ones only count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from rtcompute.domain import throttling
from rtcompute.store import tables

Throttle = tables.SignInThrottle
PRUNE_BATCH = 100


def read_counts(
    *, session: Session, source: str, subjects: Iterable[str]
) -> dict[str, throttling.Count]:
    query = select(Throttle).where(Throttle.source == source, Throttle.subject.in_(list(subjects)))
    return {
        row.subject: throttling.Count(row.failures, row.expires_at)
        for row in session.scalars(query)
    }


def count_failure(
    *,
    session: Session,
    source: str,
    subject: str,
    limit: int,
    period: timedelta,
    now: datetime,
) -> None:
    """One more failure of `source` on `subject`."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    spent = Throttle.expires_at <= now
    statement = insert(Throttle).values(
        source=source, subject=subject, failures=1, expires_at=now + period
    )
    statement = statement.on_conflict_do_update(
        index_elements=[Throttle.source, Throttle.subject],
        set_={
            "failures": case((spent, 1), else_=Throttle.failures + 1),
            "expires_at": case(
                (spent, now + period),
                (Throttle.failures + 1 == limit, now + period),
                else_=Throttle.expires_at,
            ),
        },
    )
    session.execute(statement)


def forget(*, session: Session, source: str, subject: str) -> None:
    session.execute(delete(Throttle).where(Throttle.source == source, Throttle.subject == subject))


def forget_subject(*, session: Session, subject: str) -> None:
    """Every source's count on `subject` (its password was reset)."""
    session.execute(delete(Throttle).where(Throttle.subject == subject))


def prune(*, session: Session, now: datetime) -> None:
    """Delete some spent counts. Rows another transaction holds are skipped, not waited for
    (PostgreSQL's SKIP LOCKED): a sign-in never waits on another's cleanup."""
    spent = (
        select(Throttle.source, Throttle.subject)
        .where(Throttle.expires_at <= now)
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    keys = [tuple(row) for row in session.execute(spent)]
    if keys:
        session.execute(delete(Throttle).where(tuple_(Throttle.source, Throttle.subject).in_(keys)))
