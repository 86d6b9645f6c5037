"""Access keys of an identity: at most `max_access_keys`, the secret shown once."""

from __future__ import annotations

from dataclasses import dataclass

from rtcompute import errors
from rtcompute.domain import credentials
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import access_keys as key_store
from rtcompute.store import db, tables
from rtcompute.store import identities as identity_store

STATUSES = ("Active", "Inactive")


@dataclass(frozen=True)
class CreatedKey:
    key: tables.AccessKey
    secret: str


def create_access_key(platform: platform_module.Platform, identity_id: int) -> CreatedKey:
    limit = platform.settings.auth.max_access_keys
    secret = credentials.new_access_key_secret()
    with db.transaction(platform.sessions) as session:
        # serialize creations per identity: count-then-insert would let two through at once
        identity_store.lock_identity(session=session, identity_id=identity_id)
        if key_store.count_access_keys(session=session, identity_id=identity_id) >= limit:
            raise errors.QuotaExceeded(
                f"an identity may have at most {limit} access keys; delete one first",
                f"每个身份最多 {limit} 个 AccessKey；请先删除一个",
                code="AccessKeyLimitExceeded",
            )
        key = key_store.create_access_key(
            session=session,
            key=tables.AccessKey(
                id=credentials.new_access_key_id(),
                identity_id=identity_id,
                secret_hash=credentials.digest(secret),
                status="Active",
                created_at=platform.now(),
            ),
        )
    return CreatedKey(key=key, secret=secret)


def list_access_keys(
    platform: platform_module.Platform, identity_id: int
) -> list[tables.AccessKey]:
    with db.transaction(platform.sessions) as session:
        return key_store.list_access_keys(session=session, identity_id=identity_id)


def _own_key(session: db.Session, identity_id: int, key_id: str) -> tables.AccessKey:
    # an id we never hand out (NUL bytes, 10k characters) is not looked up: the database
    # might refuse the query itself
    key = (
        key_store.read_access_key(session=session, key_id=key_id)
        if credentials.is_access_key_id(key_id)
        else None
    )
    if key is None or key.identity_id != identity_id:
        raise errors.NotFound(
            f"access key {key_id[:40]} not found",
            f"AccessKey {key_id[:40]} 不存在；请刷新页面查看您的 AccessKey",
            code="AccessKeyNotFound",
        )
    return key


def set_status(
    platform: platform_module.Platform,
    identity_id: int,
    key_id: str,
    status: str,
) -> tables.AccessKey:
    if status not in STATUSES:
        raise errors.Invalid(
            "status must be Active or Inactive",
            "状态只能是 Active（启用）或 Inactive（禁用）",
            code="InvalidStatus",
        )
    with db.transaction(platform.sessions) as session:
        key = _own_key(session, identity_id, key_id)
        key.status = status
    platform.credentials.drop_identity(identity_id)
    return key


def delete_access_key(platform: platform_module.Platform, identity_id: int, key_id: str) -> None:
    with db.transaction(platform.sessions) as session:
        _own_key(session, identity_id, key_id)
        key_store.delete_access_key(session=session, key_id=key_id)
    platform.credentials.drop_identity(identity_id)
