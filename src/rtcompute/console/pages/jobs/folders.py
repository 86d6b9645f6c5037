"""A project's jobs (the development platform's job list): the folder tree, the jobs of a
folder with their state, and the forms that create, rename, move and delete folders and jobs.

The job pages follow the capacity pages' rules (pages/capacity/shared.py): each route
declares the API's action on the API's resource (api/routes/jobs.py: `<project>/job/<name>`,
`<project>/folder/*`), writes are forms posted with the session's CSRF token that redirect
(post-redirect-get), and a refusal is shown on the page that caused it with the service's
sentence in the page's language. A new job's and a folder's name arrive in the form, which
the guard reads after it decided, so those routes declare the collection
(`<project>/job/*`, `<project>/folder/*`): a policy that grants one named folder only allows
it through the API.

The editor is pages/jobs/editor.py, the online job's page pages/jobs/online.py.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib import parse

from fastapi import Form, Query, Request, Response
from fastapi.routing import APIRouter

from rtcompute import errors
from rtcompute.console import fields, guard
from rtcompute.console.pages.capacity import shared
from rtcompute.console.pages.engines import versions as engine_versions
from rtcompute.domain import operations
from rtcompute.services.capacity import clusters, projects
from rtcompute.services.jobs import drafts as jobs
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
LIST_PAGE = "/console/projects/{project}/jobs"
JOB_PAGE = LIST_PAGE + "/{job}"
# what a job form shows on its page; anything else is the error page
REFUSED = (*shared.REFUSED, errors.Unavailable)

# a refusal in the page's language: the error's own sentence, and where to fix its cause
refusal = engine_versions.refusal

JobName = shared.Name
FolderField = Annotated[str, Form(max_length=600), fields.Printable]
FolderQuery = Annotated[str, Query(max_length=600), fields.Printable]


def list_path(project: str, folder: str | None = None) -> str:
    base = shared.path_of("/console/projects", project, "jobs")
    return base if not folder or folder == "/" else f"{base}?folder={_quoted(folder)}"


def job_path(project: str, job: str, *rest: str) -> str:
    return shared.path_of("/console/projects", project, "jobs", job, *rest)


def _quoted(value: str) -> str:
    return parse.quote(value, safe="/")


def depth_of(folder: str) -> int:
    return 0 if folder == "/" else folder.count("/")


async def where_of(request: Request, principal: principals.Principal, project: str) -> str:
    """The project's cluster name, or "" for the shared pool (404 for another account's)."""
    platform = guard.platform_of(request)
    found = await shared.run(projects.read_project, platform, principal.account_id, project)
    if found.cluster_id is None:
        return ""
    names = await shared.run(clusters.cluster_names, platform, principal.account_id)
    return names.get(found.cluster_id, "")


async def list_response(
    request: Request,
    principal: principals.Principal,
    project: str,
    folder: str | None,
    *,
    status: int = 200,
    refused: shared.Refusal | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    platform = guard.platform_of(request)
    cluster = await where_of(request, principal, project)
    folders = await shared.run(jobs.list_folders, platform, principal.account_id, project)
    chosen = folder if folder in folders else None
    listed = await shared.run(jobs.list_jobs, platform, principal.account_id, project, chosen)
    context: dict[str, Any] = {
        "project": project,
        "cluster": cluster,
        "folders": [(f, depth_of(f)) for f in folders],
        "folder": chosen,
        "jobs": listed,
        "refused": refused,
        "values": values or {},
        "versions_page": engine_versions.page_of(cluster or None),
    }
    active = "exclusive-clusters" if cluster else "shared-projects"
    return shared.render(request, "jobs/list.html", active, status, **context)


async def refused_on_list(
    request: Request,
    principal: principals.Principal,
    project: str,
    folder: str | None,
    exc: errors.RtcError,
    values: dict[str, str],
) -> Response:
    why = refusal(request, exc)
    return await list_response(
        request, principal, project, folder, status=why.status, refused=why, values=values
    )


@router.get(LIST_PAGE)
async def jobs_page(
    request: Request,
    project: shared.Name,
    folder: FolderQuery = "",
    principal: principals.Principal = guard.requires(operations.LIST_JOBS),
) -> Response:
    """The folder tree and the jobs of the chosen folder (every job without one)."""
    return await list_response(request, principal, project, folder or None)


@router.post(LIST_PAGE)
async def create_job(
    request: Request,
    project: shared.Name,
    name: shared.NameField,
    folder: FolderField = "/",
    description: shared.TextField = "",
    principal: principals.Principal = guard.requires(operations.CREATE_JOB),
) -> Response:
    """A new draft (revision 1), opened in the editor."""
    platform = guard.platform_of(request)
    try:
        made = await shared.run(
            lambda: jobs.create_job(
                platform,
                principal,
                project,
                name.strip(),
                folder=folder or "/",
                description=description.strip(),
            )
        )
    except REFUSED as exc:
        values = {"name": name, "job_folder": folder, "description": description}
        return await refused_on_list(request, principal, project, folder, exc, values)
    return shared.see_other(request, job_path(project, made.name), "created")


# ---- folders ----------------------------------------------------------------------------


@router.post(LIST_PAGE + "/folders")
async def create_folder(
    request: Request,
    project: shared.Name,
    path: FolderField,
    principal: principals.Principal = guard.requires(operations.CREATE_FOLDER),
) -> Response:
    platform = guard.platform_of(request)
    try:
        made = await shared.run(jobs.create_folder, platform, principal, project, path.strip())
    except REFUSED as exc:
        return await refused_on_list(request, principal, project, None, exc, {"path": path})
    return shared.see_other(request, list_path(project, made), "created")


@router.post(LIST_PAGE + "/folders/move")
async def move_folder(
    request: Request,
    project: shared.Name,
    path: FolderField,
    to: FolderField,
    principal: principals.Principal = guard.requires(operations.UPDATE_FOLDER),
) -> Response:
    """Rename or move a folder with everything in it."""
    platform = guard.platform_of(request)
    try:
        moved = await shared.run(
            jobs.move_folder, platform, principal, project, path.strip(), to.strip()
        )
    except REFUSED as exc:
        values = {"move_path": path, "to": to}
        return await refused_on_list(request, principal, project, path, exc, values)
    return shared.see_other(request, list_path(project, moved), "saved")


@router.post(LIST_PAGE + "/folders/delete")
async def delete_folder(
    request: Request,
    project: shared.Name,
    path: FolderField,
    principal: principals.Principal = guard.requires(operations.DELETE_FOLDER),
) -> Response:
    """Delete an empty folder."""
    platform = guard.platform_of(request)
    try:
        await shared.run(jobs.delete_folder, platform, principal, project, path.strip())
    except REFUSED as exc:
        return await refused_on_list(request, principal, project, path, exc, {})
    return shared.see_other(request, list_path(project), "deleted")
