"""Jobs of a project: folders, drafts and revisions, checks, going online, start / stop /
suspend / resume / offline, and what a running job shows (state, savepoints, events,
metrics, logs). Lifecycle routes only write the desired state; the job reconciler acts.

Resources are `<project>/job/<name>` and `<project>/folder/<path>` (docs/iam.md), so a
policy can grant one job, a project's jobs (`<project>/job/*`), or everything below a
project (`<project>/*`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any, BinaryIO

import anyio
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import TypeAdapter

from rtcompute import errors
from rtcompute.api import answers, deps
from rtcompute.api.routes import engines as engine_routes
from rtcompute.api.schemas import engines as engine_schemas
from rtcompute.api.schemas import jobs as schemas
from rtcompute.domain import operations
from rtcompute.services.jobs import alerts as job_alerts
from rtcompute.services.jobs import drafts as jobs
from rtcompute.services.jobs import lifecycle as job_lifecycle
from rtcompute.services.jobs import observe as job_observe
from rtcompute.services.jobs import resources as job_resources
from rtcompute.services.kernel import principals

router = APIRouter(prefix=deps.API_PREFIX, tags=["jobs"], responses=deps.ERROR_RESPONSES)
BASE = "acs:stream:{region}:{account_id}:{project}"
JOBS = BASE + "/job/*"
JOB = BASE + "/job/{job}"
NEW_JOB = BASE + "/job/{body[name]}"
FOLDERS = BASE + "/folder/*"
FOLDER = BASE + "/folder{body[path]}"
JOB_LIST = TypeAdapter(list[schemas.JobSummary])
# what a job list is read from (answers.answer)
JOB_TABLES = ("accounts", "projects", "job_folders", "jobs", "job_deployments", "job_runs")
PREFIX = "/projects/{project}"
CHUNK = 64 * 1024


def job_out(found: jobs.JobView) -> schemas.Job:
    return schemas.Job.model_validate(found)


def deployment_out(
    found: job_lifecycle.DeploymentView, language: str = errors.ENGLISH
) -> schemas.Deployment:
    """The deployment, its state message in `language` (Accept-Language, as errors)."""
    out = schemas.Deployment.model_validate(found)
    return out.model_copy(update={"message": found.message_in(language)})


# ---- folders ----------------------------------------------------------------------------


@router.get(PREFIX + "/folders", response_model=schemas.Folders)
async def list_folders(
    platform: deps.PlatformDep,
    project: str,
    principal: principals.Principal = deps.requires(operations.LIST_FOLDERS),
) -> schemas.Folders:
    """The project's folders by path; `/` always exists."""
    found = await anyio.to_thread.run_sync(
        jobs.list_folders, platform, principal.account_id, project
    )
    return schemas.Folders(folders=found)


@router.post(PREFIX + "/folders", status_code=201, response_model=schemas.Folders)
async def create_folder(
    platform: deps.PlatformDep,
    project: str,
    body: schemas.FolderCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_FOLDER),
) -> schemas.Folders:
    """Create a folder; its parent must exist."""
    made = await anyio.to_thread.run_sync(
        jobs.create_folder, platform, principal, project, body.path
    )
    return schemas.Folders(folders=[made])


@router.post(PREFIX + "/folders:move", response_model=schemas.Folders)
async def move_folder(
    platform: deps.PlatformDep,
    project: str,
    body: schemas.FolderMove,
    # a move writes two places (the folder and its new path): it needs the project's folders
    principal: principals.Principal = deps.requires(operations.UPDATE_FOLDER),
) -> schemas.Folders:
    """Rename or move a folder with its jobs and folders."""
    moved = await anyio.to_thread.run_sync(
        jobs.move_folder, platform, principal, project, body.path, body.to
    )
    return schemas.Folders(folders=[moved])


@router.post(PREFIX + "/folders:delete", status_code=204)
async def delete_folder(
    platform: deps.PlatformDep,
    project: str,
    body: schemas.FolderCreate,
    principal: principals.Principal = deps.requires(operations.DELETE_FOLDER),
) -> None:
    """Delete an empty folder."""
    await anyio.to_thread.run_sync(jobs.delete_folder, platform, principal, project, body.path)


# ---- drafts -----------------------------------------------------------------------------


@router.get(PREFIX + "/jobs", response_model=list[schemas.JobSummary])
async def list_jobs(
    request: Request,
    platform: deps.PlatformDep,
    project: str,
    folder: str | None = Query(default=None, max_length=600),
    principal: principals.Principal = deps.requires(operations.LIST_JOBS),
) -> Response:
    """The project's jobs (of one folder with `folder`), by name."""

    async def produce() -> list[schemas.JobSummary]:
        found = await anyio.to_thread.run_sync(
            jobs.list_jobs, platform, principal.account_id, project, folder
        )
        return [schemas.JobSummary.model_validate(j) for j in found]

    return await answers.answer(
        request, platform, principal.account_id, produce, JOB_LIST, JOB_TABLES
    )


@router.post(PREFIX + "/jobs", status_code=201, response_model=schemas.Job)
async def create_job(
    platform: deps.PlatformDep,
    project: str,
    body: schemas.JobCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_JOB),
) -> schemas.Job:
    """A new SQL job draft (revision 1)."""
    found = await anyio.to_thread.run_sync(
        lambda: jobs.create_job(
            platform,
            principal,
            project,
            body.name,
            folder=body.folder,
            sql_text=body.sql,
            settings=body.settings,
            engine_version=body.engine_version,
            description=body.description,
        )
    )
    return job_out(found)


@router.get(PREFIX + "/jobs/{job}", response_model=schemas.Job)
async def get_job(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_JOB),
) -> schemas.Job:
    found = await anyio.to_thread.run_sync(
        jobs.read_job, platform, principal.account_id, project, job
    )
    return job_out(found)


@router.patch(PREFIX + "/jobs/{job}", response_model=schemas.Job)
async def update_job(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    body: schemas.JobUpdate,
    principal: principals.Principal = deps.requires(operations.UPDATE_JOB),
) -> schemas.Job:
    """Save the draft: a change of SQL, settings or engine version is a new revision (an
    online job keeps running its frozen revision)."""
    found = await anyio.to_thread.run_sync(
        lambda: jobs.update_job(
            platform,
            principal,
            project,
            job,
            sql_text=body.sql,
            settings=body.settings,
            engine_version=body.engine_version,
            description=body.description,
            message=body.message,
            base_revision=body.base_revision,
        )
    )
    return job_out(found)


@router.post(PREFIX + "/jobs/{job}:move", response_model=schemas.Job)
async def move_job(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    body: schemas.JobMove,
    principal: principals.Principal = deps.requires(operations.UPDATE_JOB),
) -> schemas.Job:
    """Rename the job or move it to another folder."""
    found = await anyio.to_thread.run_sync(
        lambda: jobs.move_job(
            platform, principal, project, job, folder=body.folder, new_name=body.name
        )
    )
    return job_out(found)


@router.delete(PREFIX + "/jobs/{job}", status_code=204)
async def delete_job(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.DELETE_JOB),
) -> None:
    """Delete a draft and its revisions (an online job goes offline first)."""
    await anyio.to_thread.run_sync(jobs.delete_job, platform, principal, project, job)


@router.get(PREFIX + "/jobs/{job}/revisions", response_model=list[schemas.Revision])
async def list_revisions(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_JOB),
) -> list[schemas.Revision]:
    """Every save, newest first."""
    found = await anyio.to_thread.run_sync(
        jobs.list_revisions, platform, principal.account_id, project, job
    )
    return [schemas.Revision.model_validate(r) for r in found]


@router.get(PREFIX + "/jobs/{job}/revisions/{revision}", response_model=schemas.Revision)
async def get_revision(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    revision: int = Path(ge=1, le=schemas.MAX_NUMBER),
    principal: principals.Principal = deps.requires(operations.DESCRIBE_JOB),
) -> schemas.Revision:
    found = await anyio.to_thread.run_sync(
        jobs.read_revision, platform, principal.account_id, project, job, revision
    )
    return schemas.Revision.model_validate(found)


@router.get(PREFIX + "/jobs/{job}/diff", response_model=schemas.Diff)
async def diff_revisions(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    first: int = Query(alias="from", ge=1, le=schemas.MAX_NUMBER),
    second: int = Query(alias="to", ge=1, le=schemas.MAX_NUMBER),
    principal: principals.Principal = deps.requires(operations.DESCRIBE_JOB),
) -> schemas.Diff:
    """A unified diff of two revisions."""
    found = await anyio.to_thread.run_sync(
        jobs.diff_revisions, platform, principal.account_id, project, job, first, second
    )
    return schemas.Diff(diff=found)


@router.post(PREFIX + "/jobs/{job}/revisions/{revision}:restore", response_model=schemas.Job)
async def restore_revision(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    revision: int = Path(ge=1, le=schemas.MAX_NUMBER),
    principal: principals.Principal = deps.requires(operations.UPDATE_JOB),
) -> schemas.Job:
    """A new revision with an old one's content."""
    found = await anyio.to_thread.run_sync(
        jobs.restore_revision, platform, principal, project, job, revision
    )
    return job_out(found)


# ---- checks and lifecycle -------------------------------------------------------------


@router.post(PREFIX + "/jobs/{job}:validate", response_model=engine_schemas.SqlCheck)
async def validate_job(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.CHECK_JOB),
) -> engine_schemas.SqlCheck:
    """Syntax check of the draft on its engine version, with the isolation rules."""
    found = await anyio.to_thread.run_sync(
        job_lifecycle.check_job, platform, principal, project, job
    )
    return engine_schemas.SqlCheck.model_validate(engine_routes.check_out(found))


@router.post(PREFIX + "/jobs/{job}:explain", response_model=engine_schemas.SqlExplain)
async def explain_job(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.CHECK_JOB),
) -> engine_schemas.SqlExplain:
    found = await anyio.to_thread.run_sync(
        lambda: job_lifecycle.check_job(platform, principal, project, job, explain=True)
    )
    out: dict[str, Any] = engine_routes.check_out(found) | {"plan": found.result.plan}
    return engine_schemas.SqlExplain.model_validate(out)


@router.post(PREFIX + "/jobs/{job}:publish", response_model=schemas.Deployment)
async def publish_job(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.PUBLISH_JOB),
) -> schemas.Deployment:
    """Go online (上线): the head revision, checked, frozen into the deployment."""
    found = await anyio.to_thread.run_sync(job_lifecycle.publish, platform, principal, project, job)
    return deployment_out(found)


@router.post(PREFIX + "/jobs/{job}:start", response_model=schemas.Deployment)
async def start_job(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    context: deps.ContextDep,
    body: schemas.StartRequest | None = None,
    principal: principals.Principal = deps.requires(operations.START_JOB),
) -> schemas.Deployment:
    """Start the online job: stateless, or from the latest checkpoint / savepoint or a
    chosen savepoint. Its CU must fit the project's free quota."""
    request = body or schemas.StartRequest()
    found = await anyio.to_thread.run_sync(
        lambda: job_lifecycle.start(
            platform,
            principal,
            context,
            project,
            job,
            mode=request.mode,
            savepoint_id=request.savepoint_id,
            allow_non_restored=request.allow_non_restored_state,
        )
    )
    return deployment_out(found)


@router.post(PREFIX + "/jobs/{job}:resume", response_model=schemas.Deployment)
async def resume_job(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    context: deps.ContextDep,
    principal: principals.Principal = deps.requires(operations.START_JOB),
) -> schemas.Deployment:
    """Resume a suspended job from its suspend savepoint."""
    found = await anyio.to_thread.run_sync(
        job_lifecycle.resume, platform, principal, context, project, job
    )
    return deployment_out(found)


@router.post(PREFIX + "/jobs/{job}:stop", response_model=schemas.Deployment)
async def stop_job(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    body: schemas.StopRequest | None = None,
    principal: principals.Principal = deps.requires(operations.STOP_JOB),
) -> schemas.Deployment:
    """Stop with a savepoint (default) or cancel; the job's CU is released."""
    mode = (body or schemas.StopRequest()).mode
    found = await anyio.to_thread.run_sync(
        lambda: job_lifecycle.stop(platform, principal, project, job, mode=mode)
    )
    return deployment_out(found)


@router.post(PREFIX + "/jobs/{job}:suspend", response_model=schemas.Deployment)
async def suspend_job(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.STOP_JOB),
) -> schemas.Deployment:
    """Stop with a savepoint and keep the job's CU for its resume."""
    found = await anyio.to_thread.run_sync(
        lambda: job_lifecycle.stop(platform, principal, project, job, suspend=True)
    )
    return deployment_out(found)


@router.post(PREFIX + "/jobs/{job}:offline", status_code=204)
async def offline_job(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.OFFLINE_JOB),
) -> None:
    """Go offline (下线): the job releases its engine version; its savepoints stay."""
    await anyio.to_thread.run_sync(job_lifecycle.offline, platform, principal, project, job)


# ---- watching ---------------------------------------------------------------------------


@router.get(PREFIX + "/jobs/{job}/deployment", response_model=schemas.Deployment)
async def get_deployment(
    request: Request,
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_JOB),
) -> schemas.Deployment:
    """The online job: desired and observed state (`restarting` while Flink restarts it
    after a failure, the message naming the failure), Flink's own state, its run; the
    message in the Accept-Language language."""
    found = await anyio.to_thread.run_sync(
        job_lifecycle.read_deployment, platform, principal.account_id, project, job
    )
    return deployment_out(found, deps.language(request))


@router.get(PREFIX + "/jobs/{job}/savepoints", response_model=list[schemas.Savepoint])
async def list_savepoints(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_JOB),
) -> list[schemas.Savepoint]:
    """Savepoints and retained checkpoints a start can restore from, newest first."""
    found = await anyio.to_thread.run_sync(
        job_lifecycle.list_savepoints, platform, principal.account_id, project, job
    )
    return [schemas.Savepoint.model_validate(s) for s in found]


@router.get(PREFIX + "/jobs/{job}/events", response_model=list[schemas.Event])
async def list_events(
    request: Request,
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_JOB),
) -> list[schemas.Event]:
    """State changes, failovers (with Flink's root exception), checkpoint failures, alerts,
    newest first; repeats folded (`count` times since `first_at`); the message in the
    Accept-Language language."""
    found = await anyio.to_thread.run_sync(
        job_lifecycle.list_events, platform, principal.account_id, project, job
    )
    language = deps.language(request)
    return [
        schemas.Event(
            at=e.at,
            kind=e.kind,
            message=e.message_in(language),
            count=e.count,
            first_at=e.first_at,
        )
        for e in found
    ]


@router.get(PREFIX + "/jobs/{job}/metrics", response_model=list[schemas.MetricSample])
async def job_metrics(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    limit: int = Query(default=120, ge=1, le=job_observe.MAX_SAMPLES),
    principal: principals.Principal = deps.requires(operations.QUERY_JOB_METRICS),
) -> list[schemas.MetricSample]:
    """Records in/out per second, backpressure, watermark lag, checkpoint duration and size,
    oldest first."""
    found = await anyio.to_thread.run_sync(
        job_observe.metrics, platform, principal.account_id, project, job, limit
    )
    return [schemas.MetricSample.model_validate(s) for s in found]


@router.get(PREFIX + "/jobs/{job}/logs", response_model=list[schemas.LogFile])
async def list_logs(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.QUERY_JOB_LOGS),
) -> list[schemas.LogFile]:
    """The JobManager and TaskManager logs and stdout files of the current or last run."""
    found = await anyio.to_thread.run_sync(
        job_observe.list_logs, platform, principal.account_id, project, job
    )
    return [schemas.LogFile.model_validate(f) for f in found]


@router.get(
    PREFIX + "/jobs/{job}/logs/{name}",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
async def get_log(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    name: str,
    principal: principals.Principal = deps.requires(operations.QUERY_JOB_LOGS),
) -> StreamingResponse:
    """Download one log file."""
    path = await anyio.to_thread.run_sync(
        job_observe.log_file, platform, principal.account_id, project, job, name
    )
    try:
        handle = await anyio.to_thread.run_sync(lambda: path.open("rb"))
    except OSError:
        raise errors.NotFound(
            f"log file {name[:200]} is gone", f"日志文件 {name[:200]} 已不存在", code="NoSuchLog"
        ) from None
    size = os.fstat(handle.fileno()).st_size
    return StreamingResponse(
        _chunks(handle, size),
        media_type="text/plain; charset=utf-8",
        headers={"content-length": str(size)},
    )


async def _chunks(handle: BinaryIO, size: int) -> AsyncIterator[bytes]:
    """The file as it was when opened (a log keeps growing while it is sent)."""
    left = size
    try:
        while left > 0 and (chunk := await anyio.to_thread.run_sync(handle.read, min(CHUNK, left))):
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()


@router.get(PREFIX + "/jobs/{job}/alerts", response_model=schemas.AlertRules)
async def get_alerts(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_JOB),
) -> schemas.AlertRules:
    found = await anyio.to_thread.run_sync(
        job_alerts.list_rules, platform, principal.account_id, project, job
    )
    return schemas.AlertRules(rules=[schemas.AlertRule.model_validate(r.__dict__) for r in found])


@router.put(PREFIX + "/jobs/{job}/alerts", response_model=schemas.AlertRules)
async def set_alerts(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    body: schemas.AlertRules,
    principal: principals.Principal = deps.requires(operations.UPDATE_JOB),
) -> schemas.AlertRules:
    """Replace the job's alert rules (an empty list: no alerts)."""
    wanted = [job_alerts.Rule(r.kind, r.threshold, r.window_seconds) for r in body.rules]
    found = await anyio.to_thread.run_sync(
        job_alerts.set_rules, platform, principal, project, job, wanted
    )
    return schemas.AlertRules(rules=[schemas.AlertRule.model_validate(r.__dict__) for r in found])


def resources_out(found: list[job_resources.ResourceView]) -> schemas.JobResources:
    return schemas.JobResources(resources=[schemas.JobResource.model_validate(r) for r in found])


@router.get(PREFIX + "/jobs/{job}/resources", response_model=schemas.JobResources)
async def get_resources(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_JOB),
) -> schemas.JobResources:
    """The JARs and files of the account's buckets attached to the draft."""
    found = await anyio.to_thread.run_sync(
        job_resources.list_resources, platform, principal.account_id, project, job
    )
    return resources_out(found)


@router.put(PREFIX + "/jobs/{job}/resources", response_model=schemas.JobResources)
async def set_resources(
    platform: deps.PlatformDep,
    project: str,
    job: str,
    body: schemas.JobResourcesUpdate,
    principal: principals.Principal = deps.requires(operations.UPDATE_JOB),
) -> schemas.JobResources:
    """Replace the attached resources (a change is a new revision; it goes online with the
    next publish). New objects must exist in a bucket of the account in the project's
    region, readable by the service role."""
    wanted = [job_resources.Ref(r.bucket, r.key) for r in body.resources]
    found = await anyio.to_thread.run_sync(
        job_resources.set_resources, platform, principal, project, job, wanted
    )
    return resources_out(found)
