"""Job development: folders, drafts, revisions (every save is one), diff and restore, and
the check of a draft (syntax on the job's engine version, plus the isolation rules).

A draft names its engine version ("" = whatever is current on the project's cluster when
it is checked or goes online), so a job can be switched to another installed version
without touching the others (the guide's per-job 版本切换).
"""

from __future__ import annotations

import difflib
import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import jobs as job_rules
from rtcompute.domain import names, resources, text
from rtcompute.services.capacity import projects
from rtcompute.services.jobs import sql
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import db, tables
from rtcompute.store import jobs as job_store

MAX_DESCRIPTION = 1024
MAX_MESSAGE = 256


@dataclass(frozen=True)
class JobView:
    name: str
    folder: str
    description: str
    engine_version: str
    sql: str
    settings: dict[str, Any]
    revision: int
    checked_revision: int
    state: str  # draft | checked | offline, or the online job's state (domain/jobs.py)
    online_revision: int | None
    cu: float
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    # the online deployment's engine version (resolved when it went online: never "the
    # current"), and the CU it holds while it runs ("" / None: none)
    deployed_version: str = ""
    held_cu: float | None = None


@dataclass(frozen=True)
class RevisionView:
    number: int
    sql: str
    settings: dict[str, Any]
    engine_version: str
    message: str
    created_by: str
    created_at: datetime


def resource_of(project: tables.Project, job: str) -> str:
    return resources.project(project.region, project.account_id, f"{project.name}/job/{job}")


def not_found(name: str) -> errors.NotFound:
    return errors.NotFound(
        f"job {name[:128]} does not exist",
        f"项目中没有作业 {name[:128]}",
        code="JobNotFound",
    )


def check_folder(path: str) -> str:
    if not text.is_storable(path):
        raise errors.Invalid(
            "folder: a path such as /etl/daily",
            "文件夹须为路径，例如 /etl/daily",
            code="InvalidParameter.Folder",
        )
    return job_rules.folder_path(path)


def check_version(version: str) -> str:
    if version and not names.ENGINE_VERSION.fits(version):
        raise errors.Invalid(
            "engine_version reads flink-<major>.<minor>.<patch> (or empty: the cluster's "
            "current version)",
            "引擎版本须写成 flink-<主版本>.<次版本>.<补丁版本>（留空则用集群的当前版本）",
            code="InvalidParameter.EngineVersion",
        )
    return version


def settings_of(raw: Any, base: job_rules.JobSettings | None = None) -> job_rules.JobSettings:
    return job_rules.parse_settings(raw, base)


def _sql_text(value: str) -> str:
    if not text.is_storable(value):
        raise errors.Invalid("sql must be text", "SQL 须为文本", code="InvalidParameter.Sql")
    if len(value) > sql.MAX_SQL_CHARS:
        raise sql.too_long_sql()
    return value


def find(
    session: db.Session, project: tables.Project, name: str, *, lock: bool = False
) -> job_store.Job:
    found = (
        job_store.read_job(session=session, project_id=project.id, name=name, lock=lock)
        if text.is_storable(name)
        else None
    )
    if found is None:
        raise not_found(name)
    return found


def view(session: db.Session, job: job_store.Job) -> JobView:
    return view_with(job, job_store.read_deployment(session=session, job_id=job.id))


def view_with(job: job_store.Job, deployment: job_store.Deployment | None) -> JobView:
    """The job as shown, given its deployment (None: never online)."""
    settings = job.settings
    return JobView(
        name=job.name,
        folder=job.folder,
        description=job.description,
        engine_version=job.engine_version,
        sql=job.sql,
        settings=settings.as_dict(),
        revision=job.revision,
        checked_revision=job.checked_revision,
        state=deployment.state if deployment else job.state,
        online_revision=deployment.revision if deployment else None,
        cu=job_rules.cu_milli(settings.parallelism) / job_rules.MILLI,
        created_by=job.created_by,
        created_at=job.created_at,
        updated_by=job.updated_by,
        updated_at=job.updated_at,
        deployed_version=deployment.engine_version if deployment else "",
        held_cu=(
            deployment.cu_milli / job_rules.MILLI
            if deployment and deployment.state in job_rules.HOLDING
            else None
        ),
    )


def revision_view(row: job_store.Revision) -> RevisionView:
    return RevisionView(
        number=row.number,
        sql=row.sql,
        settings=row.settings.as_dict(),
        engine_version=row.engine_version,
        message=row.message,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def attached(session: db.Session, job_id: int) -> tuple[job_rules.Attached, ...]:
    """The job's attached resources, as revisions keep them."""
    rows = job_store.list_resources(session=session, job_id=job_id)
    return tuple(job_rules.Attached(r.bucket, r.key, r.kind) for r in rows)


def save_revision(
    session: db.Session,
    job: job_store.Job,
    principal: principals.Principal,
    message: str,
    now: datetime,
) -> None:
    """A new head revision of the draft as it is now (SQL, settings, version, resources)."""
    session.flush()
    job.revision += 1
    session.add(
        job_store.Revision(
            job_id=job.id,
            number=job.revision,
            sql=job.sql,
            settings=job.settings,
            engine_version=job.engine_version,
            resources=attached(session, job.id),
            message=message[:MAX_MESSAGE],
            created_by=principal.display[:200],
            created_at=now,
        )
    )
    job.updated_by, job.updated_at = principal.display[:200], now
    if job.state in (job_rules.CHECKED, job_rules.OFFLINE):
        job.state = job_rules.DRAFT


def _ensure_folder(session: db.Session, project: tables.Project, path: str) -> None:
    if (
        path != "/"
        and job_store.read_folder(session=session, project_id=project.id, path=path) is None
    ):
        raise errors.NotFound(
            f"folder {path[:600]} does not exist: create it first",
            f"文件夹 {path[:600]} 不存在，请先创建",
            code="FolderNotFound",
        )


def folder_exists(path: str) -> errors.Conflict:
    return errors.Conflict(
        f"folder {path} already exists", f"文件夹 {path} 已存在", code="FolderAlreadyExists"
    )


def folder_not_found(path: str) -> errors.NotFound:
    return errors.NotFound(
        f"folder {path} does not exist", f"文件夹 {path} 不存在", code="FolderNotFound"
    )


# ---- folders ----------------------------------------------------------------------------


def list_folders(platform: platform_module.Platform, account_id: str, project: str) -> list[str]:
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, account_id, project)
        return ["/"] + [
            f.path for f in job_store.list_folders(session=session, project_id=found.id)
        ]


def create_folder(
    platform: platform_module.Platform, principal: principals.Principal, project: str, path: str
) -> str:
    """Create the folder (its parents must exist)."""
    path = check_folder(path)
    if path == "/":
        raise errors.Conflict(
            "folder / always exists", "根文件夹 / 始终存在", code="FolderAlreadyExists"
        )
    try:
        with db.transaction(platform.sessions) as session:
            found = projects.find(session, principal.account_id, project, lock=True)
            _ensure_folder(session, found, job_rules.parent_of(path))
            if job_store.read_folder(session=session, project_id=found.id, path=path):
                raise folder_exists(path)
            session.add(
                job_store.Folder(
                    project_id=found.id,
                    path=path,
                    created_by=principal.display[:200],
                    created_at=platform.now(),
                )
            )
    except IntegrityError:
        raise folder_exists(path) from None
    return path


def move_folder(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    path: str,
    to: str,
) -> str:
    """Rename or move a folder with everything in it."""
    path, to = check_folder(path), check_folder(to)
    if "/" in (path, to):
        raise errors.Invalid(
            "the root folder / cannot be moved",
            "根文件夹 / 不能移动",
            code="InvalidParameter.Folder",
        )
    if to == path or to.startswith(path + "/"):
        raise errors.Invalid(
            f"folder {path} cannot move into itself ({to})",
            f"文件夹 {path} 不能移动到它自身之内（{to}）",
            code="InvalidParameter.Folder",
        )
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, principal.account_id, project, lock=True)
        if job_store.read_folder(session=session, project_id=found.id, path=path) is None:
            raise folder_not_found(path)
        _ensure_folder(session, found, job_rules.parent_of(to))
        if job_store.read_folder(session=session, project_id=found.id, path=to):
            raise folder_exists(to)
        job_store.rename_folder_paths(session=session, project_id=found.id, old=path, new=to)
    return to


def delete_folder(
    platform: platform_module.Platform, principal: principals.Principal, project: str, path: str
) -> None:
    """Delete an empty folder (no jobs, no folders below it)."""
    path = check_folder(path)
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, principal.account_id, project, lock=True)
        if job_store.read_folder(session=session, project_id=found.id, path=path) is None:
            raise folder_not_found(path)
        below = job_store.folders_under(session=session, project_id=found.id, path=path)
        jobs = job_store.jobs_under(session=session, project_id=found.id, path=path)
        if len(below) > 1 or jobs:
            raise errors.Conflict(
                f"folder {path} is not empty ({len(jobs)} jobs, {len(below) - 1} folders): "
                "move or delete them first",
                f"文件夹 {path} 不为空（{len(jobs)} 个作业、{len(below) - 1} 个文件夹），"
                "请先移走或删除它们",
                code="FolderNotEmpty",
            )
        session.delete(below[0])


# ---- drafts -----------------------------------------------------------------------------


def list_jobs(
    platform: platform_module.Platform, account_id: str, project: str, folder: str | None = None
) -> list[JobView]:
    folder = check_folder(folder) if folder is not None else None
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, account_id, project)
        rows = job_store.list_jobs(session=session, project_id=found.id, folder=folder)
        deployments = {
            d.job_id: d
            for d in job_store.deployments_of_project(session=session, project_id=found.id)
        }
        return [view_with(row, deployments.get(row.id)) for row in rows]


def read_job(
    platform: platform_module.Platform, account_id: str, project: str, name: str
) -> JobView:
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, account_id, project)
        return view(session, find(session, found, name))


def create_job(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    name: str,
    *,
    folder: str = "/",
    sql_text: str = "",
    settings: Any = None,
    engine_version: str = "",
    description: str = "",
) -> JobView:
    """A new draft; its first revision is its content at creation."""
    names.JOB.check(name)
    folder = check_folder(folder)
    _sql_text(sql_text)
    parsed = settings_of(settings)
    check_version(engine_version)
    _check_description(description)
    now = platform.now()
    try:
        with db.transaction(platform.sessions) as session:
            found = projects.find(session, principal.account_id, project, lock=True)
            _ensure_folder(session, found, folder)
            if job_store.read_job(session=session, project_id=found.id, name=name):
                raise _exists(name)
            job = job_store.Job(
                project_id=found.id,
                name=name,
                folder=folder,
                description=description,
                engine_version=engine_version,
                sql=sql_text,
                settings=parsed,
                state=job_rules.DRAFT,
                created_by=principal.display[:200],
                created_at=now,
                updated_by=principal.display[:200],
                updated_at=now,
            )
            session.add(job)
            session.flush()
            save_revision(session, job, principal, "created", now)
            session.flush()
            return view(session, job)
    except IntegrityError:
        raise _exists(name) from None


def _exists(name: str) -> errors.Conflict:
    return errors.Conflict(
        f"job {name} already exists in the project",
        f"项目中已有名为 {name} 的作业",
        code="JobAlreadyExists",
    )


def _check_description(description: str) -> None:
    if not text.is_storable(description) or len(description) > MAX_DESCRIPTION:
        raise errors.Invalid(
            f"description: at most {MAX_DESCRIPTION} characters",
            f"描述最多 {MAX_DESCRIPTION} 个字符",
            code="InvalidParameter.Description",
        )


def update_job(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    name: str,
    *,
    sql_text: str | None = None,
    settings: Any = None,
    engine_version: str | None = None,
    description: str | None = None,
    message: str = "",
    base_revision: int | None = None,
) -> JobView:
    """Save the draft: a change of SQL, settings or version is a new revision."""
    if sql_text is not None:
        _sql_text(sql_text)
    if engine_version is not None:
        check_version(engine_version)
    if description is not None:
        _check_description(description)
    if not text.is_storable(message):
        raise errors.Invalid(
            "message must be text", "修订说明须为纯文本", code="InvalidParameter.Message"
        )
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, principal.account_id, project)
        job = find(session, found, name, lock=True)
        if base_revision is not None and base_revision != job.revision:
            raise errors.Conflict(
                f"job {name} was saved as revision {job.revision} after your revision "
                f"{base_revision}: reload it, then save again",
                f"作业 {name} 在你的修订 {base_revision} 之后已被保存为修订 {job.revision}，"
                "请重新加载后再保存",
                code="RevisionConflict",
            )
        new_settings = settings_of(settings, job.settings)
        changed = (
            (sql_text is not None and sql_text != job.sql)
            or new_settings != job.settings
            or (engine_version is not None and engine_version != job.engine_version)
        )
        if sql_text is not None:
            job.sql = sql_text
        if engine_version is not None:
            job.engine_version = engine_version
        job.settings = new_settings
        if description is not None:
            job.description = description
            job.updated_by, job.updated_at = principal.display[:200], now
        if changed:
            save_revision(session, job, principal, message, now)
        session.flush()
        return view(session, job)


def move_job(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    name: str,
    *,
    folder: str | None = None,
    new_name: str | None = None,
) -> JobView:
    """Rename a job or move it to another folder (an online job keeps running)."""
    target_folder = check_folder(folder) if folder is not None else None
    if new_name is not None:
        names.JOB.check(new_name)
    try:
        with db.transaction(platform.sessions) as session:
            found = projects.find(session, principal.account_id, project, lock=True)
            job = find(session, found, name, lock=True)
            if target_folder is not None:
                _ensure_folder(session, found, target_folder)
                job.folder = target_folder
            if new_name is not None and new_name != job.name:
                if job_store.read_job(session=session, project_id=found.id, name=new_name):
                    raise _exists(new_name)
                job.name = new_name
            job.updated_by, job.updated_at = principal.display[:200], platform.now()
            session.flush()
            return view(session, job)
    except IntegrityError:
        raise _exists(new_name or name) from None


def delete_job(
    platform: platform_module.Platform, principal: principals.Principal, project: str, name: str
) -> None:
    """Delete a draft with its revisions; an online job must be taken offline first. The
    directories of its runs (configuration, logs) go with it; its savepoints stay in the
    tenant's bucket."""
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, principal.account_id, project)
        job = find(session, found, name, lock=True)
        if job_store.read_deployment(session=session, job_id=job.id) is not None:
            raise errors.Conflict(
                f"job {name} is online: take it offline before deleting it",
                f"作业 {name} 已上线，请先下线再删除",
                code="JobIsOnline",
            )
        directories = job_store.run_directories(session=session, job_id=job.id)
        job_store.delete_job(session=session, job=job)
    flink_root = platform.settings.data_dir / "flink"
    for directory in directories:
        if Path(directory).parent == flink_root:  # only what the platform made
            shutil.rmtree(directory, ignore_errors=True)


# ---- revisions --------------------------------------------------------------------------


def list_revisions(
    platform: platform_module.Platform, account_id: str, project: str, name: str
) -> list[RevisionView]:
    with db.transaction(platform.sessions) as session:
        job = find(session, projects.find(session, account_id, project), name)
        return [revision_view(r) for r in job_store.list_revisions(session=session, job_id=job.id)]


def _revision(session: db.Session, job: job_store.Job, number: int) -> job_store.Revision:
    found = job_store.read_revision(session=session, job_id=job.id, number=number)
    if found is None:
        raise errors.NotFound(
            f"job {job.name} has no revision {number} (latest: {job.revision})",
            f"作业 {job.name} 没有修订 {number}（最新为 {job.revision}）",
            code="RevisionNotFound",
        )
    return found


def read_revision(
    platform: platform_module.Platform, account_id: str, project: str, name: str, number: int
) -> RevisionView:
    with db.transaction(platform.sessions) as session:
        job = find(session, projects.find(session, account_id, project), name)
        return revision_view(_revision(session, job, number))


def _as_text(row: job_store.Revision) -> list[str]:
    settings = json.dumps(row.settings.as_dict(), indent=2, sort_keys=True)
    return (
        row.sql.splitlines(keepends=False)
        + ["", f"-- engine_version: {row.engine_version or '(current)'}", "-- settings:"]
        + [f"-- {line}" for line in settings.splitlines()]
        + ["-- resources:"]
        + [f"--   {r.bucket}/{r.key}" for r in row.resources]
    )


def diff_revisions(
    platform: platform_module.Platform,
    account_id: str,
    project: str,
    name: str,
    first: int,
    second: int,
) -> str:
    """A unified diff of two revisions' SQL, engine version and settings."""
    with db.transaction(platform.sessions) as session:
        job = find(session, projects.find(session, account_id, project), name)
        old, new = _revision(session, job, first), _revision(session, job, second)
        lines = difflib.unified_diff(
            _as_text(old), _as_text(new), f"{name}@{first}", f"{name}@{second}", lineterm=""
        )
        return "\n".join(lines)


def restore_revision(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    name: str,
    number: int,
) -> JobView:
    """Make a new revision with the content of revision `number`."""
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        job = find(session, projects.find(session, principal.account_id, project), name, lock=True)
        old = _revision(session, job, number)
        job.sql, job.settings, job.engine_version = old.sql, old.settings, old.engine_version
        _restore_resources(session, job, old.resources, now)
        save_revision(session, job, principal, f"restored revision {number}", now)
        session.flush()
        return view(session, job)


def _restore_resources(
    session: db.Session, job: job_store.Job, frozen: tuple[job_rules.Attached, ...], now: datetime
) -> None:
    """The attachments of an old revision (their objects are checked again by the job's
    next check and at start, like its SQL's locations)."""
    wanted = [(r.bucket, r.key, r.kind) for r in frozen]
    for row in job_store.list_resources(session=session, job_id=job.id):
        session.delete(row)
    session.flush()
    for bucket, key, kind in wanted:
        session.add(
            job_store.Resource(job_id=job.id, bucket=bucket, key=key, kind=kind, created_at=now)
        )
