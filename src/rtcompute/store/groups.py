"""Data access for RAM groups and their members."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rtcompute.store import tables


def create_group(*, session: Session, group: tables.RamGroup) -> tables.RamGroup:
    session.add(group)
    session.flush()
    return group


def read_group(*, session: Session, account_id: str, name: str) -> tables.RamGroup | None:
    query = select(tables.RamGroup).where(
        tables.RamGroup.account_id == account_id, tables.RamGroup.name == name
    )
    return session.scalars(query).first()


def list_groups(
    *, session: Session, account_id: str, limit: int, offset: int
) -> list[tables.RamGroup]:
    query = (
        select(tables.RamGroup)
        .where(tables.RamGroup.account_id == account_id)
        .order_by(tables.RamGroup.name)
    )
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_groups(*, session: Session, account_id: str) -> int:
    query = select(func.count()).where(tables.RamGroup.account_id == account_id)
    return session.scalar(query) or 0


def delete_group(*, session: Session, group_id: int) -> None:
    session.execute(delete(tables.GroupMember).where(tables.GroupMember.group_id == group_id))
    session.execute(delete(tables.RamGroup).where(tables.RamGroup.id == group_id))


def add_member(*, session: Session, member: tables.GroupMember) -> None:
    session.add(member)
    session.flush()


def read_member(*, session: Session, group_id: int, identity_id: int) -> tables.GroupMember | None:
    return session.get(tables.GroupMember, (group_id, identity_id))


def remove_member(*, session: Session, group_id: int, identity_id: int) -> None:
    session.execute(
        delete(tables.GroupMember).where(
            tables.GroupMember.group_id == group_id,
            tables.GroupMember.identity_id == identity_id,
        )
    )


def remove_memberships(*, session: Session, identity_id: int) -> None:
    session.execute(delete(tables.GroupMember).where(tables.GroupMember.identity_id == identity_id))


def list_members(*, session: Session, group_id: int) -> list[tables.Identity]:
    query = (
        select(tables.Identity)
        .join(tables.GroupMember, tables.GroupMember.identity_id == tables.Identity.id)
        .where(tables.GroupMember.group_id == group_id)
        .order_by(tables.Identity.name)
    )
    return list(session.scalars(query))


def list_groups_of(*, session: Session, identity_id: int) -> list[tables.RamGroup]:
    query = (
        select(tables.RamGroup)
        .join(tables.GroupMember, tables.GroupMember.group_id == tables.RamGroup.id)
        .where(tables.GroupMember.identity_id == identity_id)
        .order_by(tables.RamGroup.name)
    )
    return list(session.scalars(query))


def count_groups_of(*, session: Session, identity_id: int) -> int:
    query = select(func.count()).where(tables.GroupMember.identity_id == identity_id)
    return session.scalar(query) or 0
