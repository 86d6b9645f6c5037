"""Data access for console and CLI sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rtcompute.store import tables


def create_session(*, session: Session, record: tables.Session) -> tables.Session:
    session.add(record)
    session.flush()
    return record


def read_session_by_token_hash(*, session: Session, token_hash: str) -> tables.Session | None:
    query = select(tables.Session).where(tables.Session.token_hash == token_hash)
    return session.scalars(query).first()


def delete_session(*, session: Session, session_id: int) -> None:
    session.execute(delete(tables.Session).where(tables.Session.id == session_id))


def delete_sessions_of_identity(
    *, session: Session, identity_id: int, keep_session_id: int | None = None
) -> None:
    query = delete(tables.Session).where(tables.Session.identity_id == identity_id)
    if keep_session_id is not None:
        query = query.where(tables.Session.id != keep_session_id)
    session.execute(query)


def delete_expired_sessions(*, session: Session, now: datetime) -> int:
    result = session.execute(
        delete(tables.Session).where(
            (tables.Session.expires_at <= now) | (tables.Session.idle_expires_at <= now)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
