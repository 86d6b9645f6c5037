"""Sessions and credentials: turn a bearer token or cookie into a Principal.

This is the hot path of every authenticated request: one joined read, and a write only when
the last-used time is older than `access_key_touch_seconds` (coarse on purpose).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from rtcompute import errors, settings
from rtcompute.domain import credentials, identities
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import db, tables
from rtcompute.store import sessions as session_store

CONSOLE = "console"
CLI = "cli"


def _expired() -> errors.Unauthenticated:
    return errors.Unauthenticated(
        "your session has expired; sign in again",
        "您的会话已过期，请重新登录",
        code="SessionExpired",
    )


def _lifetimes(auth: settings.AuthSettings, kind: str) -> tuple[timedelta, timedelta]:
    """(idle, absolute) lifetime of a session of this kind."""
    if kind == CONSOLE:
        return timedelta(minutes=auth.console_idle_minutes), timedelta(
            hours=auth.console_absolute_hours
        )
    return timedelta(days=auth.cli_idle_days), timedelta(days=auth.cli_absolute_days)


def new_session_record(
    platform: platform_module.Platform,
    *,
    identity_id: int,
    kind: str,
    source_ip: str,
    mfa_present: bool,
) -> tuple[str, tables.Session]:
    """A fresh token and its record (not yet added to a database session)."""
    now = platform.now()
    idle, absolute = _lifetimes(platform.settings.auth, kind)
    token = credentials.new_session_token()
    record = tables.Session(
        token_hash=credentials.digest(token),
        identity_id=identity_id,
        kind=kind,
        csrf_token=credentials.new_csrf_token(),
        mfa_present=mfa_present,
        source_ip=source_ip[:64],
        created_at=now,
        last_seen_at=now,
        idle_expires_at=now + idle,
        expires_at=now + absolute,
    )
    return token, record


def _principal(
    identity: tables.Identity,
    account: tables.Account,
    *,
    auth_method: str,
    credential_id: str,
    mfa_present: bool = False,
    csrf_token: str = "",
) -> principals.Principal:
    return principals.Principal(
        identity_id=identity.id,
        account_id=account.id,
        account_alias=account.alias,
        identity_type=identities.IdentityType(identity.identity_type),
        name=identity.name,
        is_operator=account.is_operator,
        auth_method=auth_method,
        credential_id=credential_id,
        mfa_present=mfa_present,
        csrf_token=csrf_token,
        ram_revision=account.ram_revision,
    )


def cached(platform: platform_module.Platform, token: str) -> principals.Principal | None:
    """The principal of a token verified moments ago, from memory; None when not cached.

    Cheap enough for the event loop: one SHA-256 and a dict lookup.
    """
    if not platform.credentials.enabled:
        return None
    return platform.credentials.get(credentials.digest(token), platform.now())


def authenticate(platform: platform_module.Platform, token: str) -> principals.Principal:
    """A session token (`rtcs_...`) or an access key (`<id>:<secret>`) to its principal."""
    hit = cached(platform, token)
    if hit is not None:
        return hit
    if token.startswith(credentials.SESSION_PREFIX):
        principal, expires_at = _authenticate_session(platform, token)
    else:
        parts = credentials.split_bearer(token)
        if parts is None:
            raise errors.Unauthenticated(
                "the Authorization header must be `Bearer <access-key-id>:<secret>` or a "
                "session token from `rtc login`",
                "Authorization 请求头必须是 `Bearer <access-key-id>:<secret>` 或 `rtc login` "
                "得到的会话令牌",
                code="InvalidCredentials",
            )
        principal, expires_at = _authenticate_access_key(platform, *parts)
    platform.credentials.put(credentials.digest(token), principal, platform.now(), expires_at)
    return principal


def _authenticate_session(
    platform: platform_module.Platform, token: str
) -> tuple[principals.Principal, datetime | None]:
    now = platform.now()
    expires_at: datetime | None = None
    query = (
        select(tables.Session, tables.Identity, tables.Account)
        .join(tables.Identity, tables.Identity.id == tables.Session.identity_id)
        .join(tables.Account, tables.Account.id == tables.Identity.account_id)
        .where(tables.Session.token_hash == credentials.digest(token))
    )
    with db.transaction(platform.sessions) as session:
        row = session.execute(query).first()
        if row is None:
            raise _expired()
        record, identity, account = row
        expired = record.expires_at <= now or record.idle_expires_at <= now
        if expired:
            # raised after the commit: raising in here would roll the delete back
            session_store.delete_session(session=session, session_id=record.id)
        else:
            touch = timedelta(seconds=platform.settings.auth.access_key_touch_seconds)
            if now - record.last_seen_at >= touch:
                idle, _ = _lifetimes(platform.settings.auth, record.kind)
                record.last_seen_at = now
                record.idle_expires_at = min(now + idle, record.expires_at)
                identity.last_activity_at = now
            principal = _principal(
                identity,
                account,
                auth_method="session",
                credential_id=str(record.id),
                mfa_present=record.mfa_present,
                csrf_token=record.csrf_token,
            )
            expires_at = min(record.expires_at, record.idle_expires_at)
    if expired:
        raise _expired()
    return principal, expires_at


def _authenticate_access_key(
    platform: platform_module.Platform, key_id: str, secret: str
) -> tuple[principals.Principal, datetime | None]:
    now = platform.now()
    query = (
        select(tables.AccessKey, tables.Identity, tables.Account)
        .join(tables.Identity, tables.Identity.id == tables.AccessKey.identity_id)
        .join(tables.Account, tables.Account.id == tables.Identity.account_id)
        .where(tables.AccessKey.id == key_id)
    )
    with db.transaction(platform.sessions) as session:
        row = session.execute(query).first()
        if row is None or not credentials.matches(secret, row[0].secret_hash):
            raise errors.Unauthenticated(
                "the access key id or secret is wrong",
                "AccessKey ID 或 AccessKey Secret 错误",
                code="InvalidAccessKey",
            )
        key, identity, account = row
        if key.status != "Active":
            raise errors.Unauthenticated(
                f"access key {key.id} is disabled; enable it or use another key",
                f"AccessKey {key.id} 已禁用；请启用它或使用其他 AccessKey",
                code="AccessKeyDisabled",
            )
        touch = timedelta(seconds=platform.settings.auth.access_key_touch_seconds)
        if key.last_used_at is None or now - key.last_used_at >= touch:
            key.last_used_at = now
            identity.last_activity_at = now
        principal = _principal(identity, account, auth_method="access_key", credential_id=key.id)
        return principal, None


def sign_out(platform: platform_module.Platform, principal: principals.Principal) -> None:
    if principal.auth_method != "session":
        return
    platform.credentials.drop_identity(principal.identity_id)
    with db.transaction(platform.sessions) as session:
        session_store.delete_session(session=session, session_id=int(principal.credential_id))


def purge_expired(platform: platform_module.Platform, now: datetime) -> int:
    with db.transaction(platform.sessions) as session:
        return session_store.delete_expired_sessions(session=session, now=now)
