"""The job editor: the SQL with line numbers, the engine version (the installed versions where
the project runs, or "current"), the settings form, and Save / Check / Explain / Go online;
the revisions with a diff of two and restore; rename, move and delete.

One form carries the SQL, the version and the settings, so the page works without
JavaScript. Check and Explain first save what the form holds when it differs from the head
revision (a new revision: the services check the saved head, so what is checked is what
goes online); that save is the UpdateJob action, asked of the guard like any route's. A
check's problems are listed as `line:col message` and the line is marked in the gutter; the
page's script (static/jobs.js) moves the cursor to a problem's line when it is clicked.
Go online publishes the saved head revision. The Resources section (attach and detach
objects of the account's buckets) posts to pages/jobs/resources.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Form, Request, Response
from fastapi.routing import APIRouter

from rtcompute.console import fields, guard
from rtcompute.console.pages.capacity import shared
from rtcompute.console.pages.jobs import folders as pages
from rtcompute.console.pages.jobs import sql_check
from rtcompute.domain import jobs as job_rules
from rtcompute.domain import operations, sqlscript
from rtcompute.services.jobs import drafts as jobs
from rtcompute.services.jobs import lifecycle as job_lifecycle
from rtcompute.services.jobs import resources as job_resources
from rtcompute.services.jobs import sql as sql_checks
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
JOB_PAGE = pages.JOB_PAGE
SqlField = Annotated[str, Form(max_length=sql_checks.MAX_SQL_CHARS), fields.Storable]
VersionField = Annotated[str, Form(max_length=64), fields.Printable]
MessageField = Annotated[str, Form(max_length=256), fields.Printable]
RevisionField = Annotated[int | None, Form(ge=0, le=2**31 - 1)]
# the settings form: whole-number fields, and the restart strategy's (prefixed restart_)
INT_SETTINGS = ("parallelism", "checkpoint_interval_seconds", "state_ttl_seconds")
RESTART_INTS = (
    "attempts",
    "delay_seconds",
    "max_failures",
    "interval_seconds",
    "initial_seconds",
    "max_seconds",
)
MAX_FIELD = 64_000


def settings_form(settings: Mapping[str, Any]) -> dict[str, str]:
    """A job's settings as the form's field values."""
    restart = settings.get("restart", {})
    values = {key: str(settings.get(key, "")) for key in INT_SETTINGS}
    values["checkpoint_mode"] = str(settings.get("checkpoint_mode", ""))
    values["state_bucket"] = str(settings.get("state_bucket", ""))
    values["restart_type"] = str(restart.get("type", ""))
    values |= {f"restart_{key}": str(restart.get(key, "")) for key in RESTART_INTS}
    config = settings.get("flink_config", {})
    values["flink_config"] = "\n".join(f"{k}={v}" for k, v in config.items())
    return values


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        raise job_rules.wrong_setting(
            name,
            f"text of at most {MAX_FIELD} characters",
            f"须为最多 {MAX_FIELD} 个字符的文本",
        )
    try:
        return fields.printable(value.replace("\r", "")).strip()
    except ValueError:
        raise job_rules.wrong_setting(
            name, "text without control characters", "须为不含控制字符的文本"
        ) from None


def _field(form: Mapping[str, Any], key: str) -> str:
    return _text(form.get(key, ""), key)


def _whole(form: Mapping[str, Any], key: str, name: str) -> int:
    raw = _field(form, key)
    try:
        return int(raw)
    except ValueError:
        raise job_rules.wrong_setting(name, "a whole number", "须为整数") from None


def flink_config_of(raw: str) -> dict[str, str]:
    """`key=value` lines (blank lines and # comments skipped) to Flink keys."""
    config: dict[str, str] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not key.strip():
            raise job_rules.wrong_setting(
                "flink_config",
                f"line {number} reads key=value",
                f"第 {number} 行须写成 key=value",
            )
        config[key.strip()] = value.strip()
    return config


def settings_of(form: Mapping[str, Any]) -> dict[str, Any]:
    """The settings the form holds, as the services take them (they check the rules)."""
    settings: dict[str, Any] = {key: _whole(form, key, key) for key in INT_SETTINGS}
    settings["checkpoint_mode"] = _field(form, "checkpoint_mode")
    settings["state_bucket"] = _field(form, "state_bucket")
    restart: dict[str, Any] = {"type": _field(form, "restart_type")}
    restart |= {key: _whole(form, f"restart_{key}", f"restart.{key}") for key in RESTART_INTS}
    settings["restart"] = restart
    raw_config = str(form.get("flink_config", ""))
    lines = [_text(line, "flink_config") for line in raw_config.split("\n")]
    settings["flink_config"] = flink_config_of("\n".join(lines))
    return settings


def gutter(sql_text: str, marked: set[int]) -> list[tuple[int, bool]]:
    """Line numbers for the editor's gutter (one per line of the script, no more), the lines
    with problems marked."""
    count = sql_text.count("\n") + 1
    return [(n, n in marked) for n in range(1, count + 1)]


async def editor_response(
    request: Request,
    principal: principals.Principal,
    project: str,
    job: str,
    *,
    status: int = 200,
    refused: shared.Refusal | None = None,
    form: Mapping[str, str] | None = None,
    result: sqlscript.CheckResult | None = None,
    checked_on: str = "",
    explained: bool = False,
) -> Response:
    platform = guard.platform_of(request)
    found = await shared.run(jobs.read_job, platform, principal.account_id, project, job)
    cluster, versions = await sql_check.installed_versions(request, principal, project)
    folders = await shared.run(jobs.list_folders, platform, principal.account_id, project)
    attached = await shared.run(
        job_resources.list_resources, platform, principal.account_id, project, job
    )
    choices = await shared.run(job_resources.candidates, platform, principal.account_id, project)
    values = {
        "sql": found.sql,
        "engine_version": found.engine_version,
        "message": "",
        "base_revision": str(found.revision),
        **settings_form(found.settings),
        **(form or {}),
    }
    problems = result.problems if result else ()
    context: dict[str, Any] = {
        "project": project,
        "cluster": cluster,
        "job": found,
        # a running job is stopped before another revision goes online (the service refuses)
        "active_states": job_rules.ACTIVE,
        "versions": versions,
        "values": values,
        "gutter": gutter(values["sql"], {p.line for p in problems}),
        "result": result,
        "checked_on": checked_on,
        "explained": explained,
        "refused": refused,
        "folders": folders,
        "resources": attached,
        "resource_choices": [
            c for c in choices if (c.bucket, c.key) not in {(r.bucket, r.key) for r in attached}
        ],
        "restart_types": job_rules.RESTART_TYPES,
        "checkpoint_modes": job_rules.CHECKPOINT_MODES,
        "list_page": pages.list_path(project, found.folder),
        "job_base": pages.job_path(project, found.name),
    }
    active = "exclusive-clusters" if cluster else "shared-projects"
    return shared.render(request, "jobs/editor.html", active, status, **context)


@router.get(JOB_PAGE)
async def editor_page(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_JOB),
) -> Response:
    return await editor_response(request, principal, project, job)


async def _posted(request: Request) -> dict[str, str]:
    """The editor form's text fields as posted (shown again when the save is refused)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


async def _save(
    request: Request,
    principal: principals.Principal,
    project: str,
    job: str,
    *,
    message: str,
    base_revision: int | None,
    always: bool,
) -> jobs.JobView:
    """Save the form as a new revision when it changed (`always`: the Save button)."""
    platform = guard.platform_of(request)
    posted = await _posted(request)
    settings = settings_of(posted)
    sql_text = posted.get("sql", "").replace("\r\n", "\n")
    version = posted.get("engine_version", "")
    if not always:
        head = await shared.run(jobs.read_job, platform, principal.account_id, project, job)
        merged = jobs.settings_of(settings, jobs.settings_of(head.settings)).as_dict()
        if (head.sql, head.engine_version, head.settings) == (sql_text, version, merged):
            return head
        await guard.require(request, principal, operations.UPDATE_JOB, project=project, job=job)
    return await shared.run(
        lambda: jobs.update_job(
            platform,
            principal,
            project,
            job,
            sql_text=sql_text,
            settings=settings,
            engine_version=version,
            message=message,
            base_revision=base_revision,
        )
    )


@router.post(JOB_PAGE + "/save")
async def save(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    sql: SqlField = "",
    engine_version: VersionField = "",
    message: MessageField = "",
    base_revision: RevisionField = None,
    principal: principals.Principal = guard.requires(operations.UPDATE_JOB),
) -> Response:
    """Save: a change of SQL, settings or version is a new revision; a stale base revision
    (someone saved since the page was loaded) is refused, the typed text kept."""
    del sql, engine_version  # read with the settings from the form
    try:
        await _save(
            request,
            principal,
            project,
            job,
            message=message,
            base_revision=base_revision,
            always=True,
        )
    except REFUSED as exc:
        why = pages.refusal(request, exc)
        posted = await _posted(request)
        return await editor_response(
            request, principal, project, job, status=why.status, refused=why, form=posted
        )
    return shared.see_other(request, pages.job_path(project, job), "saved")


REFUSED = pages.REFUSED


async def _check(
    request: Request,
    principal: principals.Principal,
    project: str,
    job: str,
    base_revision: int | None,
    *,
    explain: bool,
) -> Response:
    platform = guard.platform_of(request)
    try:
        await _save(
            request,
            principal,
            project,
            job,
            message="",
            base_revision=base_revision,
            always=False,
        )
        checked = await shared.run(
            lambda: job_lifecycle.check_job(platform, principal, project, job, explain=explain)
        )
    except REFUSED as exc:
        why = pages.refusal(request, exc)
        posted = await _posted(request)
        return await editor_response(
            request, principal, project, job, status=why.status, refused=why, form=posted
        )
    return await editor_response(
        request,
        principal,
        project,
        job,
        result=checked.result,
        checked_on=checked.engine_version,
        explained=explain,
    )


@router.post(JOB_PAGE + "/check")
async def check(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    base_revision: RevisionField = None,
    principal: principals.Principal = guard.requires(operations.CHECK_JOB),
) -> Response:
    """Syntax check of what the form holds (saved first when it changed)."""
    return await _check(request, principal, project, job, base_revision, explain=False)


@router.post(JOB_PAGE + "/explain")
async def explain(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    base_revision: RevisionField = None,
    principal: principals.Principal = guard.requires(operations.CHECK_JOB),
) -> Response:
    """The plan Flink makes of the job (nothing runs)."""
    return await _check(request, principal, project, job, base_revision, explain=True)


@router.post(JOB_PAGE + "/publish")
async def publish(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    principal: principals.Principal = guard.requires(operations.PUBLISH_JOB),
) -> Response:
    """Go online with the saved head revision; a failing check lists its problems here."""
    platform = guard.platform_of(request)
    try:
        await shared.run(job_lifecycle.publish, platform, principal, project, job)
    except job_lifecycle.CheckFailed as exc:
        why = pages.refusal(request, exc)
        failed = sqlscript.CheckResult(False, exc.problems, "", 0.0, "")
        return await editor_response(
            request, principal, project, job, status=why.status, refused=why, result=failed
        )
    except REFUSED as exc:
        why = pages.refusal(request, exc)
        return await editor_response(
            request, principal, project, job, status=why.status, refused=why
        )
    return shared.see_other(request, pages.job_path(project, job, "online"), "created")


# ---- rename / move, delete ----------------------------------------------------------------


@router.post(JOB_PAGE + "/move")
async def move_job(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    folder: pages.FolderField = "",
    name: Annotated[str, Form(max_length=128), fields.Printable] = "",
    principal: principals.Principal = guard.requires(operations.UPDATE_JOB),
) -> Response:
    """Rename the job or move it to another folder (an online job keeps running)."""
    platform = guard.platform_of(request)
    try:
        moved = await shared.run(
            lambda: jobs.move_job(
                platform,
                principal,
                project,
                job,
                folder=folder.strip() or None,
                new_name=name.strip() or None,
            )
        )
    except REFUSED as exc:
        why = pages.refusal(request, exc)
        return await editor_response(
            request, principal, project, job, status=why.status, refused=why
        )
    return shared.see_other(request, pages.job_path(project, moved.name), "saved")


@router.post(JOB_PAGE + "/delete")
async def delete_job(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    principal: principals.Principal = guard.requires(operations.DELETE_JOB),
) -> Response:
    """Delete a draft with its revisions (an online job is refused)."""
    platform = guard.platform_of(request)
    try:
        await shared.run(jobs.delete_job, platform, principal, project, job)
    except REFUSED as exc:
        why = pages.refusal(request, exc)
        return await editor_response(
            request, principal, project, job, status=why.status, refused=why
        )
    return shared.see_other(request, pages.list_path(project), "deleted")
