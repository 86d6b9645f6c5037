"""A job's revisions (every save is one): the list, the unified diff of two (SQL, engine
version and settings, as services/jobs/drafts.diff_revisions writes it), and restore, which makes a
new revision with an old one's content. Choosing the two revisions is a plain GET form.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from fastapi.routing import APIRouter

from rtcompute import errors
from rtcompute.console import guard
from rtcompute.console.pages.capacity import shared
from rtcompute.console.pages.jobs import folders as pages
from rtcompute.domain import operations
from rtcompute.services.jobs import drafts as jobs
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
JOB_PAGE = pages.JOB_PAGE
REFUSED = pages.REFUSED
Number = Annotated[int, Path(ge=1, le=2**31 - 1)]


async def revisions_response(
    request: Request,
    principal: principals.Principal,
    project: str,
    job: str,
    *,
    first: int | None = None,
    second: int | None = None,
    status: int = 200,
    refused: shared.Refusal | None = None,
) -> Response:
    platform = guard.platform_of(request)
    found = await shared.run(jobs.read_job, platform, principal.account_id, project, job)
    revisions = await shared.run(jobs.list_revisions, platform, principal.account_id, project, job)
    diff = None
    if first is not None and second is not None:
        try:
            diff = await shared.run(
                jobs.diff_revisions, platform, principal.account_id, project, job, first, second
            )
        except errors.NotFound as exc:
            refused = pages.refusal(request, exc)
            status = refused.status
    numbers = [r.number for r in revisions]
    context: dict[str, Any] = {
        "project": project,
        "job": found,
        "revisions": revisions,
        "first": first or (numbers[-2] if len(numbers) > 1 else found.revision),
        "second": second or found.revision,
        "diff": diff,
        "diff_lines": diff.splitlines() if diff is not None else [],
        "refused": refused,
        "job_base": pages.job_path(project, found.name),
    }
    cluster = await pages.where_of(request, principal, project)
    active = "exclusive-clusters" if cluster else "shared-projects"
    return shared.render(request, "jobs/revisions.html", active, status, **context)


@router.get(JOB_PAGE + "/revisions")
async def revisions_page(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    first: Annotated[int | None, Query(alias="from", ge=1, le=2**31 - 1)] = None,
    second: Annotated[int | None, Query(alias="to", ge=1, le=2**31 - 1)] = None,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_JOB),
) -> Response:
    """Every revision; with `from` and `to`, their unified diff."""
    return await revisions_response(request, principal, project, job, first=first, second=second)


@router.post(JOB_PAGE + "/revisions/{revision}/restore")
async def restore(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    revision: Number,
    principal: principals.Principal = guard.requires(operations.UPDATE_JOB),
) -> Response:
    """A new revision with the content of an old one."""
    platform = guard.platform_of(request)
    try:
        await shared.run(jobs.restore_revision, platform, principal, project, job, revision)
    except REFUSED as exc:
        why = pages.refusal(request, exc)
        return await revisions_response(
            request, principal, project, job, status=why.status, refused=why
        )
    return shared.see_other(request, pages.job_path(project, job), "saved")
