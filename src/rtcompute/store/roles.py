"""Data access for RAM roles."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rtcompute.store import tables


def create_role(*, session: Session, role: tables.RamRole) -> tables.RamRole:
    session.add(role)
    session.flush()
    return role


def read_role(*, session: Session, account_id: str, name: str) -> tables.RamRole | None:
    query = select(tables.RamRole).where(
        tables.RamRole.account_id == account_id, tables.RamRole.name == name
    )
    return session.scalars(query).first()


def list_roles(
    *, session: Session, account_id: str, limit: int, offset: int
) -> list[tables.RamRole]:
    query = (
        select(tables.RamRole)
        .where(tables.RamRole.account_id == account_id)
        .order_by(tables.RamRole.name)
    )
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_roles(*, session: Session, account_id: str) -> int:
    query = select(func.count()).where(tables.RamRole.account_id == account_id)
    return session.scalar(query) or 0


def delete_role(*, session: Session, role_id: int) -> None:
    session.execute(delete(tables.RamRole).where(tables.RamRole.id == role_id))
