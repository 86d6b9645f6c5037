"""Data access for accounts (tenants)."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from rtcompute.store import tables


def create_account(*, session: Session, account: tables.Account) -> tables.Account:
    session.add(account)
    session.flush()
    return account


def read_account(*, session: Session, account_id: str) -> tables.Account | None:
    return session.get(tables.Account, account_id)


def read_account_by_alias(*, session: Session, alias: str) -> tables.Account | None:
    return session.scalars(select(tables.Account).where(tables.Account.alias == alias)).first()


def list_accounts(*, session: Session, limit: int, offset: int) -> list[tables.Account]:
    query = select(tables.Account).order_by(tables.Account.created_at, tables.Account.id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_accounts(*, session: Session) -> int:
    return session.scalar(select(func.count()).select_from(tables.Account)) or 0


def bump_ram_revision(*, session: Session, account_id: str) -> None:
    """Count one RAM change; also takes the account's row lock for the rest of the transaction
    (the limits are check-then-write: two creations at once must not both pass)."""
    session.execute(
        update(tables.Account)
        .where(tables.Account.id == account_id)
        .values(ram_revision=tables.Account.ram_revision + 1)
        .execution_options(synchronize_session=False)
    )


def read_ram_revision(*, session: Session, account_id: str) -> int:
    query = select(tables.Account.ram_revision).where(tables.Account.id == account_id)
    return session.scalar(query) or 0
