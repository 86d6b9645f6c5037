"""Data access for buckets, and their objects as files under `<data_dir>/buckets/<id>/`.

Objects are plain files named by their key, so an operator can read them with any tool.
Every write goes to a temporary file in the object's own directory and is then renamed
over the key (`os.replace` is atomic on one file system): a crash or a failed upload
leaves the old object or none, never half of one. Every path is resolved and checked to
stay inside the bucket's directory, whatever the key's validation already refused.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rtcompute.domain import clusters as cluster_domain
from rtcompute.store.tables import capacity as capacity_tables

Bucket = capacity_tables.Bucket
# temporary upload files carry this prefix; listings skip them and keys may not use it
TEMPORARY_PREFIX = ".rtc-upload-"
COPY_CHUNK = 1024 * 1024


def create_bucket(*, session: Session, bucket: Bucket) -> Bucket:
    session.add(bucket)
    session.flush()
    return bucket


def read_bucket(
    *, session: Session, account_id: str, name: str, lock: bool = False, share: bool = False
) -> Bucket | None:
    """The bucket; on PostgreSQL `lock` holds its row exclusively and `share` in shared
    mode to the end of the transaction: object writes share it, deleting the bucket
    excludes them, so no object lands in a bucket being deleted."""
    query = select(Bucket).where(Bucket.account_id == account_id, Bucket.name == name)
    if lock or share:
        query = query.with_for_update(read=not lock)
    return session.scalars(query).first()


def name_taken(*, session: Session, name: str) -> bool:
    """Bucket names are unique across the installation, as in object storage services."""
    return session.scalar(select(func.count()).where(Bucket.name == name)) != 0


def list_buckets(*, session: Session, account_id: str) -> list[Bucket]:
    query = select(Bucket).where(Bucket.account_id == account_id).order_by(Bucket.name)
    return list(session.scalars(query))


def delete_bucket(*, session: Session, bucket_id: int) -> None:
    session.execute(delete(Bucket).where(Bucket.id == bucket_id))


def count_clusters(*, session: Session, bucket_id: int) -> int:
    """Clusters that keep their artifacts in the bucket (released ones no longer do)."""
    cluster = capacity_tables.Cluster
    query = (
        select(func.count())
        .select_from(cluster)
        .where(cluster.bucket_id == bucket_id, cluster.state != cluster_domain.RELEASED)
    )
    return session.scalar(query) or 0


# ---------------------------------------------------------------- objects on disk


class OutsideBucket(ValueError):
    """A key whose path would leave the bucket's directory."""


class KeyClash(ValueError):
    """A key that is a directory of other keys, or lies below another object."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime


def directory(data_dir: Path, bucket_id: int) -> Path:
    return data_dir / "buckets" / str(bucket_id)


def object_path(root: Path, key: str) -> Path:
    """The file of `key` inside `root`, resolved; OutsideBucket when it would leave it."""
    base = root.resolve()
    path = (base / key).resolve()
    if path == base or not path.is_relative_to(base):
        raise OutsideBucket(key)
    return path


def write_object(root: Path, key: str, content: bytes | BinaryIO) -> StoredObject:
    """Write the object whole (temporary file, fsync, rename) or not at all; `content` is
    the object, or a file copied from its current position in chunks."""
    path = object_path(root, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise KeyClash(key) from exc
    # the parent may be a symbolic link planted by hand: check again once it exists
    object_path(root, key)
    if path.is_dir():
        raise KeyClash(key)
    temporary = path.parent / f"{TEMPORARY_PREFIX}{secrets.token_hex(8)}"
    try:
        with open(temporary, "xb") as handle:
            if isinstance(content, bytes):
                handle.write(content)
            else:
                shutil.copyfileobj(content, handle, COPY_CHUNK)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except IsADirectoryError as exc:
        raise KeyClash(key) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return _stat(key, path)


def read_object(root: Path, key: str) -> Path | None:
    """The object's file, or None when there is no such object."""
    path = object_path(root, key)
    return path if path.is_file() and not path.name.startswith(TEMPORARY_PREFIX) else None


def delete_object(root: Path, key: str) -> bool:
    """Remove the object and the directories it leaves empty; False when it did not exist."""
    path = read_object(root, key)
    if path is None:
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    base = root.resolve()
    parent = path.parent
    while parent != base and parent.is_relative_to(base):
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
    return True


def list_objects(root: Path, prefix: str = "") -> list[StoredObject]:
    """The bucket's objects whose key starts with `prefix`, by key."""
    base = root.resolve()
    if not base.is_dir():
        return []
    found = []
    for current, dirs, files in os.walk(base):
        dirs.sort()
        for name in files:
            if name.startswith(TEMPORARY_PREFIX):
                continue
            path = Path(current) / name
            key = path.relative_to(base).as_posix()
            if key.startswith(prefix) and path.is_file() and not path.is_symlink():
                found.append(_stat(key, path))
    return sorted(found, key=lambda item: item.key)


def has_objects(root: Path) -> bool:
    return bool(list_objects(root))


def remove_directory(root: Path) -> None:
    """Drop the bucket's directory (left-over empty folders and upload debris)."""
    shutil.rmtree(root, ignore_errors=True)


def _stat(key: str, path: Path) -> StoredObject:
    info = path.stat()
    return StoredObject(key, info.st_size, datetime.fromtimestamp(info.st_mtime, UTC))
