"""The isolation rules of a job's locations, against the account's buckets on disk.

Every location must name a bucket of the job's account, in the region of the project's
cluster, that the account's service role may read and write (`oss:` actions on
`acs:oss:*:<account>:<bucket>/<key>`), and must stay inside the bucket's directory once
symlinks are resolved. `judge` applies the rules to what Flink resolved (each table's final
options, the SET keys, the functions: the engine worker reports them), which is the
defence; `resolve` applies them to the literals of the text first (a quick answer at the
literal's position) and rewrites `oss://bucket/key` to the bucket's directory for Flink,
which knows nothing of buckets. Both run at the syntax check (the project's and the job's),
at publish, at start and at submission, where the worker runs the INSERTs only once
`judge` approved what it resolved.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rtcompute.domain import flinkconf, jobpaths, policies, ram, sqlscript
from rtcompute.services.iam import service_role
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import buckets as bucket_store
from rtcompute.store import db
from rtcompute.store.tables import capacity as capacity_tables

# what the service role must allow on a location: a table read from it, and one written
ROLE_ACTIONS = ("oss:GetObject", "oss:PutObject")
READ_ACTIONS = ("oss:GetObject",)
WRITE_ACTIONS = ("oss:PutObject",)


@dataclass(frozen=True)
class Resolved:
    statements: tuple[sqlscript.Statement, ...]  # rewritten for Flink
    problems: tuple[sqlscript.Problem, ...]
    buckets: tuple[str, ...]  # the buckets the job touches
    # of those, the ones the role lets it write somewhere it names (the others are read-only
    # in its sandbox)
    writable: tuple[str, ...] = ()


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
    writable: set[str] = set()
    for location in found.locations:
        label = f"{location.option} {location.raw[:200]!r}"
        where = (location.scheme, location.bucket, location.path)
        # the text cannot tell a source from a sink: reading is the least any use needs;
        # what Flink resolved decides on writing (`judge`)
        target = _target(
            platform, session, account_id, region, label, where, buckets, roots, READ_ACTIONS
        )
        if isinstance(target, str):
            problems.append(sqlscript.Problem(location.line, location.column, target))
            continue
        name, path, key = target
        used.add(name)
        if role_allows(platform, session, account_id, name, key, WRITE_ACTIONS):
            writable.add(name)
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
    return Resolved(rewritten, tuple(problems), tuple(sorted(used)), tuple(sorted(writable)))


def _target(
    platform: platform_module.Platform,
    session: db.Session,
    account_id: str,
    region: str,
    label: str,
    where: tuple[str, str, str],
    buckets: dict[str, capacity_tables.Bucket],
    roots: dict[str, str],
    actions: tuple[str, ...] = ROLE_ACTIONS,
) -> tuple[str, str, str] | str:
    """(bucket, resolved path, key in the bucket) of the classified location `where`
    (scheme, bucket, path), or why it is refused (the service role must allow `actions`
    there)."""
    scheme, bucket_name, location_path = where
    if scheme == jobpaths.OSS:
        bucket = buckets.get(bucket_name)
        if bucket is None:
            return f"{label}: bucket {bucket_name} is not a bucket of this account"
        key = location_path
        path = os.path.realpath(os.path.join(roots[bucket.name], key))
    else:
        path = os.path.realpath(location_path)
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
    if not role_allows(platform, session, account_id, bucket.name, key, actions):
        verb = "read and write" if "oss:PutObject" in actions else "read"
        return (
            f"{label}: the service role {ram.SERVICE_ROLE} may not {verb} bucket "
            f"{bucket.name} ({', '.join(actions)}); grant it in RAM"
        )
    return bucket.name, path + ("/" if location_path.endswith("/") else ""), key


def judge(
    platform: platform_module.Platform,
    session: db.Session,
    *,
    account_id: str,
    region: str,
    statements: tuple[sqlscript.Statement, ...],
    resolved: sqlscript.Resolved,
) -> tuple[sqlscript.Problem, ...]:
    """The rules on what Flink resolved: every location among the final options of every
    table the script made or changed, every SET key, every function's language."""
    buckets = {b.name: b for b in _account_buckets(session, account_id)}
    roots = {b.name: os.path.realpath(bucket_root(platform, b)) for b in buckets.values()}
    problems: dict[str, sqlscript.Problem] = {}  # each once, where it first appears

    def refuse(index: int, message: str) -> None:
        statement = statements[index] if 0 <= index < len(statements) else statements[0]
        problems.setdefault(message, sqlscript.Problem(statement.line, statement.column, message))

    for table in resolved.tables:
        short = table.name.rsplit(".", 1)[-1]
        for key, value in table.options:
            if not jobpaths.is_location(key, value):
                continue
            label = f"table {short}: option '{key}' = {value[:200]!r}"
            where = jobpaths.classify(value)
            if isinstance(where, str):
                refuse(table.statement, f"{label}: {where}")
                continue
            # a table written needs both; one only read, reading (its sandbox mounts the
            # bucket read-only unless the job writes to it somewhere)
            actions = ROLE_ACTIONS if table.sink else READ_ACTIONS
            target = _target(
                platform, session, account_id, region, label, where, buckets, roots, actions
            )
            if isinstance(target, str):
                refuse(table.statement, target)
    for setting in resolved.settings:
        if not setting.applied or not flinkconf.is_allowed_key(setting.key):
            refuse(setting.statement, f"SET {jobpaths.key_refusal(setting.key)}")
    for function in resolved.functions:
        if function.language not in ("JAVA", "SCALA"):
            refuse(
                function.statement,
                f"function {function.name}: a {function.language} function is not run here",
            )
    return tuple(sorted(problems.values(), key=lambda p: (p.line, p.column)))


def state_location(
    platform: platform_module.Platform, bucket: capacity_tables.Bucket, key: str
) -> str:
    """A file:// URI inside the bucket for Flink's own state (checkpoints, savepoints)."""
    return file_uri(bucket_root(platform, bucket) / key)


# a file: URI in a sentence (Flink writes `file:/x`, the platform `file:///x`)
_FILE_URI = re.compile(r"file:(?://)?(/[^\s,;'\"()]+)")


def shown(
    platform: platform_module.Platform, session: db.Session, account_id: str, text: str
) -> str:
    """`text` with every location inside one of the account's buckets written as its
    `oss://bucket/key` address: a tenant never sees where the platform keeps its files."""
    root = platform.settings.data_dir / "buckets"
    names: dict[str, str] = {}

    def address(found: re.Match[str]) -> str:
        try:
            inside = Path(found.group(1)).relative_to(root)
        except ValueError:
            return found.group(0)
        bucket_id, *key = inside.parts
        if bucket_id not in names:
            bucket = (
                session.get(capacity_tables.Bucket, int(bucket_id))
                if bucket_id.isascii() and bucket_id.isdigit()
                else None
            )
            names[bucket_id] = bucket.name if bucket and bucket.account_id == account_id else ""
        if not names[bucket_id]:
            return found.group(0)
        return f"oss://{names[bucket_id]}/" + "/".join(key)

    text = _FILE_URI.sub(address, text) if "file:" in text else text
    return _hide_data_dir(platform, text, address)


def _hide_data_dir(
    platform: platform_module.Platform, text: str, address: Callable[[re.Match[str]], str]
) -> str:
    """Paths inside the data directory that a Java exception names without `file:`: a
    bucket's as its oss:// address, any other (a run's directory, an engine) as `…/<its
    last part>`, so a tenant never sees where the platform keeps its files (issue 18)."""
    data = str(platform.settings.data_dir).rstrip("/")
    if not data or data not in text:
        return text
    pattern = re.compile(re.escape(data) + r"(?:/[^\s,;'\"()]*)?")

    def hidden(found: re.Match[str]) -> str:
        path = found.group(0)
        whole = re.fullmatch(r"(.*)", path)  # address() reads the path from group 1
        assert whole is not None
        if (shown_as := address(whole)) != path:
            return shown_as
        tail = path[len(data) :].rstrip("/").rsplit("/", 1)[-1]
        return f"…/{tail}" if tail else "…"

    return pattern.sub(hidden, text)
