"""RAM roles, the policy simulator, the service role and the RAM overview."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request, Response, status

from rtcompute import errors
from rtcompute.api import deps
from rtcompute.api.routes import auth as auth_routes
from rtcompute.api.routes import ram_users as user_routes
from rtcompute.api.schemas import ram as schemas
from rtcompute.domain import operations, ram, resources
from rtcompute.services.iam import overview as ram_overview
from rtcompute.services.iam import roles, service_role, simulate
from rtcompute.services.kernel import principals
from rtcompute.store import tables

router = APIRouter(prefix=f"{deps.API_PREFIX}/ram", tags=["ram"], responses=deps.ERROR_RESPONSES)
ROLES = "acs:ram::{account_id}:role/*"
ROLE = "acs:ram::{account_id}:role/{role}"
SERVICE_ROLE = f"acs:ram::{{account_id}}:role/{ram.SERVICE_ROLE}"


def role_out(role: tables.RamRole, language: str = errors.ENGLISH) -> schemas.Role:
    return schemas.Role(
        name=role.name,
        description=ram.description_in(language, role.description),
        trust_policy=role.trust_policy,
        created_at=role.created_at,
        updated_at=role.updated_at,
        arn=resources.ram_role(role.account_id, role.name),
    )


@router.get("/roles", response_model=schemas.RolePage)
async def list_roles(
    request: Request,
    platform: deps.PlatformDep,
    limit: user_routes.Limit = 100,
    offset: user_routes.Offset = 0,
    principal: principals.Principal = deps.requires(operations.LIST_ROLES),
) -> schemas.RolePage:
    found, total = await anyio.to_thread.run_sync(
        lambda: roles.list_roles(platform, principal.account_id, limit=limit, offset=offset)
    )
    language = deps.language(request)
    return schemas.RolePage(roles=[role_out(r, language) for r in found], total=total)


@router.post("/roles", status_code=status.HTTP_201_CREATED, response_model=schemas.Role)
async def create_role(
    platform: deps.PlatformDep,
    body: schemas.RoleCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_ROLE),
) -> schemas.Role:
    """A role; without `trust_policy`, any identity of the account may assume it."""
    role = await anyio.to_thread.run_sync(
        lambda: roles.create_role(
            platform,
            principal.account_id,
            body.name,
            description=body.description,
            trust_policy=body.trust_policy,
        )
    )
    return role_out(role)


@router.get("/roles/{role}", response_model=schemas.Role)
async def get_role(
    request: Request,
    platform: deps.PlatformDep,
    role: str,
    principal: principals.Principal = deps.requires(operations.GET_ROLE),
) -> schemas.Role:
    found = await anyio.to_thread.run_sync(roles.read_role, platform, principal.account_id, role)
    return role_out(found, deps.language(request))


@router.patch("/roles/{role}", response_model=schemas.Role)
async def update_role(
    platform: deps.PlatformDep,
    role: str,
    body: schemas.RoleUpdate,
    principal: principals.Principal = deps.requires(operations.UPDATE_ROLE),
) -> schemas.Role:
    found = await anyio.to_thread.run_sync(
        lambda: roles.update_role(
            platform,
            principal.account_id,
            role,
            description=body.description,
            trust_policy=body.trust_policy,
        )
    )
    return role_out(found)


@router.delete("/roles/{role}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_role(
    platform: deps.PlatformDep,
    role: str,
    principal: principals.Principal = deps.requires(operations.DELETE_ROLE),
) -> Response:
    await anyio.to_thread.run_sync(roles.delete_role, platform, principal.account_id, role)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/simulate", response_model=schemas.SimulationResult)
async def simulate_policy(
    platform: deps.PlatformDep,
    body: schemas.Simulation,
    principal: principals.Principal = deps.requires(operations.SIMULATE_POLICY),
) -> schemas.SimulationResult:
    """Allow, ImplicitDeny or ExplicitDeny, with the deciding policy and statement (0-based).

    Give either `principal` (`user/NAME`, `group/NAME`, `role/NAME`) or `policies` (inline
    documents, tried before they are saved).
    """
    if (body.principal is None) == (body.policies is None):
        raise errors.Invalid(
            "give either principal or policies, not both",
            "principal 与 policies 须且只能提供其一",
            code="InvalidParameter.Simulation",
        )
    if body.principal is not None:
        outcome = await anyio.to_thread.run_sync(
            simulate.simulate_principal,
            platform,
            principal.account_id,
            body.principal,
            body.action,
            body.resource,
            body.context,
        )
    else:
        outcome = simulate.simulate_documents(
            platform, body.policies or [], body.action, body.resource, body.context
        )
    return schemas.SimulationResult.model_validate(outcome)


def service_role_out(
    current: service_role.Status, language: str = errors.ENGLISH
) -> schemas.ServiceRole:
    return schemas.ServiceRole(
        authorized=current.authorized,
        role=current.role,
        description=ram.description_in(language, current.description),
        policy=current.policy,
        policy_document=current.policy_document,
        policy_attached=current.policy_attached,
        missing_for_cluster_creation=list(current.missing_for_cluster_creation),
        missing_for_clusters=list(current.missing_for_clusters),
        authorization_page=service_role.AUTHORIZATION_PAGE,
    )


@router.get("/service-role", response_model=schemas.ServiceRole)
async def get_service_role(
    request: Request,
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.GET_SERVICE_ROLE),
) -> schemas.ServiceRole:
    """Whether the service may act for the account, with the role's current policy."""
    current = await anyio.to_thread.run_sync(service_role.status, platform, principal.account_id)
    return service_role_out(current, deps.language(request))


@router.post("/service-role", response_model=schemas.ServiceRole)
async def authorize_service_role(
    request: Request,
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.CREATE_SERVICE_ROLE),
) -> schemas.ServiceRole:
    """ "Agree": create the role StreamDefaultRole and its policy StreamRolePolicy."""
    current = await anyio.to_thread.run_sync(service_role.authorize, platform, principal.account_id)
    return service_role_out(current, deps.language(request))


@router.delete("/service-role", response_model=schemas.ServiceRole)
async def reinitialize_service_role(
    request: Request,
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.DELETE_SERVICE_ROLE),
) -> schemas.ServiceRole:
    """Re-initialize: delete the role and its policy. Running jobs lose access to external
    storage until the role is authorized again."""
    current = await anyio.to_thread.run_sync(
        service_role.reinitialize, platform, principal.account_id
    )
    return service_role_out(current, deps.language(request))


@router.get("/overview", response_model=schemas.Overview)
async def overview(
    request: Request,
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.GET_ACCOUNT_SUMMARY),
) -> schemas.Overview:
    """Counts, limits and the login URL of the account's RAM users."""
    counts = await anyio.to_thread.run_sync(ram_overview.counts, platform, principal.account_id)
    return schemas.Overview(
        account_id=principal.account_id,
        account_alias=principal.account_alias,
        login_url=auth_routes.login_url(request, principal.account_alias),
        users=counts.users,
        groups=counts.groups,
        roles=counts.roles,
        custom_policies=counts.custom_policies,
        limits=ram_overview.LIMITS,
    )
