"""Policies (system and custom), their versions, validation, and attachments."""

from __future__ import annotations

from typing import Literal

import anyio
from fastapi import APIRouter, Request, Response, status

from rtcompute import errors
from rtcompute.api import deps
from rtcompute.api.routes import ram_users as user_routes
from rtcompute.api.schemas import ram as schemas
from rtcompute.domain import operations, policies, ram
from rtcompute.services.iam import attachments
from rtcompute.services.iam import policies as ram_policies
from rtcompute.services.kernel import principals

router = APIRouter(prefix=f"{deps.API_PREFIX}/ram", tags=["ram"], responses=deps.ERROR_RESPONSES)
POLICIES = "acs:ram::{account_id}:policy/*"
POLICY = "acs:ram::{account_id}:policy/{name}"
PolicyType = Literal["System", "Custom"]
HolderPath = Literal["users", "groups", "roles"]
HOLDERS = {"users": ("User", "user"), "groups": ("Group", "group"), "roles": ("Role", "role")}


def policy_out(view: ram_policies.PolicyView, language: str = errors.ENGLISH) -> schemas.Policy:
    return schemas.Policy(
        name=view.name,
        policy_type=view.policy_type,
        description=ram.description_in(language, view.description),
        default_version=view.default_version,
        document=view.document,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


@router.get("/policies", response_model=schemas.PolicyPage)
async def list_policies(
    request: Request,
    platform: deps.PlatformDep,
    policy_type: PolicyType | None = None,
    limit: user_routes.Limit = 100,
    offset: user_routes.Offset = 0,
    principal: principals.Principal = deps.requires(operations.LIST_POLICIES),
) -> schemas.PolicyPage:
    """System policies, then the account's custom policies; `policy_type` keeps one kind."""
    found, total = await anyio.to_thread.run_sync(
        lambda: ram_policies.list_policies(
            platform, principal.account_id, policy_type, limit=limit, offset=offset
        )
    )
    language = deps.language(request)
    return schemas.PolicyPage(policies=[policy_out(p, language) for p in found], total=total)


@router.post("/policies", status_code=status.HTTP_201_CREATED, response_model=schemas.Policy)
async def create_policy(
    platform: deps.PlatformDep,
    body: schemas.PolicyCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_POLICY),
) -> schemas.Policy:
    """A custom policy; its document becomes version v1, the default."""
    view = await anyio.to_thread.run_sync(
        lambda: ram_policies.create_policy(
            platform, principal.account_id, body.name, body.document, description=body.description
        )
    )
    return policy_out(view)


@router.post("/policies/validate", response_model=schemas.ValidationResult)
async def validate_policy(
    body: schemas.Validation,
    principal: principals.Principal = deps.requires(operations.VALIDATE_POLICY_DOCUMENT),
) -> schemas.ValidationResult:
    """Every problem of a document, naming statement and element; nothing is saved."""
    found = (
        policies.problems(body.document)
        if body.kind == "permission"
        else policies.trust_problems(body.document)
    )
    return schemas.ValidationResult(
        valid=not found,
        problems=[
            schemas.Problem(statement=p.statement, element=p.element, message=p.message)
            for p in found
        ],
    )


@router.get("/policies/{policy_type}/{name}", response_model=schemas.Policy)
async def get_policy(
    request: Request,
    platform: deps.PlatformDep,
    policy_type: PolicyType,
    name: str,
    principal: principals.Principal = deps.requires(operations.GET_POLICY),
) -> schemas.Policy:
    view = await anyio.to_thread.run_sync(
        ram_policies.read_policy, platform, principal.account_id, policy_type, name
    )
    return policy_out(view, deps.language(request))


@router.delete("/policies/Custom/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_policy(
    platform: deps.PlatformDep,
    name: str,
    principal: principals.Principal = deps.requires(operations.DELETE_POLICY),
) -> Response:
    """Delete a custom policy that is attached nowhere."""
    await anyio.to_thread.run_sync(ram_policies.delete_policy, platform, principal.account_id, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/policies/{policy_type}/{name}/versions", response_model=list[schemas.PolicyVersion])
async def list_versions(
    platform: deps.PlatformDep,
    policy_type: PolicyType,
    name: str,
    principal: principals.Principal = deps.requires(operations.LIST_POLICY_VERSIONS),
) -> list[schemas.PolicyVersion]:
    found = await anyio.to_thread.run_sync(
        ram_policies.list_versions, platform, principal.account_id, policy_type, name
    )
    return [
        schemas.PolicyVersion(version_id=v, is_default=d, document=doc, created_at=at)
        for v, d, doc, at in found
    ]


@router.post(
    "/policies/Custom/{name}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.PolicyVersion,
)
async def create_version(
    platform: deps.PlatformDep,
    name: str,
    body: schemas.VersionCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_POLICY_VERSION),
) -> schemas.PolicyVersion:
    """A new version (at most 5 per policy), optionally made the default at once."""
    version = await anyio.to_thread.run_sync(
        lambda: ram_policies.create_version(
            platform,
            principal.account_id,
            name,
            body.document,
            set_as_default=body.set_as_default,
        )
    )
    return schemas.PolicyVersion(
        version_id=version.version_id,
        is_default=body.set_as_default,
        document=version.document,
        created_at=version.created_at,
    )


@router.put("/policies/Custom/{name}/default-version", status_code=status.HTTP_204_NO_CONTENT)
async def set_default_version(
    platform: deps.PlatformDep,
    name: str,
    body: schemas.DefaultVersion,
    principal: principals.Principal = deps.requires(operations.SET_DEFAULT_POLICY_VERSION),
) -> Response:
    await anyio.to_thread.run_sync(
        ram_policies.set_default_version, platform, principal.account_id, name, body.version_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/policies/Custom/{name}/versions/{version_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def delete_version(
    platform: deps.PlatformDep,
    name: str,
    version_id: str,
    principal: principals.Principal = deps.requires(operations.DELETE_POLICY_VERSION),
) -> Response:
    await anyio.to_thread.run_sync(
        ram_policies.delete_version, platform, principal.account_id, name, version_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/policies/{policy_type}/{name}/attachments", response_model=list[schemas.AttachedEntity]
)
async def list_entities(
    platform: deps.PlatformDep,
    policy_type: PolicyType,
    name: str,
    principal: principals.Principal = deps.requires(operations.LIST_ENTITIES_FOR_POLICY),
) -> list[schemas.AttachedEntity]:
    found = await anyio.to_thread.run_sync(
        attachments.list_entities, platform, principal.account_id, policy_type, name
    )
    return [
        schemas.AttachedEntity(kind=e.kind, name=e.name, attached_at=e.attached_at) for e in found
    ]


def _holder_routes(path: str, kind: str, noun: str) -> None:
    list_policies, attach_policy, detach_policy = operations.POLICY_HOLDERS[kind]

    @router.get(
        f"/{path}/{{name}}/policies",
        response_model=list[schemas.Attachment],
        name=f"list_policies_for_{noun}",
    )
    async def list_attached(
        request: Request,
        platform: deps.PlatformDep,
        name: str,
        principal: principals.Principal = deps.requires(list_policies),
    ) -> list[schemas.Attachment]:
        found = await anyio.to_thread.run_sync(
            attachments.list_attached, platform, principal.account_id, kind, name
        )
        return [
            schemas.Attachment(
                policy_type=a.policy_type,
                policy_name=a.policy_name,
                description=ram.description_in(deps.language(request), a.description),
                attached_at=a.attached_at,
            )
            for a in found
        ]

    @router.put(
        f"/{path}/{{name}}/policies/{{policy_type}}/{{policy_name}}",
        status_code=status.HTTP_204_NO_CONTENT,
        name=f"attach_policy_to_{noun}",
    )
    async def attach(
        platform: deps.PlatformDep,
        name: str,
        policy_type: PolicyType,
        policy_name: str,
        principal: principals.Principal = deps.requires(attach_policy),
    ) -> Response:
        await anyio.to_thread.run_sync(
            attachments.attach, platform, principal.account_id, kind, name, policy_type, policy_name
        )
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.delete(
        f"/{path}/{{name}}/policies/{{policy_type}}/{{policy_name}}",
        status_code=status.HTTP_204_NO_CONTENT,
        name=f"detach_policy_from_{noun}",
    )
    async def detach(
        platform: deps.PlatformDep,
        name: str,
        policy_type: PolicyType,
        policy_name: str,
        principal: principals.Principal = deps.requires(detach_policy),
    ) -> Response:
        await anyio.to_thread.run_sync(
            attachments.detach, platform, principal.account_id, kind, name, policy_type, policy_name
        )
        return Response(status_code=status.HTTP_204_NO_CONTENT)


for _path, (_kind, _noun) in HOLDERS.items():
    _holder_routes(_path, _kind, _noun)
