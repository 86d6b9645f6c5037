"""Data access for access keys."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rtcompute.store import tables


def create_access_key(*, session: Session, key: tables.AccessKey) -> tables.AccessKey:
    session.add(key)
    session.flush()
    return key


def read_access_key(*, session: Session, key_id: str) -> tables.AccessKey | None:
    return session.get(tables.AccessKey, key_id)


def list_access_keys(*, session: Session, identity_id: int) -> list[tables.AccessKey]:
    query = (
        select(tables.AccessKey)
        .where(tables.AccessKey.identity_id == identity_id)
        .order_by(tables.AccessKey.created_at, tables.AccessKey.id)
    )
    return list(session.scalars(query))


def count_access_keys(*, session: Session, identity_id: int) -> int:
    query = select(func.count()).where(tables.AccessKey.identity_id == identity_id)
    return session.scalar(query) or 0


def delete_access_key(*, session: Session, key_id: str) -> None:
    session.execute(delete(tables.AccessKey).where(tables.AccessKey.id == key_id))
