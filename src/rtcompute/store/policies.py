"""Data access for custom policies and their versions."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rtcompute.store import tables


def create_policy(*, session: Session, policy: tables.RamPolicy) -> tables.RamPolicy:
    session.add(policy)
    session.flush()
    return policy


def read_policy(*, session: Session, account_id: str, name: str) -> tables.RamPolicy | None:
    query = select(tables.RamPolicy).where(
        tables.RamPolicy.account_id == account_id, tables.RamPolicy.name == name
    )
    return session.scalars(query).first()


def list_policies(
    *, session: Session, account_id: str, limit: int, offset: int
) -> list[tables.RamPolicy]:
    query = (
        select(tables.RamPolicy)
        .where(tables.RamPolicy.account_id == account_id)
        .order_by(tables.RamPolicy.name)
    )
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_policies(*, session: Session, account_id: str) -> int:
    query = select(func.count()).where(tables.RamPolicy.account_id == account_id)
    return session.scalar(query) or 0


def delete_policy(*, session: Session, policy_id: int) -> None:
    session.execute(
        delete(tables.RamPolicyVersion).where(tables.RamPolicyVersion.policy_id == policy_id)
    )
    session.execute(delete(tables.RamPolicy).where(tables.RamPolicy.id == policy_id))


def create_version(
    *, session: Session, version: tables.RamPolicyVersion
) -> tables.RamPolicyVersion:
    session.add(version)
    session.flush()
    return version


def read_version(
    *, session: Session, policy_id: int, version_id: str
) -> tables.RamPolicyVersion | None:
    return session.get(tables.RamPolicyVersion, (policy_id, version_id))


def list_versions(*, session: Session, policy_id: int) -> list[tables.RamPolicyVersion]:
    query = (
        select(tables.RamPolicyVersion)
        .where(tables.RamPolicyVersion.policy_id == policy_id)
        .order_by(tables.RamPolicyVersion.created_at, tables.RamPolicyVersion.version_id)
    )
    return list(session.scalars(query))


def delete_version(*, session: Session, policy_id: int, version_id: str) -> None:
    session.execute(
        delete(tables.RamPolicyVersion).where(
            tables.RamPolicyVersion.policy_id == policy_id,
            tables.RamPolicyVersion.version_id == version_id,
        )
    )


def default_documents(
    *, session: Session, account_id: str, names: list[str]
) -> dict[str, tuple[str, str]]:
    """name -> (default version id, document) of the named custom policies, in one query."""
    if not names:
        return {}
    query = (
        select(
            tables.RamPolicy.name,
            tables.RamPolicyVersion.version_id,
            tables.RamPolicyVersion.document,
        )
        .join(
            tables.RamPolicyVersion,
            (tables.RamPolicyVersion.policy_id == tables.RamPolicy.id)
            & (tables.RamPolicyVersion.version_id == tables.RamPolicy.default_version),
        )
        .where(tables.RamPolicy.account_id == account_id, tables.RamPolicy.name.in_(names))
    )
    return {name: (version_id, document) for name, version_id, document in session.execute(query)}
