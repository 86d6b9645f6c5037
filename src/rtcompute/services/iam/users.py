"""RAM users: identities under an account that sign in at the account's login URL.

Deleting a user also removes its group memberships, policy attachments, access keys and
sessions (the vendor's console does the same in one step); nothing of it stays behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import identities, names, ram, throttling
from rtcompute.services.iam import authz
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import attachments as attachment_store
from rtcompute.store import db, tables
from rtcompute.store import groups as group_store
from rtcompute.store import identities as identity_store
from rtcompute.store import sessions as session_store
from rtcompute.store import sign_in_throttles as throttle_store


@dataclass(frozen=True)
class NewUser:
    name: str
    display_name: str = ""
    comment: str = ""
    password: str | None = None
    console_enabled: bool = False


@dataclass(frozen=True)
class UserChange:
    new_name: str | None = None
    display_name: str | None = None
    comment: str | None = None
    console_enabled: bool | None = None


def not_found(name: str) -> errors.NotFound:
    return errors.NotFound(
        f"RAM user {name[:128]} does not exist",
        f"RAM 用户 {name[:128]} 不存在；请检查用户名",
        code="EntityNotExist.User",
    )


def find_user(session: db.Session, account_id: str, name: str) -> tables.Identity:
    """The RAM user of that name, or EntityNotExist.User."""
    identity = (
        identity_store.read_identity_by_name(session=session, account_id=account_id, name=name)
        if names.USER.fits(name)
        else None
    )
    if identity is None or identity.identity_type != identities.IdentityType.RAM_USER:
        raise not_found(name)
    return identity


def _check_password(platform: platform_module.Platform, name: str, password: str) -> str:
    identities.check_password(
        password, name=name, min_length=platform.settings.auth.password_min_length
    )
    return platform.passwords.hash(password)


def _taken(name: str) -> errors.Conflict:
    return errors.Conflict(
        f"a RAM user named {name} already exists in this account; choose another name",
        f"本账号已有名为 {name} 的 RAM 用户；请换一个名称",
        code="EntityAlreadyExists.User",
    )


def create_user(
    platform: platform_module.Platform, account_id: str, new: NewUser
) -> tables.Identity:
    name = names.USER.check(new.name)
    display_name = ram.check_display_name(new.display_name)
    comment = ram.check_text("comment", new.comment, ram.MAX_DESCRIPTION)
    if new.console_enabled and not new.password:
        raise errors.Invalid(
            "console access needs a password: give one or leave console access off",
            "开启控制台访问需要密码：请设置密码，或不开启控制台访问",
            code="InvalidParameter.Password",
        )
    password_hash = _check_password(platform, name, new.password) if new.password else None
    try:
        with authz.changing(platform, account_id) as session:
            if identity_store.read_identity_by_name(
                session=session, account_id=account_id, name=name
            ):
                raise _taken(name)
            if identity_store.count_ram_users(session=session, account_id=account_id) >= (
                ram.MAX_USERS
            ):
                raise ram.limit_exceeded(
                    "RAM users per account",
                    ram.MAX_USERS,
                    "delete users you no longer need",
                    what_zh="每个账号的 RAM 用户",
                    hint_zh="请删除不再需要的用户",
                )
            return identity_store.create_identity(
                session=session,
                identity=tables.Identity(
                    account_id=account_id,
                    identity_type=identities.IdentityType.RAM_USER.value,
                    name=name,
                    display_name=display_name,
                    comment=comment,
                    password_hash=password_hash,
                    console_enabled=new.console_enabled,
                    last_activity_at=platform.now(),
                    mfa_enabled=False,
                    created_at=platform.now(),
                ),
            )
    except IntegrityError as exc:  # a concurrent creation took the name
        raise _taken(name) from exc


def list_users(
    platform: platform_module.Platform, account_id: str, *, limit: int, offset: int
) -> tuple[list[tables.Identity], int]:
    with db.transaction(platform.sessions) as session:
        users = identity_store.list_ram_users(
            session=session, account_id=account_id, limit=limit, offset=offset
        )
        return users, identity_store.count_ram_users(session=session, account_id=account_id)


def read_user(platform: platform_module.Platform, account_id: str, name: str) -> tables.Identity:
    with db.transaction(platform.sessions) as session:
        return find_user(session, account_id, name)


def update_user(
    platform: platform_module.Platform, account_id: str, name: str, change: UserChange
) -> tables.Identity:
    new_name = names.USER.check(change.new_name) if change.new_name else None
    try:
        with authz.changing(platform, account_id) as session:
            user = find_user(session, account_id, name)
            if new_name and new_name != user.name:
                if identity_store.read_identity_by_name(
                    session=session, account_id=account_id, name=new_name
                ):
                    raise _taken(new_name)
                user.name = new_name
            if change.display_name is not None:
                user.display_name = ram.check_display_name(change.display_name)
            if change.comment is not None:
                user.comment = ram.check_text("comment", change.comment, ram.MAX_DESCRIPTION)
            if change.console_enabled is not None:
                if change.console_enabled and user.password_hash is None:
                    raise errors.Invalid(
                        "set a password first: console access needs one",
                        "请先设置密码：开启控制台访问需要密码",
                        code="InvalidParameter.Password",
                    )
                if user.console_enabled and not change.console_enabled:
                    # console access off: the sessions opened with the password end now, not
                    # at their idle timeout (the user keeps its access keys)
                    session_store.delete_sessions_of_identity(session=session, identity_id=user.id)
                user.console_enabled = change.console_enabled
            identity_id = user.id
    except IntegrityError as exc:
        raise _taken(new_name or name) from exc
    platform.credentials.drop_identity(identity_id)
    return user


def set_password(
    platform: platform_module.Platform, account_id: str, name: str, password: str
) -> None:
    """Set or reset a user's console password; signed-in sessions of the user end."""
    with db.transaction(platform.sessions) as session:
        user = find_user(session, account_id, name)
        user.password_hash = _check_password(platform, user.name, password)
        # the new password is a fresh start for every source that was throttled on it
        throttle_store.forget_subject(session=session, subject=throttling.identity_subject(user.id))
        session_store.delete_sessions_of_identity(session=session, identity_id=user.id)
        identity_id = user.id
    platform.credentials.drop_identity(identity_id)


def unbind_mfa(platform: platform_module.Platform, account_id: str, name: str) -> None:
    """Remove a user's MFA device (a lost phone); the user binds a new one on next sign-in."""
    with db.transaction(platform.sessions) as session:
        user = find_user(session, account_id, name)
        user.mfa_enabled = False
        user.mfa_secret = None
        user.mfa_last_step = None


def delete_user(platform: platform_module.Platform, account_id: str, name: str) -> None:
    with authz.changing(platform, account_id) as session:
        user = find_user(session, account_id, name)
        attachment_store.detach_all(
            session=session, principal_kind=ram.PrincipalKind.USER.value, principal_id=user.id
        )
        group_store.remove_memberships(session=session, identity_id=user.id)
        identity_store.delete_identity(session=session, identity_id=user.id)
        identity_id = user.id
    platform.credentials.drop_identity(identity_id)


def user_id(platform: platform_module.Platform, account_id: str, name: str) -> int:
    """The identity id of a RAM user (for its access keys), or EntityNotExist.User."""
    with db.transaction(platform.sessions) as session:
        return find_user(session, account_id, name).id
