"""The isolation rules of a job's locations, against the account's buckets on disk.

`domain/jobpaths.py` finds the locations in the SQL and refuses what is wrong by its text;
here each remaining one must name a bucket of the job's account, in the region of the
project's cluster, that the account's service role may read and write (`oss:` actions on
`acs:oss:*:<account>:<bucket>/<key>`), and must stay inside the bucket's directory once
symlinks are resolved. `oss://bucket/key` is rewritten to that directory for Flink, which
knows nothing of buckets. The check runs at syntax check and again at start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rtcompute.domain import jobpaths, policies, ram, sqlscript
from rtcompute.services import platform as platform_module
from rtcompute.services import service_role
from rtcompute.store import buckets as bucket_store
from rtcompute.store import capacity_tables, db

ROLE_ACTIONS = ("oss:GetObject", "oss:PutObject")


@dataclass(frozen=True)
class Resolved:
    statements: tuple[sqlscript.Statement, ...]  # rewritten for Flink
    problems: tuple[sqlscript.Problem, ...]
    buckets: tuple[str, ...]  # the buckets the job touches


def bucket_root(platform: platform_module.Platform, bucket: capacity_tables.Bucket) -> Path:
    return bucket_store.directory(platform.settings.data_dir, bucket.id)


def file_uri(path: Path | str) -> str:
    return "file://" + str(path)


def _account_buckets(session: db.Session, account_id: str) -> list[capacity_tables.Bucket]:
    return bucket_store.list_buckets(session=session, account_id=account_id)


def role_allows(
    platform: platform_module.Platform,
    session: db.Session,
    account_id: str,
    bucket: str,
    key: str,
    actions: tuple[str, ...] = ROLE_ACTIONS,
) -> bool:
    """Whether the account's service role may do every one of `actions` on the object."""
    policy_set = service_role.role_policy_set(session, account_id)
    if policy_set is None:
        return False
    context = policies.request_context(
        source_ip="", current_time=platform.now(), secure_transport=True, mfa_present=False
    )
    resource = f"acs:oss:*:{account_id}:{bucket}/{key}"
    return all(
        policy_set.evaluate(action, resource, context).decision is policies.Decision.ALLOW
        for action in actions
    )


def resolve(
    platform: platform_module.Platform,
    session: db.Session,
    *,
    account_id: str,
    region: str,
    statements: tuple[sqlscript.Statement, ...],
) -> Resolved:
    """Check every location of the statements; rewrite the allowed ones for Flink."""
    found = jobpaths.find(statements)
    problems = list(found.problems)
    buckets = {b.name: b for b in _account_buckets(session, account_id)}
    roots = {b.name: os.path.realpath(bucket_root(platform, b)) for b in buckets.values()}
    replacements: dict[int, list[tuple[int, int, str]]] = {}
    used: set[str] = set()
    for location in found.locations:
        target = _target(platform, session, account_id, region, location, buckets, roots)
        if isinstance(target, str):
            problems.append(sqlscript.Problem(location.line, location.column, target))
            continue
        name, path = target
        used.add(name)
        replacements.setdefault(location.statement, []).append(
            (location.start, location.end, file_uri(path))
        )
    rewritten = tuple(
        sqlscript.Statement(
            jobpaths.rewrite(s.sql, replacements[i]) if i in replacements else s.sql,
            s.line,
            s.column,
        )
        for i, s in enumerate(statements)
    )
    problems.sort(key=lambda p: (p.line, p.column))
    return Resolved(rewritten, tuple(problems), tuple(sorted(used)))


def _target(
    platform: platform_module.Platform,
    session: db.Session,
    account_id: str,
    region: str,
    location: jobpaths.Location,
    buckets: dict[str, capacity_tables.Bucket],
    roots: dict[str, str],
) -> tuple[str, str] | str:
    """(bucket, resolved path) or why the location is refused."""
    label = f"{location.option} {location.raw[:200]!r}"
    if location.scheme == jobpaths.OSS:
        bucket = buckets.get(location.bucket)
        if bucket is None:
            return f"{label}: bucket {location.bucket} is not a bucket of this account"
        key = location.path
        path = os.path.realpath(os.path.join(roots[bucket.name], key))
    else:
        path = os.path.realpath(location.path)
        owner = next((n for n, r in roots.items() if jobpaths.inside(path, r)), None)
        if owner is None:
            return (
                f"{label}: the path lies outside the account's buckets; a job reaches "
                "storage only through oss://<bucket>/<key>"
            )
        bucket = buckets[owner]
        key = os.path.relpath(path, roots[owner])
    if not jobpaths.inside(path, roots[bucket.name]):
        return f"{label}: the path leaves bucket {bucket.name} (through a symlink)"
    if bucket.region != region:
        return (
            f"{label}: bucket {bucket.name} is in region {bucket.region}; the job's cluster "
            f"reaches only storage in its own region ({region})"
        )
    if not role_allows(platform, session, account_id, bucket.name, key):
        return (
            f"{label}: the service role {ram.SERVICE_ROLE} may not read and write bucket "
            f"{bucket.name} ({', '.join(ROLE_ACTIONS)}); grant it in RAM"
        )
    return bucket.name, path + ("/" if location.path.endswith("/") else "")


def state_location(
    platform: platform_module.Platform, bucket: capacity_tables.Bucket, key: str
) -> str:
    """A file:// URI inside the bucket for Flink's own state (checkpoints, savepoints)."""
    return file_uri(bucket_root(platform, bucket) / key)
