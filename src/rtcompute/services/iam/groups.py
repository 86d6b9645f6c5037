"""RAM groups: policies attached to a group apply to each member; a user joins at most 10.

Deleting a group removes its memberships and attachments with it.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import names, ram
from rtcompute.services.iam import authz
from rtcompute.services.iam import users as ram_users
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import attachments as attachment_store
from rtcompute.store import db, tables
from rtcompute.store import groups as group_store


def not_found(name: str) -> errors.NotFound:
    return errors.NotFound(
        f"group {name[:128]} does not exist",
        f"用户组 {name[:128]} 不存在；请检查用户组名称",
        code="EntityNotExist.Group",
    )


def find_group(session: db.Session, account_id: str, name: str) -> tables.RamGroup:
    group = (
        group_store.read_group(session=session, account_id=account_id, name=name)
        if names.GROUP.fits(name)
        else None
    )
    if group is None:
        raise not_found(name)
    return group


def _taken(name: str) -> errors.Conflict:
    return errors.Conflict(
        f"a group named {name} already exists in this account; choose another name",
        f"本账号已有名为 {name} 的用户组；请换一个名称",
        code="EntityAlreadyExists.Group",
    )


def create_group(
    platform: platform_module.Platform,
    account_id: str,
    name: str,
    *,
    display_name: str = "",
    comment: str = "",
) -> tables.RamGroup:
    names.GROUP.check(name)
    ram.check_display_name(display_name)
    ram.check_text("comment", comment, ram.MAX_DESCRIPTION)
    try:
        with authz.changing(platform, account_id) as session:
            if group_store.read_group(session=session, account_id=account_id, name=name):
                raise _taken(name)
            if group_store.count_groups(session=session, account_id=account_id) >= ram.MAX_GROUPS:
                raise ram.limit_exceeded(
                    "groups per account",
                    ram.MAX_GROUPS,
                    "delete groups you no longer need",
                    what_zh="每个账号的用户组",
                    hint_zh="请删除不再需要的用户组",
                )
            return group_store.create_group(
                session=session,
                group=tables.RamGroup(
                    account_id=account_id,
                    name=name,
                    display_name=display_name,
                    comment=comment,
                    created_at=platform.now(),
                ),
            )
    except IntegrityError as exc:
        raise _taken(name) from exc


def list_groups(
    platform: platform_module.Platform, account_id: str, *, limit: int, offset: int
) -> tuple[list[tables.RamGroup], int]:
    with db.transaction(platform.sessions) as session:
        found = group_store.list_groups(
            session=session, account_id=account_id, limit=limit, offset=offset
        )
        return found, group_store.count_groups(session=session, account_id=account_id)


def read_group(platform: platform_module.Platform, account_id: str, name: str) -> tables.RamGroup:
    with db.transaction(platform.sessions) as session:
        return find_group(session, account_id, name)


def update_group(
    platform: platform_module.Platform,
    account_id: str,
    name: str,
    *,
    new_name: str | None = None,
    display_name: str | None = None,
    comment: str | None = None,
) -> tables.RamGroup:
    if new_name:
        names.GROUP.check(new_name)
    try:
        with authz.changing(platform, account_id) as session:
            group = find_group(session, account_id, name)
            if new_name and new_name != group.name:
                if group_store.read_group(session=session, account_id=account_id, name=new_name):
                    raise _taken(new_name)
                group.name = new_name
            if display_name is not None:
                group.display_name = ram.check_display_name(display_name)
            if comment is not None:
                group.comment = ram.check_text("comment", comment, ram.MAX_DESCRIPTION)
            return group
    except IntegrityError as exc:
        raise _taken(new_name or name) from exc


def delete_group(platform: platform_module.Platform, account_id: str, name: str) -> None:
    with authz.changing(platform, account_id) as session:
        group = find_group(session, account_id, name)
        attachment_store.detach_all(
            session=session, principal_kind=ram.PrincipalKind.GROUP.value, principal_id=group.id
        )
        group_store.delete_group(session=session, group_id=group.id)


def add_user(platform: platform_module.Platform, account_id: str, group: str, user: str) -> None:
    """Add a user to a group; adding a member again is a no-op."""
    with authz.changing(platform, account_id) as session:
        found = find_group(session, account_id, group)
        member = ram_users.find_user(session, account_id, user)
        if group_store.read_member(session=session, group_id=found.id, identity_id=member.id):
            return
        if group_store.count_groups_of(session=session, identity_id=member.id) >= (
            ram.MAX_GROUPS_PER_USER
        ):
            raise ram.limit_exceeded(
                "groups per user",
                ram.MAX_GROUPS_PER_USER,
                f"remove {user} from a group before adding it to {group}",
                what_zh="每个用户加入的用户组",
                hint_zh=f"请先将 {user} 移出一个用户组，再把它加入 {group}",
            )
        group_store.add_member(
            session=session,
            member=tables.GroupMember(
                group_id=found.id, identity_id=member.id, joined_at=platform.now()
            ),
        )


def remove_user(platform: platform_module.Platform, account_id: str, group: str, user: str) -> None:
    with authz.changing(platform, account_id) as session:
        found = find_group(session, account_id, group)
        member = ram_users.find_user(session, account_id, user)
        if not group_store.read_member(session=session, group_id=found.id, identity_id=member.id):
            raise errors.NotFound(
                f"RAM user {user} is not a member of group {group}",
                f"RAM 用户 {user} 不是用户组 {group} 的成员",
                code="EntityNotExist.User.Group",
            )
        group_store.remove_member(session=session, group_id=found.id, identity_id=member.id)


def list_members(
    platform: platform_module.Platform, account_id: str, group: str
) -> list[tables.Identity]:
    with db.transaction(platform.sessions) as session:
        found = find_group(session, account_id, group)
        return group_store.list_members(session=session, group_id=found.id)


def list_groups_of(
    platform: platform_module.Platform, account_id: str, user: str
) -> list[tables.RamGroup]:
    with db.transaction(platform.sessions) as session:
        member = ram_users.find_user(session, account_id, user)
        return group_store.list_groups_of(session=session, identity_id=member.id)
