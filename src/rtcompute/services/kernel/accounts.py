"""Accounts: public sign-up, creation by the operator, and the first start's bootstrap."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import credentials, identities, names
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import accounts as account_store
from rtcompute.store import db, tables
from rtcompute.store import identities as identity_store


@dataclass(frozen=True)
class NewAccount:
    alias: str
    password: str
    display_name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Bootstrapped:
    alias: str
    password: str | None  # None when it came from RTC_BOOTSTRAP_PASSWORD


def sign_up(platform: platform_module.Platform, new: NewAccount) -> tables.Account:
    if not platform.settings.auth.public_signup:
        raise errors.Forbidden(
            "public sign-up is turned off on this platform; ask the operator for an account",
            "本平台已关闭公开注册，请联系平台管理员为您开通账号",
            code="SignupDisabled",
        )
    return _create(platform, new, is_operator=False)


def create_account(
    platform: platform_module.Platform, principal: principals.Principal, new: NewAccount
) -> tables.Account:
    del principal  # authorized by the route (operator only)
    return _create(platform, new, is_operator=False)


def list_accounts(
    platform: platform_module.Platform, *, limit: int, offset: int
) -> list[tables.Account]:
    with db.transaction(platform.sessions) as session:
        return account_store.list_accounts(session=session, limit=limit, offset=offset)


def read_account(platform: platform_module.Platform, account_id: str) -> tables.Account:
    with db.transaction(platform.sessions) as session:
        account = account_store.read_account(session=session, account_id=account_id)
        if account is None:
            raise errors.NotFound(
                f"account {account_id} not found",
                f"账号 {account_id} 不存在",
                code="AccountNotFound",
            )
        return account


def find_account_id(platform: platform_module.Platform, alias: str) -> str | None:
    """The id behind an alias, so that failed sign-ins land in that account's audit trail."""
    if not names.ACCOUNT_ALIAS.fits(alias):
        return None  # no account can have this alias
    with db.transaction(platform.sessions) as session:
        account = account_store.read_account_by_alias(session=session, alias=alias)
        return account.id if account is not None else None


def _create(
    platform: platform_module.Platform, new: NewAccount, *, is_operator: bool
) -> tables.Account:
    alias = names.ACCOUNT_ALIAS.check(new.alias)
    display_name = identities.check_display_name(new.display_name)
    email = identities.check_email(new.email)
    identities.check_password(
        new.password, name=alias, min_length=platform.settings.auth.password_min_length
    )
    password_hash = platform.passwords.hash(new.password)
    now = platform.now()
    try:
        with db.transaction(platform.sessions) as session:
            if account_store.read_account_by_alias(session=session, alias=alias) is not None:
                raise _alias_taken(alias)
            account = account_store.create_account(
                session=session,
                account=tables.Account(
                    id=credentials.new_account_id(),
                    alias=alias,
                    display_name=display_name,
                    email=email,
                    is_operator=is_operator,
                    created_at=now,
                ),
            )
            identity_store.create_identity(
                session=session,
                identity=tables.Identity(
                    account_id=account.id,
                    identity_type=identities.IdentityType.ACCOUNT.value,
                    name=alias,
                    password_hash=password_hash,
                    console_enabled=True,
                    last_activity_at=now,
                    mfa_enabled=False,
                    created_at=now,
                ),
            )
            return account
    except IntegrityError as exc:  # a concurrent sign-up took the alias between read and write
        raise _alias_taken(alias) from exc


def _alias_taken(alias: str) -> errors.Conflict:
    return errors.Conflict(
        f"the account alias {alias!r} is taken; choose another",
        f"账号别名 {alias!r} 已被占用，请换一个",
        code="AccountAliasExists",
    )


def bootstrap(platform: platform_module.Platform) -> Bootstrapped | None:
    """Create the operator account on the first start; None when one exists already."""
    with db.transaction(platform.sessions) as session:
        if account_store.count_accounts(session=session) > 0:
            return None
    configured = platform.settings.bootstrap_password
    password = configured or credentials.new_password()
    alias = platform.settings.bootstrap_account
    try:
        _create(platform, NewAccount(alias=alias, password=password), is_operator=True)
    except errors.Conflict:
        return None  # another process bootstrapped at the same moment
    return Bootstrapped(alias=alias, password=None if configured else password)
