"""A custom policy's versions: view one, add one (optionally the new default), set the
default, delete one that is not the default. At most five are kept (vendor RAM's limit).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from rtcompute import errors
from rtcompute.console import guard
from rtcompute.console.pages.iam import policies as ram_policies
from rtcompute.console.pages.iam import shared as ram_shared
from rtcompute.domain import operations
from rtcompute.services.iam import policies as policy_service
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
VERSIONS = ram_policies.CUSTOM_PAGE + "/versions"


@router.get(ram_policies.POLICY_PAGE + "/versions/{version_id}")
async def version_page(
    request: Request,
    policy_type: ram_policies.PolicyType,
    name: ram_shared.Name,
    version_id: ram_shared.VersionId,
    principal: principals.Principal = guard.requires(operations.GET_POLICY_VERSION),
) -> Response:
    platform = guard.platform_of(request)
    versions = await ram_shared.run(
        policy_service.list_versions, platform, principal.account_id, policy_type, name
    )
    found = next((v for v in versions if v[0] == version_id), None)
    if found is None:
        raise policy_service.version_not_found(name, version_id)
    return ram_shared.render(
        request,
        "iam/policy_version.html",
        "ram-policies",
        policy_type=policy_type,
        name=name,
        version=found,
        policy_url=ram_shared.path_of("policies", policy_type, name),
    )


@router.post(VERSIONS)
async def create_version(
    request: Request,
    name: ram_shared.Name,
    document: ram_shared.DocumentField,
    set_as_default: Annotated[bool, Form()] = False,
    principal: principals.Principal = guard.requires(operations.CREATE_POLICY_VERSION),
) -> Response:
    platform = guard.platform_of(request)
    try:
        await ram_shared.run(
            policy_service.create_version,
            platform,
            principal.account_id,
            name,
            document,
            set_as_default=set_as_default,
        )
    except (errors.Invalid, errors.QuotaExceeded) as exc:
        status, message = ram_shared.failed(request, exc)
        context = await ram_policies.policy_context(request, principal, "Custom", name)
        return ram_shared.render(
            request,
            "iam/policy.html",
            "ram-policies",
            status,
            error=message,
            draft=document,
            problems=ram_shared.problems_of(request, document),
            **context,
        )
    location = ram_shared.path_of("policies", "Custom", name)
    return ram_shared.see_other(request, location, "version-created")


@router.post(VERSIONS + "/{version_id}/default")
async def set_default(
    request: Request,
    name: ram_shared.Name,
    version_id: ram_shared.VersionId,
    principal: principals.Principal = guard.requires(operations.SET_DEFAULT_POLICY_VERSION),
) -> Response:
    await ram_shared.run(
        policy_service.set_default_version,
        guard.platform_of(request),
        principal.account_id,
        name,
        version_id,
    )
    location = ram_shared.path_of("policies", "Custom", name)
    return ram_shared.see_other(request, location, "default-set")


@router.post(VERSIONS + "/{version_id}/delete")
async def delete_version(
    request: Request,
    name: ram_shared.Name,
    version_id: ram_shared.VersionId,
    principal: principals.Principal = guard.requires(operations.DELETE_POLICY_VERSION),
) -> Response:
    await ram_shared.run(
        policy_service.delete_version,
        guard.platform_of(request),
        principal.account_id,
        name,
        version_id,
    )
    location = ram_shared.path_of("policies", "Custom", name)
    return ram_shared.see_other(request, location, "version-deleted")
