"""Projects of the caller's account: shared-mode ones from orders, and those in clusters."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request, Response, status
from pydantic import TypeAdapter

from rtcompute.api import answers, deps
from rtcompute.api.routes import orders as order_routes
from rtcompute.api.schemas import orders as order_schemas
from rtcompute.api.schemas import projects as schemas
from rtcompute.domain import operations
from rtcompute.services.capacity import clusters, orders, projects
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import tables

router = APIRouter(
    prefix=f"{deps.API_PREFIX}/projects", tags=["projects"], responses=deps.ERROR_RESPONSES
)
PROJECTS = "acs:stream:{region}:{account_id}:*"
PROJECT = "acs:stream:{region}:{account_id}:{project}"
PROJECT_LIST = TypeAdapter(list[schemas.Project])
# what a project list is read from (answers.answer)
PROJECT_TABLES = ("accounts", "projects", "clusters")


def project_out(project: tables.Project, cluster_names: dict[int, str]) -> schemas.Project:
    return schemas.Project(
        name=project.name,
        region=project.region,
        description=project.description,
        mode=project.mode,
        cu=project.cu,
        state=project.state,
        order_id=project.order_id,
        cluster=cluster_names.get(project.cluster_id) if project.cluster_id else None,
        expires_at=project.expires_at,
        created_by=project.created_by,
        created_at=project.created_at,
        arn=projects.resource_of(project),
    )


async def _out(
    platform: platform_module.Platform, found: list[tables.Project]
) -> list[schemas.Project]:
    names: dict[int, str] = {}
    if any(p.cluster_id for p in found):
        names = await anyio.to_thread.run_sync(
            clusters.cluster_names, platform, found[0].account_id
        )
    return [project_out(p, names) for p in found]


@router.get("", response_model=list[schemas.Project])
async def list_projects(
    request: Request,
    platform: deps.PlatformDep,
    listing: deps.Listing = deps.requires(operations.LIST_PROJECTS),
) -> Response:
    """The projects the caller may see: all of them, or those its policies name."""

    async def produce() -> list[schemas.Project]:
        found = await anyio.to_thread.run_sync(
            projects.list_projects, platform, listing.principal.account_id
        )
        return await _out(platform, await listing.visible(found, projects.resource_of))

    return await answers.answer(
        request, platform, listing.owner, produce, PROJECT_LIST, PROJECT_TABLES
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.Project)
async def create_project(
    platform: deps.PlatformDep,
    body: schemas.ProjectCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_PROJECT),
) -> schemas.Project:
    """Create a project from a paid shared order, or with `cu` CU in a running cluster."""
    project = await anyio.to_thread.run_sync(
        lambda: projects.create_project(
            platform,
            principal,
            body.name,
            description=body.description,
            order_id=body.order_id,
            cluster=body.cluster,
            cu=body.cu,
        )
    )
    return (await _out(platform, [project]))[0]


@router.get("/{project}", response_model=schemas.Project)
async def get_project(
    platform: deps.PlatformDep,
    project: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_PROJECT),
) -> schemas.Project:
    found = await anyio.to_thread.run_sync(
        projects.read_project, platform, principal.account_id, project
    )
    return (await _out(platform, [found]))[0]


@router.patch("/{project}", response_model=schemas.Project)
async def update_project(
    platform: deps.PlatformDep,
    project: str,
    body: schemas.ProjectUpdate,
    principal: principals.Principal = deps.requires(operations.UPDATE_PROJECT),
) -> schemas.Project:
    """Change the note, or resize a project in a cluster (`cu`)."""
    found = await anyio.to_thread.run_sync(
        lambda: projects.update_project(
            platform, principal.account_id, project, description=body.description, cu=body.cu
        )
    )
    return (await _out(platform, [found]))[0]


@router.delete("/{project}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(
    platform: deps.PlatformDep,
    project: str,
    principal: principals.Principal = deps.requires(operations.DELETE_PROJECT),
) -> Response:
    """Delete a project (refused while it has online jobs); its shared order is released."""
    await anyio.to_thread.run_sync(projects.delete_project, platform, principal.account_id, project)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{project}/renew", status_code=status.HTTP_201_CREATED, response_model=order_schemas.Order
)
async def renew_project(
    platform: deps.PlatformDep,
    project: str,
    body: schemas.Renew,
    principal: principals.Principal = deps.requires(operations.RENEW_PROJECT),
) -> order_schemas.Order:
    """A renewal order for a shared project; paying it extends the project."""
    order = await anyio.to_thread.run_sync(
        lambda: orders.follow_up(
            platform, principal, kind="project", target=project, months=body.months
        )
    )
    return await order_routes.one_out(platform, order)


@router.post(
    "/{project}/scale", status_code=status.HTTP_201_CREATED, response_model=order_schemas.Order
)
async def scale_project(
    platform: deps.PlatformDep,
    project: str,
    body: schemas.ProjectScale,
    principal: principals.Principal = deps.requires(operations.SCALE_PROJECT),
) -> order_schemas.Order:
    """A scale-out or scale-in order for a shared project; paying it changes the CU."""
    order = await anyio.to_thread.run_sync(
        lambda: orders.follow_up(platform, principal, kind="project", target=project, cu=body.cu)
    )
    return await order_routes.one_out(platform, order)
