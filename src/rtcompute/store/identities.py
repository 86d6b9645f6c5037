"""Data access for identities (the account itself, RAM users, role sessions)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

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
