"""Resources of a job: JARs and files of the account's buckets attached to it (UDFs, extra
connectors), which reach its classpath on its Flink cluster and wherever its SQL is planned.

Attaching and detaching are saves of the draft like any other (a new revision that records
the list), so going online freezes the list with the SQL (the deployment's `resources`).
An object is checked when it is attached (a bucket of the account, in the project's region,
the object exists, the service role may `oss:GetObject` it), and again at every check and
at start, as the SQL's locations are: objects change after they were attached. JARs go in
`pipeline.jars` as file:// URIs inside the bucket's directory; since they are tenant code,
a job with JARs is checked and submitted by an isolated engine worker, never the shared
warm one. Files are checked and frozen the same way but are not put on the classpath: a
job reads them through their `oss://` location like any other path.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rtcompute import errors
from rtcompute.domain import jobs as job_rules
from rtcompute.domain import ram, sqlscript, text
from rtcompute.services.capacity import buckets, projects
from rtcompute.services.jobs import drafts as jobs
from rtcompute.services.jobs import paths as job_paths
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import buckets as bucket_store
from rtcompute.store import db
from rtcompute.store import jobs as job_store
from rtcompute.store.tables import capacity as capacity_tables

MAX_RESOURCES = 32  # per job
JAR, FILE = "jar", "file"
READ_ACTIONS = ("oss:GetObject",)


@dataclass(frozen=True)
class Ref:
    bucket: str
    key: str

    @property
    def label(self) -> str:
        return f"{self.bucket}/{self.key}"


@dataclass(frozen=True)
class ResourceView:
    bucket: str
    key: str
    kind: str  # jar | file
    created_at: datetime


@dataclass(frozen=True)
class Resolved:
    jars: tuple[str, ...]  # file:// URIs of the JARs, for pipeline.jars
    problems: tuple[sqlscript.Problem, ...]


class Refused(Exception):
    """Why an object cannot be attached, with the error code the API answers."""

    def __init__(self, code: str, message: str, zh: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.zh = zh


def kind_of(key: str) -> str:
    return JAR if key.lower().endswith(".jar") else FILE


def _view(row: job_store.Resource) -> ResourceView:
    return ResourceView(row.bucket, row.key, row.kind, row.created_at)


def _refs(wanted: Sequence[Ref]) -> list[Ref]:
    """The list as asked: well-formed, no duplicates, at most MAX_RESOURCES."""
    if len(wanted) > MAX_RESOURCES:
        raise errors.Invalid(
            f"a job has at most {MAX_RESOURCES} resources ({len(wanted)} asked): detach some "
            "or bundle JARs together",
            f"一个作业最多 {MAX_RESOURCES} 个资源（请求了 {len(wanted)} 个）：请移除一些，"
            "或把 JAR 打包在一起",
            code="JobResourceLimitExceeded",
        )
    seen: set[Ref] = set()
    for ref in wanted:
        if not (text.is_storable(ref.bucket) and text.is_storable(ref.key)) or not ref.bucket:
            raise errors.Invalid(
                "a resource names a bucket and an object key",
                "资源须指明存储空间和对象键",
                code="InvalidParameter.JobResource",
            )
        buckets.check_key(ref.key)
        if ref in seen:
            raise errors.Invalid(
                f"resource {ref.label[:300]} is listed twice",
                f"资源 {ref.label[:300]} 重复列出",
                code="InvalidParameter.JobResource",
            )
        seen.add(ref)
    return list(wanted)


def _object(
    platform: platform_module.Platform,
    session: db.Session,
    account_id: str,
    region: str,
    ref: Ref,
) -> str:
    """The object's resolved path, or Refused (the same rules at attach, check and start)."""
    if job_rules.is_platform_object(ref.key):
        folder = job_rules.PLATFORM_FOLDER
        raise Refused(
            "JobResourcePlatformObject",
            f"objects under {folder}/ are the platform's own (jobs' checkpoints, savepoints "
            "and HA metadata), not a job's resources: attach a JAR or file of your own",
            f"{folder}/ 下的对象属于平台自身（作业的检查点、保存点和高可用元数据），"
            "不能作为作业资源挂载：请挂载你自己的 JAR 或文件",
        )
    bucket = _bucket(session, account_id, ref.bucket)
    if bucket is None:
        raise Refused(
            "NoSuchBucket",
            f"bucket {ref.bucket[:63]} is not a bucket of this account",
            f"存储空间 {ref.bucket[:63]} 不属于本账号",
        )
    if bucket.region != region:
        raise Refused(
            "JobResourceWrongRegion",
            f"bucket {bucket.name} is in region {bucket.region}; the job's cluster reaches "
            f"only storage in its own region ({region})",
            f"存储空间 {bucket.name} 位于地域 {bucket.region}；作业所在集群只能访问本地域"
            f"（{region}）的存储",
        )
    root = job_paths.bucket_root(platform, bucket)
    try:
        found = bucket_store.read_object(root, ref.key)
    except bucket_store.OutsideBucket:
        raise Refused(
            "InvalidObjectName",
            "the key would lie outside the bucket",
            "该对象键会超出存储空间范围",
        ) from None
    if found is None or not os.path.realpath(found).startswith(os.path.realpath(root) + "/"):
        raise Refused(
            "NoSuchKey",
            f"object {ref.key[:200]} does not exist in {bucket.name}",
            f"存储空间 {bucket.name} 中没有对象 {ref.key[:200]}",
        )
    if not job_paths.role_allows(platform, session, account_id, bucket.name, ref.key, READ_ACTIONS):
        raise Refused(
            "JobResourceAccessDenied",
            f"the service role {ram.SERVICE_ROLE} may not read {ref.label[:300]} "
            f"({', '.join(READ_ACTIONS)}); grant it in RAM",
            f"服务角色 {ram.SERVICE_ROLE} 无权读取 {ref.label[:300]}"
            f"（{', '.join(READ_ACTIONS)}），请在 RAM 中为其授权",
        )
    return os.path.realpath(found)


def _bucket(session: db.Session, account_id: str, name: str) -> capacity_tables.Bucket | None:
    if not text.is_storable(name):
        return None
    return bucket_store.read_bucket(session=session, account_id=account_id, name=name)


def list_resources(
    platform: platform_module.Platform, account_id: str, project: str, name: str
) -> list[ResourceView]:
    with db.transaction(platform.sessions) as session:
        job = jobs.find(session, projects.find(session, account_id, project), name)
        return [_view(r) for r in job_store.list_resources(session=session, job_id=job.id)]


def set_resources(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    name: str,
    wanted: Sequence[Ref],
) -> list[ResourceView]:
    """Replace the job's resources; a change is a new revision. Newly attached objects are
    checked now; those kept were checked when attached and are checked again at the job's
    next check and start."""
    refs = _refs(wanted)
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, principal.account_id, project)
        job = jobs.find(session, found, name, lock=True)
        current = {
            Ref(r.bucket, r.key): r
            for r in job_store.list_resources(session=session, job_id=job.id)
        }
        added = [ref for ref in refs if ref not in current]
        removed = [row for ref, row in current.items() if ref not in set(refs)]
        for ref in added:
            try:
                _object(platform, session, found.account_id, found.region, ref)
            except Refused as why:
                error = (
                    errors.NotFound if why.code in ("NoSuchBucket", "NoSuchKey") else errors.Invalid
                )
                raise error(
                    f"resource {ref.label[:300]}: {why.message}",
                    f"资源 {ref.label[:300]}：{why.zh}",
                    code=why.code,
                ) from None
        if not added and not removed:
            return [_view(r) for r in current.values()]
        for row in removed:
            session.delete(row)
        for ref in added:
            session.add(
                job_store.Resource(
                    job_id=job.id,
                    bucket=ref.bucket,
                    key=ref.key,
                    kind=kind_of(ref.key),
                    created_at=now,
                )
            )
        summary = [f"+{r.label}" for r in added] + [f"-{r.bucket}/{r.key}" for r in removed]
        jobs.save_revision(session, job, principal, "resources: " + " ".join(summary), now)
        session.flush()
        return [_view(r) for r in job_store.list_resources(session=session, job_id=job.id)]


def attach(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    name: str,
    ref: Ref,
) -> list[ResourceView]:
    current = list_resources(platform, principal.account_id, project, name)
    refs = [Ref(r.bucket, r.key) for r in current]
    return set_resources(
        platform, principal, project, name, [*refs, ref] if ref not in refs else refs
    )


def detach(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    name: str,
    ref: Ref,
) -> list[ResourceView]:
    current = list_resources(platform, principal.account_id, project, name)
    refs = [Ref(r.bucket, r.key) for r in current]
    if ref not in refs:
        raise errors.NotFound(
            f"resource {ref.label[:300]} is not attached to job {name}",
            f"资源 {ref.label[:300]} 未挂载到作业 {name}",
            code="JobResourceNotFound",
        )
    return set_resources(platform, principal, project, name, [r for r in refs if r != ref])


def resolve(
    platform: platform_module.Platform,
    session: db.Session,
    *,
    account_id: str,
    region: str,
    frozen: tuple[job_rules.Attached, ...],
) -> Resolved:
    """Check the frozen resources again; the JARs' file:// URIs."""
    jars: list[str] = []
    problems: list[sqlscript.Problem] = []
    for entry in frozen:
        ref = Ref(entry.bucket, entry.key)
        try:
            path = _object(platform, session, account_id, region, ref)
        except Refused as why:
            problems.append(sqlscript.Problem(1, 1, f"resource {ref.label[:300]}: {why.message}"))
            continue
        if entry.kind == JAR:
            jars.append(job_paths.file_uri(path))
    return Resolved(tuple(jars), tuple(problems))


def candidates(
    platform: platform_module.Platform, account_id: str, project: str, limit: int = 200
) -> list[Ref]:
    """Objects that could be attached: those of the account's buckets in the project's
    region, but for the platform's own (the first `limit`, for the console's picker)."""
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, account_id, project)
        rows = [
            b
            for b in bucket_store.list_buckets(session=session, account_id=account_id)
            if b.region == found.region
        ]
    refs: list[Ref] = []
    for bucket in rows:
        for stored in bucket_store.list_objects(job_paths.bucket_root(platform, bucket)):
            if job_rules.is_platform_object(stored.key):
                continue
            refs.append(Ref(bucket.name, stored.key))
            if len(refs) >= limit:
                return refs
    return refs
