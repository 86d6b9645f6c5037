"""An online job's page: its state as the platform and as Flink tell it (RESTARTING and
FAILING shown as Flink says them), run, restarts and message; the lifecycle buttons the
state allows (domain/jobs.ACTIONS: a button the state refuses is not shown, and a refusal
that raced the page shows the service's sentence); live charts; events, savepoints, logs
and the alert job_rules.

The lifecycle routes only write the desired state, as the API does: the job reconciler
moves the job along, and the page's live part (the state and the buttons) polls itself
with htmx while Flink processes may be up. The charts are SVG sparklines drawn by
static/jobs.js from `metrics.json` (the readings services/jobs/observe keeps), refreshed
every few seconds; without JavaScript the page shows the latest reading as numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Form, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse
from fastapi.routing import APIRouter

from rtcompute import errors
from rtcompute.console import fields, guard, i18n, views
from rtcompute.console.pages.capacity import shared
from rtcompute.console.pages.jobs import folders as pages
from rtcompute.domain import jobs as job_rules
from rtcompute.domain import operations
from rtcompute.services.jobs import alerts as job_alerts
from rtcompute.services.jobs import drafts as jobs
from rtcompute.services.jobs import lifecycle as job_lifecycle
from rtcompute.services.jobs import observe as job_observe
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = pages.JOB_PAGE + "/online"
REFUSED = pages.REFUSED
MAX_LOG_VIEW = 256 * 1024  # the tail a log page shows; the download is whole
CHART_SAMPLES = 120
POLL_SECONDS = 3
ModeField = Annotated[str, Form(max_length=32), fields.Printable]
SmallField = Annotated[str, Form(max_length=32), fields.Printable]
LogName = Annotated[str, PathParam(max_length=255), fields.Printable]
# the charts: reading field, label (translated in the template), unit
CHARTS = (
    ("records_in_per_second", "records/s"),
    ("records_out_per_second", "records/s"),
    ("backpressure", ""),
    ("checkpoint_duration_ms", "ms"),
    ("checkpoint_size_bytes", "B"),
    ("watermark_lag_ms", "ms"),
)


def allowed_actions(deployment: job_lifecycle.DeploymentView | None) -> set[str]:
    """The lifecycle actions the deployment's state allows (the services' own rule)."""
    if deployment is None:
        return set()
    return {
        name for name, action in job_rules.ACTIONS.items() if deployment.state in action.sources
    }


def sample_json(sample: job_observe.MetricSample) -> dict[str, Any]:
    return {
        "at": sample.at.isoformat(),
        "run": sample.run,
        **{field: getattr(sample, field) for field, _ in CHARTS},
    }


async def _deployment(
    request: Request, principal: principals.Principal, project: str, job: str
) -> job_lifecycle.DeploymentView | None:
    platform = guard.platform_of(request)
    try:
        return await shared.run(
            job_lifecycle.read_deployment, platform, principal.account_id, project, job
        )
    except errors.NotFound as exc:
        if exc.code != "JobNotOnline":
            raise
        return None


async def live_context(
    request: Request, principal: principals.Principal, project: str, job: str
) -> dict[str, Any]:
    deployment = await _deployment(request, principal, project, job)
    platform = guard.platform_of(request)
    savepoints = await shared.run(
        job_lifecycle.list_savepoints, platform, principal.account_id, project, job
    )
    return {
        "project": project,
        "job_name": job,
        "job_base": pages.job_path(project, job),
        "deployment": deployment,
        "actions": allowed_actions(deployment),
        "moving": deployment is not None and deployment.state in job_rules.ACTIVE,
        "poll_seconds": POLL_SECONDS,
        "savepoints": savepoints,
        "start_modes": job_rules.START_MODES,
        # events and state messages carry both languages (domain/job_events.py)
        "text_lang": text_language(request),
    }


def text_language(request: Request) -> str:
    """The page's language as domain/job_events names it (`zh` or `en`)."""
    language, _ = views.language_of(request)
    return "zh" if language == i18n.CHINESE else "en"


async def page_response(
    request: Request,
    principal: principals.Principal,
    project: str,
    job: str,
    *,
    status: int = 200,
    refused: shared.Refusal | None = None,
) -> Response:
    platform = guard.platform_of(request)
    found = await shared.run(jobs.read_job, platform, principal.account_id, project, job)
    context = await live_context(request, principal, project, job)
    may = await guard.may(
        request,
        principal,
        {"logs": operations.QUERY_JOB_LOGS, "metrics": operations.QUERY_JOB_METRICS},
        project=project,
        job=job,
    )
    logs: list[job_observe.LogFile] = []
    if may.logs:
        try:
            logs = await shared.run(
                job_observe.list_logs, platform, principal.account_id, project, job
            )
        except errors.NotFound:
            logs = []
    latest = None
    if may.metrics:
        readings = await shared.run(
            job_observe.metrics, platform, principal.account_id, project, job, 1
        )
        latest = readings[-1] if readings else None
    events = await shared.run(
        job_lifecycle.list_events, platform, principal.account_id, project, job
    )
    alert_rules = await shared.run(
        job_alerts.list_rules, platform, principal.account_id, project, job
    )
    cluster = await pages.where_of(request, principal, project)
    context |= {
        "job": found,
        "cluster": cluster,
        "events": events,
        "logs": logs,
        "may": may,
        "latest": latest,
        "charts": CHARTS,
        "rules": {rule.kind: rule for rule in alert_rules},
        "alert_kinds": job_rules.ALERT_KINDS,
        "refused": refused,
    }
    active = "exclusive-clusters" if cluster else "shared-projects"
    return shared.render(request, "jobs/online.html", active, status, **context)


@router.get(PAGE)
async def online_page(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_JOB),
) -> Response:
    return await page_response(request, principal, project, job)


@router.get(PAGE + "/live")
async def online_live(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_JOB),
) -> Response:
    """The state and the buttons (htmx polling while Flink processes may be up)."""
    context = await live_context(request, principal, project, job)
    return shared.render(request, "jobs/online_live.html", "shared-projects", **context)


@router.get(pages.JOB_PAGE + "/metrics.json")
async def metrics_json(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    principal: principals.Principal = guard.requires(operations.QUERY_JOB_METRICS),
) -> Response:
    """The charts' data: the newest readings, oldest first, and the job's state."""
    platform = guard.platform_of(request)
    readings = await shared.run(
        job_observe.metrics, platform, principal.account_id, project, job, CHART_SAMPLES
    )
    deployment = await _deployment(request, principal, project, job)
    return JSONResponse(
        {
            "state": deployment.state if deployment else "",
            "flink_state": deployment.flink_state if deployment else "",
            "samples": [sample_json(s) for s in readings],
        },
        headers={"Cache-Control": "no-store"},
    )


# ---- the lifecycle ----------------------------------------------------------------------


async def _act(
    request: Request, principal: principals.Principal, project: str, job: str, action: Any
) -> Response:
    """Run a lifecycle write; its refusal is shown on the page, success redirects to it."""
    try:
        await shared.run(action)
    except REFUSED as exc:
        why = pages.refusal(request, exc)
        return await page_response(request, principal, project, job, status=why.status, refused=why)
    return shared.see_other(request, pages.job_path(project, job, "online"), "saved")


def _savepoint_id(raw: str) -> int | None:
    if not raw.strip():
        return None
    try:
        return int(raw)
    except ValueError:
        raise errors.Invalid(
            "savepoint_id: choose a savepoint of the list",
            "请从列表中选择一个保存点",
            code="InvalidParameter.SavepointId",
        ) from None


@router.post(pages.JOB_PAGE + "/start")
async def start(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    mode: ModeField = job_rules.STATELESS,
    savepoint_id: SmallField = "",
    allow_non_restored_state: Annotated[bool, Form()] = False,
    principal: principals.Principal = guard.requires(operations.START_JOB),
) -> Response:
    """Start from the chosen state; it must fit the project's free CU."""
    platform = guard.platform_of(request)
    context = shared.request_context(request)

    def begin() -> None:
        job_lifecycle.start(
            platform,
            principal,
            context,
            project,
            job,
            mode=mode,
            savepoint_id=_savepoint_id(savepoint_id) if mode == job_rules.SAVEPOINT else None,
            allow_non_restored=allow_non_restored_state,
        )

    return await _act(request, principal, project, job, begin)


@router.post(pages.JOB_PAGE + "/stop")
async def stop(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    mode: ModeField = job_rules.STOP_WITH_SAVEPOINT,
    principal: principals.Principal = guard.requires(operations.STOP_JOB),
) -> Response:
    """Stop with a savepoint (the default) or cancel."""
    platform = guard.platform_of(request)
    return await _act(
        request,
        principal,
        project,
        job,
        lambda: job_lifecycle.stop(platform, principal, project, job, mode=mode),
    )


Write = Callable[
    [platform_module.Platform, principals.Principal, principals.RequestContext, str, str], Any
]
# the lifecycle writes with no form fields: the button's path, its operation, the call
PLAIN: dict[str, tuple[operations.Operation, Write]] = {
    "resume": (operations.START_JOB, job_lifecycle.resume),
    "suspend": (
        operations.STOP_JOB,
        lambda platform, principal, _c, project, job: job_lifecycle.stop(
            platform, principal, project, job, suspend=True
        ),
    ),
    "offline": (
        operations.OFFLINE_JOB,
        lambda platform, principal, _c, project, job: job_lifecycle.offline(
            platform, principal, project, job
        ),
    ),
}


def _plain(name: str, operation: operations.Operation, write: Write) -> None:
    async def handler(
        request: Request,
        project: shared.Name,
        job: pages.JobName,
        principal: principals.Principal = guard.requires(operation),
    ) -> Response:
        platform = guard.platform_of(request)
        context = shared.request_context(request)
        return await _act(
            request,
            principal,
            project,
            job,
            lambda: write(platform, principal, context, project, job),
        )

    handler.__name__ = name
    router.post(pages.JOB_PAGE + "/" + name)(handler)


for _name, (_operation, _write) in PLAIN.items():
    _plain(_name, _operation, _write)


# ---- logs, alerts ------------------------------------------------------------------------


def _tail(path: Path) -> tuple[str, bool]:
    """The end of a log file (at most MAX_LOG_VIEW bytes) and whether it was cut."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - MAX_LOG_VIEW))
        return handle.read().decode("utf-8", "replace"), size > MAX_LOG_VIEW


@router.get(pages.JOB_PAGE + "/logs/{name}")
async def log_page(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    name: LogName,
    download: bool = False,
    principal: principals.Principal = guard.requires(operations.QUERY_JOB_LOGS),
) -> Response:
    """A log (or stdout) file of the run: its end on a page, or the whole file."""
    platform = guard.platform_of(request)
    path = await shared.run(
        job_observe.log_file, platform, principal.account_id, project, job, name
    )
    if download:
        return FileResponse(path, media_type="text/plain; charset=utf-8", filename=name)
    content, cut = await shared.run(_tail, path)
    cluster = await pages.where_of(request, principal, project)
    context: dict[str, Any] = {
        "project": project,
        "job_name": job,
        "job_base": pages.job_path(project, job),
        "name": name,
        "content": content,
        "cut": cut,
        "max_kb": MAX_LOG_VIEW // 1024,
    }
    active = "exclusive-clusters" if cluster else "shared-projects"
    return shared.render(request, "jobs/log.html", active, **context)


def _rule(form: Any, kind: str) -> job_alerts.Rule | None:
    if form.get(f"{kind}_on") not in ("on", "true", "1"):
        return None
    values = []
    for key, default in (("threshold", 0), ("window_seconds", 600)):
        raw = form.get(f"{kind}_{key}", "")
        try:
            values.append(int(raw) if isinstance(raw, str) and raw.strip() else default)
        except ValueError:
            code = "InvalidParameter.Threshold" if key == "threshold" else "InvalidParameter.Window"
            raise errors.Invalid(
                f"{kind} {key}: a whole number", f"告警 {kind} 的 {key} 须为整数", code=code
            ) from None
    return job_alerts.Rule(kind, values[0], values[1])


@router.post(pages.JOB_PAGE + "/alerts")
async def alerts(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    principal: principals.Principal = guard.requires(operations.UPDATE_JOB),
) -> Response:
    """Replace the job's alert rules with the ticked ones."""
    platform = guard.platform_of(request)
    form = await request.form()

    def replace() -> None:
        wanted = [r for kind in job_rules.ALERT_KINDS if (r := _rule(form, kind)) is not None]
        job_alerts.set_rules(platform, principal, project, job, wanted)

    return await _act(request, principal, project, job, replace)
