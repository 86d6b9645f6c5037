"""Projects of an account (the capacity issue adds orders, CU and clusters).

Every project operation first needs the account's service role (guide: 共享模式角色授权);
creating one makes the service act through that role, so a RAM user also needs
`ram:PassRole` on it (guide error 922019).
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import ram, resources, text
from rtcompute.services import platform as platform_module
from rtcompute.services import principals, service_role
from rtcompute.store import db, tables
from rtcompute.store import projects as project_store

# letters, digits and underscores, starting with a letter: also a safe path segment and a
# resource name without `/` or `:`
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,63}$")


def check_name(name: str) -> str:
    if NAME_PATTERN.match(name) is None:
        raise errors.Invalid(
            "project name must be 3-64 letters, digits and underscores, starting with a letter",
            code="InvalidParameter.ProjectName",
        )
    return name


def not_found(name: str) -> errors.NotFound:
    return errors.NotFound(f"project {name[:64]} does not exist", code="ProjectNotFound")


def _find(session: db.Session, account_id: str, name: str) -> tables.Project:
    found = (
        project_store.read_project(session=session, account_id=account_id, name=name)
        if text.is_storable(name)
        else None
    )
    if found is None:
        raise not_found(name)
    return found


def resource_of(project: tables.Project) -> str:
    return resources.project(project.region, project.account_id, project.name)


def create_project(
    platform: platform_module.Platform,
    principal: principals.Principal,
    request: principals.RequestContext,
    name: str,
    *,
    description: str = "",
) -> tables.Project:
    check_name(name)
    ram.check_text("description", description, ram.MAX_DESCRIPTION)
    service_role.require_authorized(platform, principal.account_id)
    service_role.check_pass_role(platform, principal, request)
    taken = errors.Conflict(
        f"a project named {name} already exists in this account; choose another name",
        code="ProjectAlreadyExists",
    )
    try:
        with db.transaction(platform.sessions) as session:
            if project_store.read_project(
                session=session, account_id=principal.account_id, name=name
            ):
                raise taken
            return project_store.create_project(
                session=session,
                project=tables.Project(
                    account_id=principal.account_id,
                    region=platform.settings.region,
                    name=name,
                    description=description,
                    created_by=principal.display[:200],
                    created_at=platform.now(),
                ),
            )
    except IntegrityError as exc:
        raise taken from exc


def list_projects(platform: platform_module.Platform, account_id: str) -> list[tables.Project]:
    service_role.require_authorized(platform, account_id)
    with db.transaction(platform.sessions) as session:
        return project_store.list_projects(session=session, account_id=account_id)


def read_project(platform: platform_module.Platform, account_id: str, name: str) -> tables.Project:
    service_role.require_authorized(platform, account_id)
    with db.transaction(platform.sessions) as session:
        return _find(session, account_id, name)


def update_project(
    platform: platform_module.Platform, account_id: str, name: str, *, description: str
) -> tables.Project:
    ram.check_text("description", description, ram.MAX_DESCRIPTION)
    service_role.require_authorized(platform, account_id)
    with db.transaction(platform.sessions) as session:
        project = _find(session, account_id, name)
        project.description = description
        return project


def delete_project(platform: platform_module.Platform, account_id: str, name: str) -> None:
    service_role.require_authorized(platform, account_id)
    with db.transaction(platform.sessions) as session:
        project = _find(session, account_id, name)
        project_store.delete_project(session=session, project_id=project.id)
