"""Projects (guide: 创建项目): create from a paid shared order, the project's page with renew,
scale out / in, resize (in a cluster) and delete.

"New project" carries the guide's red number: paid shared orders without a project yet.
The project's page stands where the development platform will be (it arrives with the jobs
release), so the overview's "enter the development platform" already has its address.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from rtcompute import errors
from rtcompute.console import guard
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import operations
from rtcompute.domain import orders as order_rules
from rtcompute.services.capacity import clusters, orders, projects
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
NEW_PAGE = "/console/shared-projects/new"
CREATE = "/console/shared-projects"
PAGE = "/console/projects/{project}"
REFUSED = shared.REFUSED


async def _new(
    request: Request,
    principal: principals.Principal,
    values: dict[str, str],
    status: int = 200,
    refused: shared.Refusal | None = None,
) -> Response:
    platform = guard.platform_of(request)
    found = await shared.run(orders.list_orders, platform, principal.account_id, unconsumed=True)
    choices = [o for o in found if o.mode == order_rules.SHARED]
    return shared.render(
        request,
        "capacity/project_new.html",
        "shared-projects",
        status,
        choices=choices,
        values=values,
        refused=refused,
    )


@router.get(NEW_PAGE)
async def new_project_page(
    request: Request,
    order: Annotated[str, Query(max_length=20)] = "",
    principal: principals.Principal = guard.requires(operations.LIST_EVERY_ORDER),
) -> Response:
    return await _new(request, principal, {"order_id": order})


@router.post(CREATE)
async def create_shared_project(
    request: Request,
    name: shared.NameField,
    order_id: shared.OrderField = "",
    description: shared.TextField = "",
    principal: principals.Principal = guard.requires(operations.CREATE_PROJECT),
) -> Response:
    """The guide's 创建项目: choose the order, name the project, add a note."""
    platform = guard.platform_of(request)
    values = {"name": name, "order_id": order_id, "description": description}
    try:
        project = await shared.run(
            lambda: projects.create_project(
                platform,
                principal,
                name.strip(),
                description=description.strip(),
                order_id=order_id,
            )
        )
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        return await _new(request, principal, values, refused.status, refused)
    return shared.see_other(request, shared.path_of("/console/projects", project.name), "created")


async def project_page_response(
    request: Request,
    principal: principals.Principal,
    name: str,
    status: int = 200,
    refused: shared.Refusal | None = None,
) -> Response:
    platform = guard.platform_of(request)
    project = await shared.run(projects.read_project, platform, principal.account_id, name)
    cluster = ""
    if project.cluster_id is not None:
        names = await shared.run(clusters.cluster_names, platform, principal.account_id)
        cluster = names.get(project.cluster_id, "")
    # renewing and scaling are orders: the account's alone (views.may_buy); resizing in a
    # cluster and deleting are offered when the caller's policies allow them
    may = await guard.may(
        request,
        principal,
        {"resize": operations.UPDATE_PROJECT, "delete": operations.DELETE_PROJECT},
        project=name,
    )
    context: dict[str, Any] = {
        "project": project,
        "cluster": cluster,
        "refused": refused,
        "max_months": order_rules.MAX_MONTHS,
        "may": may,
    }
    return shared.render(request, "capacity/project.html", "shared-projects", status, **context)


@router.get(PAGE)
async def project_page(
    request: Request,
    project: shared.Name,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_PROJECT),
) -> Response:
    return await project_page_response(request, principal, project)


async def _follow_up(
    request: Request, principal: principals.Principal, project: str, **change: int
) -> Response:
    async def refused(why: shared.Refusal) -> Response:
        return await project_page_response(request, principal, project, why.status, why)

    return await shared.follow_up(
        request, principal, kind="project", target=project, refused=refused, **change
    )


@router.post(PAGE + "/renew")
async def renew(
    request: Request,
    project: shared.Name,
    months: shared.IntField = 0,
    principal: principals.Principal = guard.requires(operations.RENEW_PROJECT),
) -> Response:
    """A renewal order; paying it extends the project."""
    return await _follow_up(request, principal, project, months=months)


@router.post(PAGE + "/scale")
async def scale(
    request: Request,
    project: shared.Name,
    cu: shared.IntField = 0,
    principal: principals.Principal = guard.requires(operations.SCALE_PROJECT),
) -> Response:
    """A scale-out or scale-in order (the new CU); paying it changes the project's CU."""
    return await _follow_up(request, principal, project, cu=cu)


@router.post(PAGE + "/resize")
async def resize(
    request: Request,
    project: shared.Name,
    cu: shared.IntField = 0,
    principal: principals.Principal = guard.requires(operations.UPDATE_PROJECT),
) -> Response:
    """A project in a cluster: its CU within what the cluster's other projects leave."""
    platform = guard.platform_of(request)
    try:
        await shared.run(
            lambda: projects.update_project(platform, principal.account_id, project, cu=cu)
        )
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        return await project_page_response(request, principal, project, refused.status, refused)
    return shared.see_other(request, shared.path_of("/console/projects", project), "saved")


@router.post(PAGE + "/delete")
async def delete(
    request: Request,
    project: shared.Name,
    principal: principals.Principal = guard.requires(operations.DELETE_PROJECT),
) -> Response:
    platform = guard.platform_of(request)
    found = await shared.run(projects.read_project, platform, principal.account_id, project)
    back = "/console/shared-projects"
    if found.cluster_id is not None:
        names = await shared.run(clusters.cluster_names, platform, principal.account_id)
        back = shared.path_of("/console/clusters", names.get(found.cluster_id, ""))
    try:
        await shared.run(projects.delete_project, platform, principal.account_id, project)
    except errors.Conflict as exc:
        refused = shared.refusal(request, exc)
        return await project_page_response(request, principal, project, refused.status, refused)
    return shared.see_other(request, back, "deleted")
