"""Data access for identities (the account itself, RAM users, role sessions)."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from rtcompute.domain import identities
from rtcompute.store import tables


def create_identity(*, session: Session, identity: tables.Identity) -> tables.Identity:
    session.add(identity)
    session.flush()
    return identity


def read_identity(*, session: Session, identity_id: int) -> tables.Identity | None:
    return session.get(tables.Identity, identity_id)


def read_identity_by_name(
    *, session: Session, account_id: str, name: str
) -> tables.Identity | None:
    query = select(tables.Identity).where(
        tables.Identity.account_id == account_id, tables.Identity.name == name
    )
    return session.scalars(query).first()


def read_account_identity(*, session: Session, account_id: str) -> tables.Identity | None:
    query = select(tables.Identity).where(
        tables.Identity.account_id == account_id, tables.Identity.identity_type == "account"
    )
    return session.scalars(query).first()


def lock_identity(*, session: Session, identity_id: int) -> None:
    """Take the identity's row lock for the rest of the transaction (a no-op write).

    Serializes check-then-write sequences per identity (e.g. the access-key limit): a row
    lock on PostgreSQL, the database write lock on SQLite.
    """
    session.execute(
        update(tables.Identity)
        .where(tables.Identity.id == identity_id)
        .values(id=tables.Identity.id)
        .execution_options(synchronize_session=False)
    )


def list_ram_users(
    *, session: Session, account_id: str, limit: int, offset: int
) -> list[tables.Identity]:
    query = (
        select(tables.Identity)
        .where(
            tables.Identity.account_id == account_id,
            tables.Identity.identity_type == identities.IdentityType.RAM_USER.value,
        )
        .order_by(tables.Identity.name)
    )
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_ram_users(*, session: Session, account_id: str) -> int:
    query = select(func.count()).where(
        tables.Identity.account_id == account_id,
        tables.Identity.identity_type == identities.IdentityType.RAM_USER.value,
    )
    return session.scalar(query) or 0


def delete_identity(*, session: Session, identity_id: int) -> None:
    session.execute(delete(tables.Identity).where(tables.Identity.id == identity_id))
