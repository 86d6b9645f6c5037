"""RAM roles: a trust policy says who may assume the role; attached policies what it may do."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import names, policies, ram
from rtcompute.services.iam import authz
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import attachments as attachment_store
from rtcompute.store import db, tables
from rtcompute.store import roles as role_store


def not_found(name: str) -> errors.NotFound:
    return errors.NotFound(
        f"role {name[:128]} does not exist",
        f"角色 {name[:128]} 不存在；请检查角色名称",
        code="EntityNotExist.Role",
    )


def find_role(session: db.Session, account_id: str, name: str) -> tables.RamRole:
    role = (
        role_store.read_role(session=session, account_id=account_id, name=name)
        if names.ROLE.fits(name)
        else None
    )
    if role is None:
        raise not_found(name)
    return role


def _taken(name: str) -> errors.Conflict:
    return errors.Conflict(
        f"a role named {name} already exists in this account; choose another name",
        f"本账号已有名为 {name} 的角色；请换一个名称",
        code="EntityAlreadyExists.Role",
    )


def create_role(
    platform: platform_module.Platform,
    account_id: str,
    name: str,
    *,
    description: str = "",
    trust_policy: str | None = None,
) -> tables.RamRole:
    """A role; without a trust policy, any identity of the account may assume it."""
    names.ROLE.check(name)
    ram.check_text("description", description, ram.MAX_DESCRIPTION)
    trust = trust_policy if trust_policy is not None else ram.account_trust_policy(account_id)
    policies.parse_trust(trust)
    now = platform.now()
    try:
        with authz.changing(platform, account_id) as session:
            return insert_role(session, account_id, name, description, trust, now)
    except IntegrityError as exc:
        raise _taken(name) from exc


def insert_role(
    session: db.Session, account_id: str, name: str, description: str, trust: str, now: datetime
) -> tables.RamRole:
    """Insert a role within the caller's RAM transaction, after the name and limit checks."""
    if role_store.read_role(session=session, account_id=account_id, name=name):
        raise _taken(name)
    if role_store.count_roles(session=session, account_id=account_id) >= ram.MAX_ROLES:
        raise ram.limit_exceeded(
            "roles per account",
            ram.MAX_ROLES,
            "delete roles you no longer need",
            what_zh="每个账号的角色",
            hint_zh="请删除不再需要的角色",
        )
    return role_store.create_role(
        session=session,
        role=tables.RamRole(
            account_id=account_id,
            name=name,
            description=description,
            trust_policy=trust,
            created_at=now,
            updated_at=now,
        ),
    )


def list_roles(
    platform: platform_module.Platform, account_id: str, *, limit: int, offset: int
) -> tuple[list[tables.RamRole], int]:
    with db.transaction(platform.sessions) as session:
        found = role_store.list_roles(
            session=session, account_id=account_id, limit=limit, offset=offset
        )
        return found, role_store.count_roles(session=session, account_id=account_id)


def read_role(platform: platform_module.Platform, account_id: str, name: str) -> tables.RamRole:
    with db.transaction(platform.sessions) as session:
        return find_role(session, account_id, name)


def update_role(
    platform: platform_module.Platform,
    account_id: str,
    name: str,
    *,
    description: str | None = None,
    trust_policy: str | None = None,
) -> tables.RamRole:
    if description is not None:
        ram.check_text("description", description, ram.MAX_DESCRIPTION)
    if trust_policy is not None:
        policies.parse_trust(trust_policy)
    with authz.changing(platform, account_id) as session:
        role = find_role(session, account_id, name)
        if description is not None:
            role.description = description
        if trust_policy is not None:
            role.trust_policy = trust_policy
        role.updated_at = platform.now()
        return role


def delete_role(platform: platform_module.Platform, account_id: str, name: str) -> None:
    """Delete a role and its attachments (policies stay: they may serve others)."""
    with authz.changing(platform, account_id) as session:
        role = find_role(session, account_id, name)
        attachment_store.detach_all(
            session=session, principal_kind=ram.PrincipalKind.ROLE.value, principal_id=role.id
        )
        role_store.delete_role(session=session, role_id=role.id)
