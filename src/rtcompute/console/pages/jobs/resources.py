"""The editor's Resources section: attach an object of the account's buckets to the job
(JARs go on its classpath) or detach one. Each is a save of the draft (a new revision), so
it goes online with the next Go online; the page is the editor's, shown again with the
refusal when the services refuse (no such object, another region, the service role may not
read it, more than 32).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response
from fastapi.routing import APIRouter

from rtcompute import errors
from rtcompute.console import fields, guard
from rtcompute.console.pages.capacity import shared
from rtcompute.console.pages.jobs import editor
from rtcompute.console.pages.jobs import folders as pages
from rtcompute.domain import operations
from rtcompute.services.jobs import resources as job_resources
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
ObjectField = Annotated[str, Form(max_length=1100), fields.Printable]


def ref_of(value: str) -> job_resources.Ref:
    bucket, sep, key = value.strip().partition("/")
    if not sep or not bucket or not key:
        raise errors.Invalid(
            "choose an object (bucket/key) to attach",
            "请选择要挂载的对象（存储空间/对象键）",
            code="InvalidParameter.JobResource",
        )
    return job_resources.Ref(bucket, key)


async def _change(
    request: Request,
    principal: principals.Principal,
    project: str,
    job: str,
    change: str,
    value: str,
) -> Response:
    platform = guard.platform_of(request)
    action = job_resources.attach if change == "attach" else job_resources.detach
    try:
        ref = ref_of(value)
        await shared.run(action, platform, principal, project, job, ref)
    except editor.REFUSED as exc:
        why = pages.refusal(request, exc)
        return await editor.editor_response(
            request, principal, project, job, status=why.status, refused=why
        )
    return shared.see_other(request, pages.job_path(project, job), "saved")


@router.post(pages.JOB_PAGE + "/resources/attach")
async def attach(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    resource: ObjectField = "",
    principal: principals.Principal = guard.requires(operations.UPDATE_JOB),
) -> Response:
    """Attach `bucket/key` (a new revision of the draft)."""
    return await _change(request, principal, project, job, "attach", resource)


@router.post(pages.JOB_PAGE + "/resources/detach")
async def detach(
    request: Request,
    project: shared.Name,
    job: pages.JobName,
    resource: ObjectField = "",
    principal: principals.Principal = guard.requires(operations.UPDATE_JOB),
) -> Response:
    """Detach `bucket/key` (a new revision of the draft)."""
    return await _change(request, principal, project, job, "detach", resource)
