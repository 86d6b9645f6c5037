"""Buckets and their objects: artifact storage for UDFs and job resources (the guide's OSS).

Bucket names are unique across the installation, as in a cloud object store. Creating or
deleting a bucket and writing or deleting an object make the service keep data for the
tenant, so a RAM user also needs `ram:PassRole` on the service role (guide error 922019);
reads do not. The guide's exclusive clusters want a standard-class bucket that is not
public-read: `check_for_cluster` says so, for the cluster service.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import buckets as bucket_domain
from rtcompute.domain import names
from rtcompute.services.iam import service_role
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import buckets as bucket_store
from rtcompute.store import db
from rtcompute.store.tables import capacity as capacity_tables

Bucket = capacity_tables.Bucket
StoredObject = bucket_store.StoredObject


@dataclass(frozen=True)
class BucketView:
    name: str
    region: str
    storage_class: str
    acl: str
    created_by: str
    created_at: datetime
    arn: str


def size_text(size: int) -> str:
    """A byte count as people write limits: 64 MiB, 512 KiB, 100 bytes."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def resource_of(bucket: Bucket) -> str:
    return f"acs:oss:*:{bucket.account_id}:{bucket.name}"


def view(bucket: Bucket) -> BucketView:
    return BucketView(
        bucket.name,
        bucket.region,
        bucket.storage_class,
        bucket.acl,
        bucket.created_by,
        bucket.created_at,
        resource_of(bucket),
    )


def check_key(key: str) -> str:
    bucket_domain.check_object_key(key)
    if any(part.startswith(bucket_store.TEMPORARY_PREFIX) for part in key.split("/")):
        raise errors.Invalid(
            f"object key parts must not start with {bucket_store.TEMPORARY_PREFIX!r} "
            "(reserved for uploads in progress)",
            f"对象名的各段不能以 {bucket_store.TEMPORARY_PREFIX!r} 开头（它留给正在进行的上传）",
            code=bucket_domain.KEY_CODE,
        )
    return key


def check_new_key(key: str) -> str:
    """A key to store an object under: `check_key`, and no bidirectional control character."""
    check_key(key)
    return bucket_domain.check_new_object_key(key)


def read_bucket(
    session: db.Session, account_id: str, name: str, *, lock: bool = False, share: bool = False
) -> Bucket:
    """The account's bucket of that name, or NotFound."""
    found = (
        bucket_store.read_bucket(
            session=session, account_id=account_id, name=name, lock=lock, share=share
        )
        if names.BUCKET.fits(name)
        else None
    )
    if found is None:
        raise errors.NotFound(
            f"bucket {name[:63]!r} does not exist in this account; create it first",
            f"本账号中不存在存储空间 {name[:63]!r}，请先创建",
            code="NoSuchBucket",
        )
    return found


def check_for_cluster(bucket: Bucket) -> None:
    """Guide, exclusive cluster configuration: standard storage, and never public-read."""
    bucket_domain.check_for_cluster(bucket.name, bucket.storage_class, bucket.acl)


def _root(platform: platform_module.Platform, bucket: Bucket) -> Path:
    return bucket_store.directory(platform.settings.data_dir, bucket.id)


def create_bucket(
    platform: platform_module.Platform,
    principal: principals.Principal,
    request: principals.RequestContext,
    name: str,
    *,
    storage_class: str = bucket_domain.STANDARD,
    acl: str = bucket_domain.PRIVATE,
) -> BucketView:
    names.BUCKET.check(name)
    bucket_domain.check_storage_class(storage_class)
    bucket_domain.check_acl(acl)
    service_role.check_pass_role(platform, principal, request)
    taken = errors.Conflict(
        f"the bucket name {name} is taken (bucket names are unique across the installation); "
        "choose another",
        f"存储空间名称 {name} 已被占用（存储空间名称在整个平台内唯一），请换一个",
        code="BucketAlreadyExists",
    )
    try:
        with db.transaction(platform.sessions) as session:
            if bucket_store.name_taken(session=session, name=name):
                raise taken
            bucket = bucket_store.create_bucket(
                session=session,
                bucket=Bucket(
                    account_id=principal.account_id,
                    region=platform.settings.region,
                    name=name,
                    storage_class=storage_class,
                    acl=acl,
                    created_by=principal.display[:200],
                    created_at=platform.now(),
                ),
            )
            # a database may hand out a deleted bucket's id again: start from nothing
            bucket_store.remove_directory(_root(platform, bucket))
            return view(bucket)
    except IntegrityError as exc:
        raise taken from exc


def list_buckets(platform: platform_module.Platform, account_id: str) -> list[BucketView]:
    with db.transaction(platform.sessions) as session:
        return [view(b) for b in bucket_store.list_buckets(session=session, account_id=account_id)]


def describe_bucket(platform: platform_module.Platform, account_id: str, name: str) -> BucketView:
    with db.transaction(platform.sessions) as session:
        return view(read_bucket(session, account_id, name))


def update_bucket(
    platform: platform_module.Platform,
    account_id: str,
    name: str,
    *,
    acl: str | None = None,
    storage_class: str | None = None,
) -> BucketView:
    if acl is not None:
        bucket_domain.check_acl(acl)
    if storage_class is not None:
        bucket_domain.check_storage_class(storage_class)
    with db.transaction(platform.sessions) as session:
        bucket = read_bucket(session, account_id, name, lock=True)
        if acl is not None:
            bucket.acl = acl
        if storage_class is not None:
            bucket.storage_class = storage_class
        clusters = bucket_store.count_clusters(session=session, bucket_id=bucket.id)
        if clusters:
            try:
                check_for_cluster(bucket)
            except errors.Invalid as exc:  # rolled back with the transaction
                raise errors.Conflict(
                    f"bucket {name} is used by {clusters} clusters, which need it standard "
                    f"and not public-read: {exc.message}",
                    f"存储空间 {name} 正被 {clusters} 个集群使用，它们要求存储空间为标准存储类型且"
                    f"不是公共读：{exc.zh}",
                    code="BucketInUse",
                ) from None
        return view(bucket)


def delete_bucket(
    platform: platform_module.Platform,
    principal: principals.Principal,
    request: principals.RequestContext,
    name: str,
) -> None:
    """Delete an empty bucket no cluster uses."""
    service_role.check_pass_role(platform, principal, request)
    with db.transaction(platform.sessions) as session:
        bucket = read_bucket(session, principal.account_id, name, lock=True)
        clusters = bucket_store.count_clusters(session=session, bucket_id=bucket.id)
        if clusters:
            raise errors.Conflict(
                f"bucket {name} is used by {clusters} clusters: release them first",
                f"存储空间 {name} 正被 {clusters} 个集群使用，请先释放这些集群",
                code="BucketInUse",
            )
        root = _root(platform, bucket)
        if bucket_store.has_objects(root):
            raise errors.Conflict(
                f"bucket {name} is not empty: delete its objects first",
                f"存储空间 {name} 不为空，请先删除其中的对象",
                code="BucketNotEmpty",
            )
        bucket_store.delete_bucket(session=session, bucket_id=bucket.id)
        bucket_store.remove_directory(root)


def put_object(
    platform: platform_module.Platform,
    principal: principals.Principal,
    request: principals.RequestContext,
    bucket_name: str,
    key: str,
    content: bytes | BinaryIO,
) -> StoredObject:
    """Store the object whole, replacing one of the same key.

    `content` is the object, or a file holding it from its current position (an upload
    spooled to disk as it arrived: a large object is never held in memory whole).
    """
    check_new_key(key)
    limit = platform.settings.storage.max_object_bytes
    if isinstance(content, bytes):
        content = io.BytesIO(content)
    if _remaining_size(content) > limit:
        raise errors.PayloadTooLarge(
            f"the object is larger than the limit of {size_text(limit)}",
            f"对象超过了 {size_text(limit)} 的大小上限",
            code="EntityTooLarge",
        )
    service_role.check_pass_role(platform, principal, request)
    with db.transaction(platform.sessions) as session:
        bucket = read_bucket(session, principal.account_id, bucket_name, share=True)
        try:
            return bucket_store.write_object(_root(platform, bucket), key, content)
        except bucket_store.OutsideBucket:
            raise _outside(key) from None
        except bucket_store.KeyClash:
            raise errors.Conflict(
                f"object key {key[:200]!r} clashes with another key: one names a folder of the "
                "other; choose another key",
                f"对象名 {key[:200]!r} 与另一个对象名冲突：其中一个是另一个的目录；请换一个对象名",
                code="ObjectKeyConflict",
            ) from None
        except OSError as exc:  # the disk, not the request: nothing was written
            # the reason without the file's path: the data directory is the server's business
            reason = exc.strerror or "an input/output error"
            raise errors.Unavailable(
                f"the object could not be stored ({reason}); try again, or ask "
                "the operator to check the data directory's disk",
                f"对象未能存储（{reason}）；请重试，或请运维人员检查数据目录所在的磁盘",
                code="StorageUnavailable",
            ) from exc


def _remaining_size(handle: BinaryIO) -> int:
    """How many bytes `handle` holds from its position on (the position is kept)."""
    position = handle.tell()
    end = handle.seek(0, os.SEEK_END)
    handle.seek(position)
    return end - position


def _outside(key: str) -> errors.Invalid:
    return errors.Invalid(
        f"object key {key[:200]!r} would lie outside the bucket",
        f"对象名 {key[:200]!r} 会指向存储空间之外",
        code=bucket_domain.KEY_CODE,
    )


def no_such_key(key: str) -> errors.NotFound:
    """The error of an object that is not there (the service's and the download route's)."""
    return errors.NotFound(
        f"object {key[:200]!r} does not exist", f"对象 {key[:200]!r} 不存在", code="NoSuchKey"
    )


def list_objects(
    platform: platform_module.Platform, account_id: str, bucket_name: str, prefix: str = ""
) -> list[StoredObject]:
    with db.transaction(platform.sessions) as session:
        bucket = read_bucket(session, account_id, bucket_name)
    return bucket_store.list_objects(_root(platform, bucket), prefix)


def object_file(
    platform: platform_module.Platform, account_id: str, bucket_name: str, key: str
) -> Path:
    """The file to send for a download."""
    check_key(key)
    with db.transaction(platform.sessions) as session:
        bucket = read_bucket(session, account_id, bucket_name)
    try:
        found = bucket_store.read_object(_root(platform, bucket), key)
    except bucket_store.OutsideBucket:
        raise _outside(key) from None
    if found is None:
        raise no_such_key(key)
    return found


def delete_object(
    platform: platform_module.Platform,
    principal: principals.Principal,
    request: principals.RequestContext,
    bucket_name: str,
    key: str,
) -> None:
    check_key(key)
    service_role.check_pass_role(platform, principal, request)
    with db.transaction(platform.sessions) as session:
        bucket = read_bucket(session, principal.account_id, bucket_name, share=True)
        try:
            deleted = bucket_store.delete_object(_root(platform, bucket), key)
        except bucket_store.OutsideBucket:
            raise _outside(key) from None
    if not deleted:
        raise no_such_key(key)
