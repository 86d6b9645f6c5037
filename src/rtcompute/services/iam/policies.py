"""Policies: the shipped system policies (read-only) and the account's custom policies.

A custom policy keeps up to 5 versions, one of them the default (the one in force). A policy
still attached somewhere cannot be deleted: the error names where, so nobody loses rights by
surprise. Every document is validated on write, with messages naming statement and element.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import names, policies, ram, text
from rtcompute.services.iam import authz
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import attachments as attachment_store
from rtcompute.store import db, tables
from rtcompute.store import policies as policy_store

_HOLDERS_SHOWN = 5
_HOLDER_TABLES: dict[str, type[tables.Identity | tables.RamGroup | tables.RamRole]] = {
    ram.PrincipalKind.USER: tables.Identity,
    ram.PrincipalKind.GROUP: tables.RamGroup,
    ram.PrincipalKind.ROLE: tables.RamRole,
}


@dataclass(frozen=True)
class PolicyView:
    name: str
    policy_type: str
    description: str
    default_version: str
    document: str
    created_at: datetime | None
    updated_at: datetime | None


def not_found(policy_type: str, name: str) -> errors.NotFound:
    kind_zh = "系统" if policy_type == ram.PolicyType.SYSTEM else "自定义"
    return errors.NotFound(
        f"{policy_type.lower()} policy {name[:128]} does not exist",
        f"{kind_zh}权限策略 {name[:128]} 不存在；请检查策略名称和类型",
        code="EntityNotExist.Policy",
    )


def check_type(policy_type: str) -> ram.PolicyType:
    try:
        return ram.PolicyType(policy_type)
    except ValueError:
        raise errors.Invalid(
            "policy type must be System or Custom",
            "策略类型必须是 System（系统策略）或 Custom（自定义策略）",
            code="InvalidParameter.PolicyType",
        ) from None


def find_policy(session: db.Session, account_id: str, name: str) -> tables.RamPolicy:
    found = (
        policy_store.read_policy(session=session, account_id=account_id, name=name)
        if names.POLICY.fits(name)
        else None
    )
    if found is None:
        raise not_found("Custom", name)
    return found


def validate(document: str) -> list[policies.Problem]:
    """Every problem of a permission policy document; empty when it is valid."""
    return policies.problems(document)


def _system_view(name: str) -> PolicyView:
    entry = ram.SYSTEM_POLICIES.get(name)
    if entry is None:
        raise not_found("System", name)
    return PolicyView(name, "System", entry[0], "v1", entry[1], None, None)


def _custom_view(policy: tables.RamPolicy, document: str) -> PolicyView:
    return PolicyView(
        policy.name,
        "Custom",
        policy.description,
        policy.default_version,
        document,
        policy.created_at,
        policy.updated_at,
    )


def _taken(name: str) -> errors.Conflict:
    return errors.Conflict(
        f"a policy named {name} already exists; choose another name",
        f"已存在名为 {name} 的权限策略（包括系统策略）；请换一个名称",
        code="EntityAlreadyExists.Policy",
    )


def create_policy(
    platform: platform_module.Platform,
    account_id: str,
    name: str,
    document: str,
    *,
    description: str = "",
) -> PolicyView:
    names.POLICY.check(name)
    ram.check_text("description", description, ram.MAX_DESCRIPTION)
    policies.parse(document)
    if name in ram.SYSTEM_POLICIES:
        raise _taken(name)
    now = platform.now()
    try:
        with authz.changing(platform, account_id) as session:
            if policy_store.read_policy(session=session, account_id=account_id, name=name):
                raise _taken(name)
            if policy_store.count_policies(session=session, account_id=account_id) >= (
                ram.MAX_CUSTOM_POLICIES
            ):
                raise ram.limit_exceeded(
                    "custom policies per account",
                    ram.MAX_CUSTOM_POLICIES,
                    "delete custom policies you no longer need",
                    what_zh="每个账号的自定义权限策略",
                    hint_zh="请删除不再需要的自定义权限策略",
                )
            policy = insert_policy(session, account_id, name, description, document, now)
            return _custom_view(policy, document)
    except IntegrityError as exc:
        raise _taken(name) from exc


def insert_policy(
    session: db.Session,
    account_id: str,
    name: str,
    description: str,
    document: str,
    now: datetime,
) -> tables.RamPolicy:
    """Insert a custom policy and its v1 (the default) within the caller's RAM transaction,
    after the name, document and limit checks."""
    policy = policy_store.create_policy(
        session=session,
        policy=tables.RamPolicy(
            account_id=account_id,
            name=name,
            description=description,
            default_version="v1",
            next_version=2,
            created_at=now,
            updated_at=now,
        ),
    )
    policy_store.create_version(
        session=session,
        version=tables.RamPolicyVersion(
            policy_id=policy.id, version_id="v1", document=document, created_at=now
        ),
    )
    return policy


def read_policy(
    platform: platform_module.Platform, account_id: str, policy_type: str, name: str
) -> PolicyView:
    if check_type(policy_type) is ram.PolicyType.SYSTEM:
        return _system_view(name)
    with db.transaction(platform.sessions) as session:
        policy = find_policy(session, account_id, name)
        version = policy_store.read_version(
            session=session, policy_id=policy.id, version_id=policy.default_version
        )
        return _custom_view(policy, version.document if version else "")


def list_policies(
    platform: platform_module.Platform,
    account_id: str,
    policy_type: str | None,
    *,
    limit: int,
    offset: int,
) -> tuple[list[PolicyView], int]:
    """System policies first (by name), then the account's custom policies (by name)."""
    wanted = check_type(policy_type) if policy_type else None
    system = (
        [_system_view(name) for name in sorted(ram.SYSTEM_POLICIES)]
        if wanted in (None, ram.PolicyType.SYSTEM)
        else []
    )
    if wanted is ram.PolicyType.SYSTEM:
        return system[offset : offset + limit], len(system)
    with db.transaction(platform.sessions) as session:
        total = len(system) + policy_store.count_policies(session=session, account_id=account_id)
        page = system[offset : offset + limit]
        custom_offset = max(0, offset - len(system))
        custom = policy_store.list_policies(
            session=session, account_id=account_id, limit=limit - len(page), offset=custom_offset
        )
        documents = policy_store.default_documents(
            session=session, account_id=account_id, names=[p.name for p in custom]
        )
        page += [_custom_view(p, documents.get(p.name, ("", ""))[1]) for p in custom]
        return page, total


def delete_policy(platform: platform_module.Platform, account_id: str, name: str) -> None:
    with authz.changing(platform, account_id) as session:
        policy = find_policy(session, account_id, name)
        attached = attachment_store.list_for_policy(
            session=session, account_id=account_id, policy_type="Custom", policy_name=name
        )
        if attached:
            holders, holders_zh = _holders(session, attached)
            raise errors.Conflict(
                f"policy {name} is still attached to {holders}; detach it first (see its "
                "attachments)",
                f"权限策略 {name} 仍授权给 {holders_zh}；请先移除授权（参见其引用记录）",
                code="DeleteConflict.Policy.Attachment",
            )
        policy_store.delete_policy(session=session, policy_id=policy.id)


def _holders(session: db.Session, attached: list[tables.PolicyAttachment]) -> tuple[str, str]:
    """`user dev, role runner`: who still holds a policy, the first few by name (and in
    Chinese)."""
    shown = []
    shown_zh = []
    for attachment in attached[:_HOLDERS_SHOWN]:
        table = _HOLDER_TABLES[attachment.principal_kind]
        holder = session.get(table, attachment.principal_id)
        label = str(getattr(holder, "name", "")) or f"#{attachment.principal_id}"
        kind = attachment.principal_kind.lower()
        shown.append(f"{kind} {label}")
        shown_zh.append(f"{ram.KIND_ZH.get(kind, kind)} {label}")
    more = len(attached) - len(shown)
    english = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    chinese = "、".join(shown_zh) + (f" 等 {len(attached)} 个" if more > 0 else "")
    return english, chinese


def create_version(
    platform: platform_module.Platform,
    account_id: str,
    name: str,
    document: str,
    *,
    set_as_default: bool = False,
) -> tables.RamPolicyVersion:
    policies.parse(document)
    now = platform.now()
    with authz.changing(platform, account_id) as session:
        policy = find_policy(session, account_id, name)
        if len(policy_store.list_versions(session=session, policy_id=policy.id)) >= (
            ram.MAX_POLICY_VERSIONS
        ):
            raise ram.limit_exceeded(
                "versions per policy",
                ram.MAX_POLICY_VERSIONS,
                "delete a version that is not the default first",
                what_zh="每个权限策略的版本",
                hint_zh="请先删除一个非默认版本",
            )
        version_id = f"v{policy.next_version}"
        policy.next_version += 1
        policy.updated_at = now
        if set_as_default:
            policy.default_version = version_id
        return policy_store.create_version(
            session=session,
            version=tables.RamPolicyVersion(
                policy_id=policy.id, version_id=version_id, document=document, created_at=now
            ),
        )


def version_not_found(name: str, version_id: str) -> errors.NotFound:
    return errors.NotFound(
        f"policy {name[:128]} has no version {version_id[:16]}",
        f"权限策略 {name[:128]} 没有版本 {version_id[:16]}；请刷新策略页面查看其版本",
        code="EntityNotExist.PolicyVersion",
    )


def list_versions(
    platform: platform_module.Platform, account_id: str, policy_type: str, name: str
) -> list[tuple[str, bool, str, datetime | None]]:
    """(version id, is default, document, created at), oldest first."""
    if check_type(policy_type) is ram.PolicyType.SYSTEM:
        view = _system_view(name)
        return [("v1", True, view.document, None)]
    with db.transaction(platform.sessions) as session:
        policy = find_policy(session, account_id, name)
        versions = policy_store.list_versions(session=session, policy_id=policy.id)
        # by number: versions made in the same instant would otherwise sort as text (v10 < v2)
        versions.sort(key=lambda v: int(v.version_id[1:]))
        return [
            (v.version_id, v.version_id == policy.default_version, v.document, v.created_at)
            for v in versions
        ]


def set_default_version(
    platform: platform_module.Platform, account_id: str, name: str, version_id: str
) -> None:
    with authz.changing(platform, account_id) as session:
        policy = find_policy(session, account_id, name)
        if not text.is_storable(version_id) or not policy_store.read_version(
            session=session, policy_id=policy.id, version_id=version_id
        ):
            raise version_not_found(name, version_id)
        policy.default_version = version_id
        policy.updated_at = platform.now()


def delete_version(
    platform: platform_module.Platform, account_id: str, name: str, version_id: str
) -> None:
    with authz.changing(platform, account_id) as session:
        policy = find_policy(session, account_id, name)
        if not text.is_storable(version_id) or not policy_store.read_version(
            session=session, policy_id=policy.id, version_id=version_id
        ):
            raise version_not_found(name, version_id)
        if version_id == policy.default_version:
            raise errors.Conflict(
                f"{version_id} is the default version of {name}; make another version the "
                "default first",
                f"{version_id} 是 {name} 的默认版本；请先将其他版本设为默认版本",
                code="DeleteConflict.PolicyVersion.Default",
            )
        policy_store.delete_version(session=session, policy_id=policy.id, version_id=version_id)
