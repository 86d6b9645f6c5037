"""Attaching policies to users, groups and roles, within the vendor's per-holder limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import ram
from rtcompute.services.iam import authz, groups, roles
from rtcompute.services.iam import policies as ram_policies
from rtcompute.services.iam import users as ram_users
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import attachments as attachment_store
from rtcompute.store import db, tables
from rtcompute.store import identities as identity_store


@dataclass(frozen=True)
class Attached:
    policy_type: str
    policy_name: str
    description: str
    attached_at: datetime


@dataclass(frozen=True)
class Entity:
    kind: str
    name: str
    attached_at: datetime


_POLICY_TYPE_ZH = {ram.PolicyType.SYSTEM: "系统策略", ram.PolicyType.CUSTOM: "自定义策略"}


_HOLDER_ZH = {
    ram.PrincipalKind.USER: "用户",
    ram.PrincipalKind.GROUP: "用户组",
    ram.PrincipalKind.ROLE: "角色",
}


def check_kind(kind: str) -> ram.PrincipalKind:
    try:
        return ram.PrincipalKind(kind)
    except ValueError:
        raise errors.Invalid(
            "attach to a User, Group or Role",
            "权限策略只能授权给用户（User）、用户组（Group）或角色（Role）",
            code="InvalidParameter.PrincipalType",
        ) from None


def holder_id(session: db.Session, account_id: str, kind: ram.PrincipalKind, name: str) -> int:
    """The row id of the named user, group or role, or its EntityNotExist error."""
    if kind is ram.PrincipalKind.USER:
        return ram_users.find_user(session, account_id, name).id
    if kind is ram.PrincipalKind.GROUP:
        return groups.find_group(session, account_id, name).id
    return roles.find_role(session, account_id, name).id


def _description(session: db.Session, account_id: str, policy_type: str, name: str) -> str:
    if policy_type == ram.PolicyType.SYSTEM:
        entry = ram.SYSTEM_POLICIES.get(name)
        if entry is None:
            raise ram_policies.not_found("System", name)
        return entry[0]
    return ram_policies.find_policy(session, account_id, name).description


def attach(
    platform: platform_module.Platform,
    account_id: str,
    kind: str,
    name: str,
    policy_type: str,
    policy_name: str,
) -> None:
    holder = check_kind(kind)
    ptype = ram_policies.check_type(policy_type)
    limit = (
        ram.MAX_SYSTEM_ATTACHMENTS if ptype is ram.PolicyType.SYSTEM else ram.MAX_CUSTOM_ATTACHMENTS
    )
    try:
        with authz.changing(platform, account_id) as session:
            principal_id = holder_id(session, account_id, holder, name)
            _description(session, account_id, ptype.value, policy_name)
            if attachment_store.read_attachment(
                session=session,
                principal_kind=holder.value,
                principal_id=principal_id,
                policy_type=ptype.value,
                policy_name=policy_name,
            ):
                raise _already(holder, name, policy_name)
            count = attachment_store.count_attachments(
                session=session,
                principal_kind=holder.value,
                principal_id=principal_id,
                policy_type=ptype.value,
            )
            if count >= limit:
                policy_zh = _POLICY_TYPE_ZH[ptype]
                raise ram.limit_exceeded(
                    f"{ptype.value.lower()} policies attached per {holder.value.lower()}",
                    limit,
                    f"detach a {ptype.value.lower()} policy from {name} first",
                    what_zh=f"每个{_HOLDER_ZH[holder]}授权的{policy_zh}",
                    hint_zh=f"请先从 {name} 移除一个{policy_zh}",
                )
            attachment_store.attach(
                session=session,
                attachment=tables.PolicyAttachment(
                    account_id=account_id,
                    principal_kind=holder.value,
                    principal_id=principal_id,
                    policy_type=ptype.value,
                    policy_name=policy_name,
                    attached_at=platform.now(),
                ),
            )
    except IntegrityError as exc:
        raise _already(holder, name, policy_name) from exc


def _already(holder: ram.PrincipalKind, name: str, policy_name: str) -> errors.Conflict:
    return errors.Conflict(
        f"policy {policy_name} is already attached to {holder.value.lower()} {name}",
        f"权限策略 {policy_name} 已授权给{_HOLDER_ZH[holder]} {name}",
        code=f"EntityAlreadyExists.{holder.value}.Policy",
    )


def detach(
    platform: platform_module.Platform,
    account_id: str,
    kind: str,
    name: str,
    policy_type: str,
    policy_name: str,
) -> None:
    holder = check_kind(kind)
    ptype = ram_policies.check_type(policy_type)
    with authz.changing(platform, account_id) as session:
        principal_id = holder_id(session, account_id, holder, name)
        found = attachment_store.read_attachment(
            session=session,
            principal_kind=holder.value,
            principal_id=principal_id,
            policy_type=ptype.value,
            policy_name=policy_name,
        )
        if found is None:
            raise errors.NotFound(
                f"policy {policy_name[:128]} is not attached to {holder.value.lower()} {name}",
                f"权限策略 {policy_name[:128]} 未授权给{_HOLDER_ZH[holder]} {name}",
                code=f"EntityNotExist.{holder.value}.Policy",
            )
        attachment_store.detach(session=session, attachment_id=found.id)


def list_attached(
    platform: platform_module.Platform, account_id: str, kind: str, name: str
) -> list[Attached]:
    """The policies attached directly to a user, group or role."""
    holder = check_kind(kind)
    with db.transaction(platform.sessions) as session:
        principal_id = holder_id(session, account_id, holder, name)
        found = attachment_store.list_attachments(
            session=session, principals=[(holder.value, principal_id)]
        )
        result = []
        for attachment in found:
            try:
                description = _description(
                    session, account_id, attachment.policy_type, attachment.policy_name
                )
            except errors.NotFound:
                description = ""
            result.append(
                Attached(
                    attachment.policy_type,
                    attachment.policy_name,
                    description,
                    attachment.attached_at,
                )
            )
        return result


def list_entities(
    platform: platform_module.Platform, account_id: str, policy_type: str, policy_name: str
) -> list[Entity]:
    """Who holds a policy: users, groups and roles of the account."""
    ptype = ram_policies.check_type(policy_type)
    with db.transaction(platform.sessions) as session:
        _description(session, account_id, ptype.value, policy_name)
        found = attachment_store.list_for_policy(
            session=session, account_id=account_id, policy_type=ptype.value, policy_name=policy_name
        )
        entities = []
        for attachment in found:
            entity_name = _holder_name(session, attachment)
            if entity_name is not None:
                entities.append(
                    Entity(attachment.principal_kind, entity_name, attachment.attached_at)
                )
        return entities


def _holder_name(session: db.Session, attachment: tables.PolicyAttachment) -> str | None:
    if attachment.principal_kind == ram.PrincipalKind.USER:
        user = identity_store.read_identity(session=session, identity_id=attachment.principal_id)
        return user.name if user else None
    if attachment.principal_kind == ram.PrincipalKind.GROUP:
        group = session.get(tables.RamGroup, attachment.principal_id)
        return group.name if group else None
    role = session.get(tables.RamRole, attachment.principal_id)
    return role.name if role else None
