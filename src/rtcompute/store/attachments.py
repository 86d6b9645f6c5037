"""Data access for policy attachments (a policy on a user, group or role)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rtcompute.store import tables


def attach(*, session: Session, attachment: tables.PolicyAttachment) -> None:
    session.add(attachment)
    session.flush()


def read_attachment(
    *, session: Session, principal_kind: str, principal_id: int, policy_type: str, policy_name: str
) -> tables.PolicyAttachment | None:
    query = select(tables.PolicyAttachment).where(
        tables.PolicyAttachment.principal_kind == principal_kind,
        tables.PolicyAttachment.principal_id == principal_id,
        tables.PolicyAttachment.policy_type == policy_type,
        tables.PolicyAttachment.policy_name == policy_name,
    )
    return session.scalars(query).first()


def detach(*, session: Session, attachment_id: int) -> None:
    session.execute(
        delete(tables.PolicyAttachment).where(tables.PolicyAttachment.id == attachment_id)
    )


def detach_all(*, session: Session, principal_kind: str, principal_id: int) -> None:
    session.execute(
        delete(tables.PolicyAttachment).where(
            tables.PolicyAttachment.principal_kind == principal_kind,
            tables.PolicyAttachment.principal_id == principal_id,
        )
    )


def list_attachments(
    *, session: Session, principals: Iterable[tuple[str, int]]
) -> list[tables.PolicyAttachment]:
    """The attachments of several principals, in attachment order."""
    wanted = list(principals)
    if not wanted:
        return []
    clauses = [
        (tables.PolicyAttachment.principal_kind == kind)
        & (tables.PolicyAttachment.principal_id == principal_id)
        for kind, principal_id in wanted
    ]
    condition = clauses[0]
    for clause in clauses[1:]:
        condition = condition | clause
    query = select(tables.PolicyAttachment).where(condition).order_by(tables.PolicyAttachment.id)
    return list(session.scalars(query))


def count_attachments(
    *, session: Session, principal_kind: str, principal_id: int, policy_type: str
) -> int:
    query = select(func.count()).where(
        tables.PolicyAttachment.principal_kind == principal_kind,
        tables.PolicyAttachment.principal_id == principal_id,
        tables.PolicyAttachment.policy_type == policy_type,
    )
    return session.scalar(query) or 0


def list_for_policy(
    *, session: Session, account_id: str, policy_type: str, policy_name: str
) -> list[tables.PolicyAttachment]:
    query = (
        select(tables.PolicyAttachment)
        .where(
            tables.PolicyAttachment.account_id == account_id,
            tables.PolicyAttachment.policy_type == policy_type,
            tables.PolicyAttachment.policy_name == policy_name,
        )
        .order_by(tables.PolicyAttachment.id)
    )
    return list(session.scalars(query))
