"""An online job's lifecycle as the API sees it: check, go online, start, stop, suspend,
resume, go offline. Each writes the desired state (and the pending state the declared
action moves to) under the job's row lock; the job reconciler does the work in Flink.

Going online freezes the draft's head revision into the deployment. Starting checks the
job's CU against the project's free quota under the project's row lock, so two starts
racing for the last CU cannot both pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rtcompute import errors
from rtcompute.domain import job_events, sqlscript
from rtcompute.domain import jobs as job_rules
from rtcompute.services.capacity import projects
from rtcompute.services.iam import service_role
from rtcompute.services.jobs import drafts as jobs
from rtcompute.services.jobs import paths as job_paths
from rtcompute.services.jobs import resources as job_resources
from rtcompute.services.jobs import sql
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import buckets as bucket_store
from rtcompute.store import clusters as cluster_store
from rtcompute.store import db, tables
from rtcompute.store import jobs as job_store


@dataclass(frozen=True)
class DeploymentView:
    job: str
    revision: int
    engine_version: str
    target: str  # "cluster <name>" | "the shared pool"
    cu: float
    parallelism: int
    desired: str
    state: str
    flink_state: str
    flink_job_id: str
    flink_duration_ms: int
    run: int
    restarts: int
    start_mode: str
    stop_mode: str
    message: str
    published_by: str
    published_at: datetime
    state_since: datetime
    message_zh: str = ""  # the state message in Chinese ("": it has none)

    def message_in(self, language: str) -> str:
        return job_events.text(job_events.Said(self.message, self.message_zh), language)


@dataclass(frozen=True)
class EventView:
    """An event as shown: folded repeats are `count` times from `first_at` to `at`."""

    at: datetime
    kind: str
    message: str
    message_zh: str
    count: int
    first_at: datetime

    def message_in(self, language: str) -> str:
        return job_events.text(job_events.Said(self.message, self.message_zh), language)

    def kind_in(self, language: str) -> str:
        return job_events.KINDS_ZH.get(self.kind, self.kind) if language == "zh" else self.kind


@dataclass(frozen=True)
class SavepointView:
    id: int
    run: int
    kind: str
    reason: str
    location: str
    created_at: datetime


class CheckFailed(errors.Conflict):
    """A job whose SQL or locations do not pass cannot go online or start."""

    code = "JobCheckFailed"

    def __init__(self, message: str, zh: str, problems: tuple[sqlscript.Problem, ...]) -> None:
        super().__init__(message, zh)
        self.problems = problems

    def details(self) -> dict[str, object] | None:
        return {
            "problems": [
                {"line": p.line, "column": p.column, "message": p.message} for p in self.problems
            ]
        }


def _problems_text(problems: tuple[sqlscript.Problem, ...]) -> str:
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"line {first.line}, column {first.column}: {first.message}{more}"


def _problems_zh(problems: tuple[sqlscript.Problem, ...]) -> str:
    """The first problem in a Chinese sentence (Flink's own words are kept)."""
    first = problems[0]
    more = f"（另有 {len(problems) - 1} 个问题）" if len(problems) > 1 else ""
    return f"第 {first.line} 行第 {first.column} 列：{first.zh or first.message}{more}"


def check_job(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    name: str,
    *,
    explain: bool = False,
) -> sql.SqlCheck:
    """Syntax check (or explain) of the draft's head revision, plus the isolation rules; a
    passing check marks the revision checked."""
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, principal.account_id, project)
        job = jobs.find(session, found, name)
        script, version, revision = job.sql, job.engine_version, job.revision
        resources = jobs.attached(session, job.id)
    checked = _check(
        platform, principal.account_id, project, script, version, resources, explain=explain
    )
    if checked.result.ok:
        with db.transaction(platform.sessions) as session:
            found = projects.find(session, principal.account_id, project)
            job = jobs.find(session, found, name, lock=True)
            if job.revision == revision:
                job.checked_revision = revision
                if job.state == job_rules.DRAFT:
                    job.state = job_rules.CHECKED
    return checked


def _check(
    platform: platform_module.Platform,
    account_id: str,
    project: str,
    script: str,
    version: str,
    resources: tuple[job_rules.Attached, ...] = (),
    *,
    explain: bool = False,
) -> sql.SqlCheck:
    """The isolation rules (locations, attached resources) and the job's need to write
    somewhere (a bare SELECT, no INSERT), then Flink's check; a job with JARs is checked by
    an isolated worker that loads them. The project's syntax check (`sql.check`) checks any
    SQL for the editor, a lone SELECT too: the rule on writing is a job's alone."""
    if not script.strip():
        problem = sqlscript.Problem(1, 1, "the job has no SQL yet")
        return sql.SqlCheck(version, sqlscript.CheckResult(False, (problem,), "", 0.0, ""))
    chosen = sql.engine_for(platform, account_id, project, version or None)
    with db.transaction(platform.sessions) as session:
        region = projects.find(session, account_id, project).region
        attached = job_resources.resolve(
            platform, session, account_id=account_id, region=region, frozen=resources
        )
    return sql.checked(
        platform,
        account_id,
        region,
        chosen,
        script,
        explain=explain,
        jars=attached.jars,
        problems=attached.problems + sqlscript.nowhere_to_write(sqlscript.split(script)),
    )


def _state_bucket(
    session: db.Session, project: tables.Project, settings: job_rules.JobSettings
) -> str:
    if settings.state_bucket:
        found = bucket_store.read_bucket(
            session=session, account_id=project.account_id, name=settings.state_bucket
        )
        if found is None:
            raise errors.NotFound(
                f"settings.state_bucket: bucket {settings.state_bucket} does not exist",
                f"作业设置中的状态存储空间 {settings.state_bucket} 不存在",
                code="NoSuchBucket",
            )
        return found.name
    cluster = (
        cluster_store.read_cluster(session=session, cluster_id=project.cluster_id)
        if project.cluster_id
        else None
    )
    if cluster is not None and cluster.bucket_id is not None:
        bucket = session.get(bucket_store.Bucket, cluster.bucket_id)
        if bucket is not None:
            return bucket.name
    raise errors.Invalid(
        "the job needs a bucket for its checkpoints and savepoints: set settings.state_bucket "
        "(a shared-mode project has no cluster bucket)",
        "作业需要一个存储空间保存检查点和保存点：请在作业设置中指定状态存储空间"
        "（共享模式的项目没有集群存储空间）",
        code="JobStateBucketRequired",
    )


def publish(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    name: str,
) -> DeploymentView:
    """Go online (上线): check the head revision and freeze it into the deployment."""
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, principal.account_id, project)
        job = jobs.find(session, found, name)
        script, version, revision = job.sql, job.engine_version, job.revision
        resources = jobs.attached(session, job.id)
    checked = _check(platform, principal.account_id, project, script, version, resources)
    if not checked.result.ok:
        raise CheckFailed(
            f"job {name} revision {revision} does not pass its check: "
            + _problems_text(checked.result.problems),
            f"作业 {name} 的修订 {revision} 未通过检查，" + _problems_zh(checked.result.problems),
            checked.result.problems,
        )
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, principal.account_id, project, lock=True)
        job = jobs.find(session, found, name, lock=True)
        if job.revision != revision:
            raise errors.Conflict(
                f"job {name} was saved while it was checked: go online again",
                f"作业 {name} 在检查期间被保存过，请重新上线",
                code="RevisionConflict",
            )
        settings = job.settings
        bucket = _state_bucket(session, found, settings)
        cluster = (
            cluster_store.read_cluster(session=session, cluster_id=found.cluster_id)
            if found.cluster_id
            else None
        )
        jobmanagers = 2 if cluster is not None and cluster.master_count >= 3 else 1
        deployment = job_store.read_deployment(session=session, job_id=job.id, lock=True)
        if deployment is not None and deployment.state in job_rules.ACTIVE:
            raise errors.Conflict(
                f"job {name} is {deployment.state}: stop it before it goes online with "
                f"revision {revision}",
                f"作业 {name} {job_rules.STATES_ZH.get(deployment.state, deployment.state)}，"
                f"请先停止，再以修订 {revision} 上线",
                code="JobIsRunning",
            )
        if deployment is None:
            deployment = job_store.Deployment(
                job_id=job.id,
                project_id=found.id,
                desired=job_rules.WANT_STOPPED,
                state=job_rules.READY,
                state_since=now,
            )
            session.add(deployment)
        deployment.revision = revision
        deployment.sql = script
        deployment.settings = job.settings
        deployment.resources = resources  # the revision is unchanged, so is its list
        deployment.engine_version = checked.engine_version
        deployment.cluster_id = found.cluster_id
        deployment.state_bucket = bucket
        deployment.cu_milli = job_rules.cu_milli(settings.parallelism, jobmanagers)
        deployment.published_by = principal.display[:200]
        deployment.published_at = now
        deployment.desired_at = now
        job.state = job_rules.ONLINE
        job.checked_revision = revision
        said = job_events.went_online(revision, checked.engine_version, principal.display)
        job_store.add_event(
            session=session,
            job_id=job.id,
            at=now,
            kind=job_events.STATE,
            message=said.en,
            message_zh=said.zh,
        )
        session.flush()
        return deployment_view(platform, session, found, job, deployment)


def deployment_view(
    platform: platform_module.Platform,
    session: db.Session,
    project: tables.Project,
    job: job_store.Job,
    deployment: job_store.Deployment,
) -> DeploymentView:
    cluster = (
        cluster_store.read_cluster(session=session, cluster_id=deployment.cluster_id)
        if deployment.cluster_id
        else None
    )
    run = job_store.read_run(session=session, job_id=job.id, number=deployment.run)
    return DeploymentView(
        job=job.name,
        revision=deployment.revision,
        engine_version=deployment.engine_version,
        target=f"cluster {cluster.name}" if cluster else "the shared pool",
        cu=deployment.cu_milli / job_rules.MILLI,
        parallelism=deployment.settings.parallelism,
        desired=deployment.desired,
        state=deployment.state,
        flink_state=deployment.flink_state,
        flink_job_id=run.flink_job_id if run else "",
        flink_duration_ms=run.flink_duration_ms if run else 0,
        run=deployment.run,
        restarts=deployment.restarts,
        start_mode=deployment.start_mode,
        stop_mode=deployment.stop_mode,
        message=job_paths.shown(platform, session, project.account_id, deployment.message),
        published_by=deployment.published_by,
        published_at=deployment.published_at,
        state_since=deployment.state_since,
        message_zh=job_paths.shown(platform, session, project.account_id, deployment.message_zh),
    )


def _online(
    session: db.Session, project: tables.Project, name: str
) -> tuple[job_store.Job, job_store.Deployment]:
    job = jobs.find(session, project, name, lock=True)
    deployment = job_store.read_deployment(session=session, job_id=job.id, lock=True)
    if deployment is None:
        raise errors.Conflict(
            f"job {name} is not online: take it online first",
            f"作业 {name} 未上线，请先上线",
            code="JobNotOnline",
        )
    return job, deployment


def _allow(action_name: str, job: str, deployment: job_store.Deployment) -> job_rules.Action:
    action = job_rules.ACTIONS[action_name]
    if deployment.state not in action.sources:
        raise job_rules.refusal(action, deployment.state, job)
    return action


def _move(
    session: db.Session,
    platform: platform_module.Platform,
    job: job_store.Job,
    deployment: job_store.Deployment,
    *,
    desired: str,
    state: str,
    note: job_events.Said,
) -> None:
    now = platform.now()
    deployment.desired, deployment.desired_at = desired, now
    if deployment.state != state:
        deployment.state, deployment.state_since = state, now
    deployment.message, deployment.message_zh = "", ""
    job_store.add_event(
        session=session,
        job_id=job.id,
        at=now,
        kind=job_events.STATE,
        message=note.en,
        message_zh=note.zh,
    )


def _restore_of(
    session: db.Session,
    job: job_store.Job,
    mode: str,
    savepoint_id: int | None,
) -> int | None:
    """The savepoint row a start restores from (None: stateless)."""
    if mode == job_rules.STATELESS:
        return None
    if mode == job_rules.SAVEPOINT:
        if savepoint_id is None:
            raise errors.Invalid(
                "mode savepoint needs savepoint_id (see the job's savepoints)",
                "从保存点启动时须选择一个保存点",
                code="InvalidParameter.SavepointId",
            )
        found = job_store.read_savepoint(session=session, job_id=job.id, savepoint_id=savepoint_id)
        if found is None:
            raise errors.NotFound(
                f"job {job.name} has no savepoint {savepoint_id}",
                f"作业 {job.name} 没有这个保存点，请从列表中选择",
                code="SavepointNotFound",
            )
        return found.id
    kind = "checkpoint" if mode == job_rules.LATEST_CHECKPOINT else "savepoint"
    rows = [s for s in job_store.list_savepoints(session=session, job_id=job.id) if s.kind == kind]
    if not rows:
        raise errors.Conflict(
            f"job {job.name} has no {kind} to start from: start it stateless, or from another "
            "savepoint",
            f"作业 {job.name} 没有可用于启动的{'保存点' if kind == 'savepoint' else '检查点'}，"
            "请无状态启动，或从其他保存点启动",
            code="NoSavepoint" if kind == "savepoint" else "NoCheckpoint",
        )
    return rows[0].id


def _check_quota(
    session: db.Session, project: tables.Project, job: str, deployment: job_store.Deployment
) -> None:
    held = job_store.cu_held(session=session, project_id=project.id, holding=job_rules.HOLDING)
    if deployment.state in job_rules.HOLDING:
        held -= deployment.cu_milli
    free = project.cu * job_rules.MILLI - held
    if deployment.cu_milli > free:
        parallelism = deployment.settings.parallelism
        extra = deployment.cu_milli - parallelism * job_rules.MILLI
        managers = "JobManager" if extra <= job_rules.JOBMANAGER_SHARE_MILLI else "JobManagers"
        raise errors.QuotaExceeded(
            f"job {job} needs {job_rules.cu_text(deployment.cu_milli)} CU (parallelism "
            f"{parallelism} + {job_rules.cu_text(extra)} "
            f"for its {managers}); project {project.name} has {job_rules.cu_text(max(free, 0))} CU "
            f"free of {project.cu} ({job_rules.cu_text(held)} held by other jobs): lower the "
            "parallelism, stop another job, or add CU to the project",
            f"作业 {job} 需要 {job_rules.cu_text(deployment.cu_milli)} CU（并行度 "
            f"{parallelism}，另加 {job_rules.cu_text(extra)} 给 JobManager）；项目 {project.name} "
            f"共 {project.cu} CU，空闲 {job_rules.cu_text(max(free, 0))} CU（其他作业占用 "
            f"{job_rules.cu_text(held)}）：请降低并行度、停止其他作业或为项目增加 CU",
            code="JobQuotaExceeded",
        )


def start(
    platform: platform_module.Platform,
    principal: principals.Principal,
    request: principals.RequestContext,
    project: str,
    name: str,
    *,
    mode: str = job_rules.STATELESS,
    savepoint_id: int | None = None,
    allow_non_restored: bool = False,
) -> DeploymentView:
    """Start (or restart) the online job: it must fit the project's free CU."""
    if mode not in job_rules.START_MODES:
        raise errors.Invalid(
            f"mode: one of {', '.join(job_rules.START_MODES)}",
            f"启动方式须为 {'、'.join(job_rules.START_MODES)} 之一",
            code="InvalidParameter.StartMode",
        )
    service_role.check_pass_role(platform, principal, request)
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, principal.account_id, project)
        job = jobs.find(session, found, name)
        script, resources = _deployed(session, job)
    _recheck_locations(platform, principal.account_id, found.region, name, script, resources)
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, principal.account_id, project, lock=True)
        job, deployment = _online(session, found, name)
        _allow("start", name, deployment)
        _check_quota(session, found, name, deployment)
        restore = _restore_of(session, job, mode, savepoint_id)
        deployment.start_mode, deployment.savepoint_id = mode, restore
        deployment.allow_non_restored = allow_non_restored
        _move(
            session,
            platform,
            job,
            deployment,
            desired=job_rules.WANT_RUNNING,
            state=job_rules.STARTING,
            note=job_events.started(mode, principal.display),
        )
        session.flush()
        return deployment_view(platform, session, found, job, deployment)


def _deployed(
    session: db.Session, job: job_store.Job
) -> tuple[str, tuple[job_rules.Attached, ...]]:
    """The deployment's SQL and resources."""
    deployment = job_store.read_deployment(session=session, job_id=job.id)
    return (deployment.sql, deployment.resources) if deployment else ("", ())


def _recheck_locations(
    platform: platform_module.Platform,
    account_id: str,
    region: str,
    name: str,
    script: str,
    resources: tuple[job_rules.Attached, ...],
) -> None:
    """The isolation rules again at start: a bucket, an object or a role grant may have gone
    since; and a deployment published before a SELECT-only script was refused at check
    stops here, not after its processes started."""
    statements = sqlscript.split(script)
    with db.transaction(platform.sessions) as session:
        resolved = job_paths.resolve(
            platform,
            session,
            account_id=account_id,
            region=region,
            statements=statements,
        )
        attached = job_resources.resolve(
            platform, session, account_id=account_id, region=region, frozen=resources
        )
    problems = attached.problems + resolved.problems + sqlscript.nowhere_to_write(statements)
    if problems:
        raise CheckFailed(
            f"job {name} cannot start: " + _problems_text(problems),
            f"作业 {name} 无法启动，" + _problems_zh(problems),
            problems,
        )


def resume(
    platform: platform_module.Platform,
    principal: principals.Principal,
    request: principals.RequestContext,
    project: str,
    name: str,
) -> DeploymentView:
    """Resume a suspended job from its suspend savepoint (its CU stayed held)."""
    service_role.check_pass_role(platform, principal, request)
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, principal.account_id, project, lock=True)
        job, deployment = _online(session, found, name)
        _allow("resume", name, deployment)
        deployment.start_mode = job_rules.LATEST_SAVEPOINT
        deployment.savepoint_id = _restore_of(session, job, job_rules.LATEST_SAVEPOINT, None)
        deployment.allow_non_restored = False
        _move(
            session,
            platform,
            job,
            deployment,
            desired=job_rules.WANT_RUNNING,
            state=job_rules.STARTING,
            note=job_events.resumed(principal.display),
        )
        session.flush()
        return deployment_view(platform, session, found, job, deployment)


def stop(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    name: str,
    *,
    mode: str = job_rules.STOP_WITH_SAVEPOINT,
    suspend: bool = False,
) -> DeploymentView:
    """Stop with a savepoint (default) or cancel; `suspend` keeps the job's CU for resume."""
    if mode not in job_rules.STOP_MODES:
        raise errors.Invalid(
            f"mode: one of {', '.join(job_rules.STOP_MODES)}",
            f"停止方式须为 {'、'.join(job_rules.STOP_MODES)} 之一",
            code="InvalidParameter.StopMode",
        )
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, principal.account_id, project)
        job, deployment = _online(session, found, name)
        _allow("suspend" if suspend else "stop", name, deployment)
        deployment.stop_mode = job_rules.STOP_WITH_SAVEPOINT if suspend else mode
        _move(
            session,
            platform,
            job,
            deployment,
            desired=job_rules.WANT_SUSPENDED if suspend else job_rules.WANT_STOPPED,
            state=job_rules.STOPPING,
            note=job_events.stopping(mode, principal.display, suspend=suspend),
        )
        session.flush()
        return deployment_view(platform, session, found, job, deployment)


def offline(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    name: str,
) -> None:
    """Go offline (下线): the job no longer pins its engine version; savepoints stay."""
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, principal.account_id, project)
        job, deployment = _online(session, found, name)
        _allow("offline", name, deployment)
        session.delete(deployment)
        job.state = job_rules.OFFLINE
        said = job_events.taken_offline(principal.display)
        job_store.add_event(
            session=session,
            job_id=job.id,
            at=platform.now(),
            kind=job_events.STATE,
            message=said.en,
            message_zh=said.zh,
        )


def read_deployment(
    platform: platform_module.Platform, account_id: str, project: str, name: str
) -> DeploymentView:
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, account_id, project)
        job = jobs.find(session, found, name)
        deployment = job_store.read_deployment(session=session, job_id=job.id)
        if deployment is None:
            raise errors.NotFound(
                f"job {name} is not online", f"作业 {name} 未上线", code="JobNotOnline"
            )
        return deployment_view(platform, session, found, job, deployment)


def list_savepoints(
    platform: platform_module.Platform, account_id: str, project: str, name: str
) -> list[SavepointView]:
    with db.transaction(platform.sessions) as session:
        job = jobs.find(session, projects.find(session, account_id, project), name)
        return [
            SavepointView(
                s.id,
                s.run,
                s.kind,
                s.reason,
                job_paths.shown(platform, session, account_id, s.location),
                s.created_at,
            )
            for s in job_store.list_savepoints(session=session, job_id=job.id)
        ]


def list_events(
    platform: platform_module.Platform, account_id: str, project: str, name: str
) -> list[EventView]:
    """The job's events, newest first, repeats folded, locations as their oss:// address."""
    with db.transaction(platform.sessions) as session:
        job = jobs.find(session, projects.find(session, account_id, project), name)
        return [
            EventView(
                at=e.at,
                kind=e.kind,
                message=job_paths.shown(platform, session, account_id, e.message),
                message_zh=job_paths.shown(platform, session, account_id, e.message_zh),
                count=e.count,
                first_at=e.first_at or e.at,
            )
            for e in job_store.list_events(session=session, job_id=job.id)
        ]
