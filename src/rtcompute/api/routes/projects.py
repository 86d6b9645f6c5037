"""Projects of the caller's account (orders and CU come with the capacity issue)."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Response, status

from rtcompute.api import deps
from rtcompute.api.schemas import projects as schemas
from rtcompute.services import principals, projects
from rtcompute.store import tables

router = APIRouter(
    prefix=f"{deps.API_PREFIX}/projects", tags=["projects"], responses=deps.ERROR_RESPONSES
)
PROJECTS = "acs:stream:{region}:{account_id}:*"
PROJECT = "acs:stream:{region}:{account_id}:{project}"


def project_out(project: tables.Project) -> schemas.Project:
    return schemas.Project(
        name=project.name,
        region=project.region,
        description=project.description,
        created_by=project.created_by,
        created_at=project.created_at,
        arn=projects.resource_of(project),
    )


@router.get("", response_model=list[schemas.Project])
async def list_projects(
    platform: deps.PlatformDep,
    listing: deps.Listing = deps.requires_listing("stream:ListProjects", PROJECTS),
) -> list[schemas.Project]:
    """The projects the caller may see: all of them, or those its policies name."""
    found = await anyio.to_thread.run_sync(
        projects.list_projects, platform, listing.principal.account_id
    )
    shown = await listing.visible(found, projects.resource_of)
    return [project_out(p) for p in shown]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.Project)
async def create_project(
    platform: deps.PlatformDep,
    body: schemas.ProjectCreate,
    context: deps.ContextDep,
    principal: principals.Principal = deps.requires(
        "stream:CreateProject", "acs:stream:{region}:{account_id}:{body[name]}"
    ),
) -> schemas.Project:
    """Create a project; needs the service role, and `ram:PassRole` on it for RAM users."""
    project = await anyio.to_thread.run_sync(
        lambda: projects.create_project(
            platform, principal, context, body.name, description=body.description
        )
    )
    return project_out(project)


@router.get("/{project}", response_model=schemas.Project)
async def get_project(
    platform: deps.PlatformDep,
    project: str,
    principal: principals.Principal = deps.requires("stream:DescribeProject", PROJECT),
) -> schemas.Project:
    found = await anyio.to_thread.run_sync(
        projects.read_project, platform, principal.account_id, project
    )
    return project_out(found)


@router.patch("/{project}", response_model=schemas.Project)
async def update_project(
    platform: deps.PlatformDep,
    project: str,
    body: schemas.ProjectUpdate,
    principal: principals.Principal = deps.requires("stream:UpdateProject", PROJECT),
) -> schemas.Project:
    found = await anyio.to_thread.run_sync(
        lambda: projects.update_project(
            platform, principal.account_id, project, description=body.description
        )
    )
    return project_out(found)


@router.delete("/{project}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(
    platform: deps.PlatformDep,
    project: str,
    principal: principals.Principal = deps.requires("stream:DeleteProject", PROJECT),
) -> Response:
    await anyio.to_thread.run_sync(projects.delete_project, platform, principal.account_id, project)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
