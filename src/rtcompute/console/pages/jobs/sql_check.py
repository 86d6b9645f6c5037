"""A project's SQL syntax check (语法检查) and plan, on an engine version of its cluster (or
of the shared pool for a shared project), through a warm engine worker.

The version select lists the versions installed there, the current one chosen; Flink's
own messages are listed with the line and column of the script they point at. A version
that is not installed answers with the guide's 30006 message, shown as it is. The same
actions and resource as `POST /api/v1/projects/{project}/sql:validate` and `:explain`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request, Response
from fastapi.routing import APIRouter

from rtcompute import errors
from rtcompute.console import fields, guard, views
from rtcompute.console.pages.capacity import shared
from rtcompute.console.pages.engines import versions as version_pages
from rtcompute.domain import engines as engine_rules
from rtcompute.domain import operations
from rtcompute.services.capacity import clusters, projects
from rtcompute.services.engines import versions as engine_versions
from rtcompute.services.jobs import sql as sql_checks
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = "/console/projects/{project}/sql"
# a script, as long as the API takes one (services/jobs/sql.py checks the same limit)
SqlField = Annotated[str, Form(max_length=sql_checks.MAX_SQL_CHARS), fields.Storable]
VersionField = Annotated[str, Form(max_length=64), fields.Printable]
REFUSED = (*shared.REFUSED, errors.Unavailable)


async def installed_versions(
    request: Request, principal: principals.Principal, project: str
) -> tuple[str | None, list[engine_versions.VersionView]]:
    """The project's cluster (None: the shared pool) and the versions installed there."""
    platform = guard.platform_of(request)
    found = await shared.run(projects.read_project, platform, principal.account_id, project)
    cluster = None
    if found.cluster_id is not None:
        names = await shared.run(clusters.cluster_names, platform, principal.account_id)
        cluster = names.get(found.cluster_id)
    versions = await shared.run(
        engine_versions.list_versions, platform, principal.account_id, cluster
    )
    return cluster, [v for v in versions if v.state == engine_rules.INSTALLED]


async def page_response(
    request: Request,
    principal: principals.Principal,
    project: str,
    *,
    status: int = 200,
    **context: Any,
) -> Response:
    cluster, versions = await installed_versions(request, principal, project)
    current = next((v.version for v in versions if v.current), "")
    values = {
        "active": "exclusive-clusters" if cluster else "shared-projects",
        "project": project,
        "cluster": cluster,
        "versions_page": version_pages.page_of(cluster),
        "versions": versions,
        "chosen": context.pop("chosen", "") or current,
        "sql_text": "",
        "result": None,
        "refused": None,
        **context,
    }
    return views.render(request, "engines/sql.html", values, status=status)


async def check_response(
    request: Request,
    principal: principals.Principal,
    project: str,
    sql_text: str,
    engine_version: str,
    *,
    explain: bool,
) -> Response:
    platform = guard.platform_of(request)
    try:
        found = await shared.run(
            lambda: sql_checks.check(
                platform,
                principal,
                project,
                sql_text,
                engine_version=engine_version or None,
                explain=explain,
            )
        )
    except REFUSED as exc:
        why = version_pages.refusal(request, exc)
        return await page_response(
            request,
            principal,
            project,
            status=why.status,
            refused=why,
            sql_text=sql_text,
            chosen=engine_version,
        )
    return await page_response(
        request,
        principal,
        project,
        sql_text=sql_text,
        chosen=found.engine_version,
        result=found.result,
        checked_on=found.engine_version,
        explained=explain,
    )


@router.get(PAGE)
async def sql_page(
    request: Request,
    project: shared.Name,
    principal: principals.Principal = guard.requires(operations.CHECK_SQL),
) -> Response:
    return await page_response(request, principal, project)


@router.post(PAGE + "/validate")
async def validate(
    request: Request,
    project: shared.Name,
    sql: SqlField,
    engine_version: VersionField = "",
    principal: principals.Principal = guard.requires(operations.CHECK_SQL),
) -> Response:
    """Syntax check: ok, or Flink's messages with line and column."""
    return await check_response(request, principal, project, sql, engine_version, explain=False)


@router.post(PAGE + "/explain")
async def explain(
    request: Request,
    project: shared.Name,
    sql: SqlField,
    engine_version: VersionField = "",
    principal: principals.Principal = guard.requires(operations.EXPLAIN_SQL),
) -> Response:
    """The plan Flink makes of the script (nothing runs)."""
    return await check_response(request, principal, project, sql, engine_version, explain=True)
