"""Policies (guide: 添加自定义权限策略): list, create with a live-validated editor, a policy's page.

The editor is a textarea; as one types, htmx posts the text to the validation route, which
answers with every problem of the document, named by statement and element
(`Statement[1].Effect: ...`), from the same code that refuses it on save. Validation reads
and writes nothing, so its successes stay out of the audit trail.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Query, Request, Response

from rtcompute import errors
from rtcompute.console import guard, views
from rtcompute.console.pages.iam import shared as ram_shared
from rtcompute.domain import operations, ram
from rtcompute.services.iam import attachments
from rtcompute.services.iam import policies as ram_policies
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = ram_shared.BASE + "/policies"
POLICY_PAGE = PAGE + "/{policy_type}/{name}"
CUSTOM_PAGE = PAGE + "/Custom/{name}"
PolicyType = Annotated[Literal["System", "Custom"], Path()]
TypeFilter = Annotated[str, Query(alias="type", max_length=16)]
# guide, 账号管理 > 添加自定义权限策略: the policy that gives a RAM user stream computing
GUIDE_POLICY = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {"Action": "stream:*", "Resource": "acs:stream:*:*:*", "Effect": "Allow"},
            {"Action": "ram:PassRole", "Resource": "acs:ram:*:*:*", "Effect": "Allow"},
        ],
    },
    indent=2,
)


@router.get(PAGE)
async def policies_page(
    request: Request,
    offset: ram_shared.Offset = 0,
    policy_type: TypeFilter = "",
    principal: principals.Principal = guard.requires(operations.LIST_POLICIES),
) -> Response:
    platform = guard.platform_of(request)
    found, total = await ram_shared.run(
        ram_policies.list_policies,
        platform,
        principal.account_id,
        policy_type or None,
        limit=ram_shared.PAGE_SIZE,
        offset=offset,
    )
    return ram_shared.render(
        request,
        "iam/policies.html",
        "ram-policies",
        policies=found,
        total=total,
        offset=offset,
        page_size=ram_shared.PAGE_SIZE,
        policy_type=policy_type,
        query=f"&type={policy_type}" if policy_type else "",
    )


def _new_page(request: Request, status: int = 200, **context: Any) -> Response:
    context.setdefault("values", {"document": GUIDE_POLICY})
    return ram_shared.render(request, "iam/policy_new.html", "ram-policies", status, **context)


@router.get(PAGE + "/new")
async def new_policy_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.CREATE_POLICY),
) -> Response:
    del principal
    return _new_page(request)


@router.post(PAGE)
async def create_policy(
    request: Request,
    name: ram_shared.NameField,
    document: ram_shared.DocumentField,
    description: ram_shared.TextField = "",
    principal: principals.Principal = guard.requires(operations.CREATE_POLICY),
) -> Response:
    name = name.strip()
    platform = guard.platform_of(request)
    try:
        created = await ram_shared.run(
            ram_policies.create_policy,
            platform,
            principal.account_id,
            name,
            document,
            description=description.strip(),
        )
    except (errors.Invalid, errors.Conflict, errors.QuotaExceeded) as exc:
        status, message = ram_shared.failed(request, exc)
        values = {"name": name, "description": description, "document": document}
        problems = ram_shared.problems_of(request, document)
        return _new_page(request, status, error=message, values=values, problems=problems)
    return ram_shared.see_other(request, ram_shared.path_of("policies", "Custom", created.name))


@router.post(PAGE + "/validate")
async def validate_document(
    request: Request,
    document: Annotated[str, Form(max_length=65_536)] = "",
    kind: Annotated[Literal["permission", "trust"], Form()] = "permission",
    principal: principals.Principal = guard.requires(
        operations.VALIDATE_POLICY_DOCUMENT, audited=False
    ),
) -> Response:
    """The problems fragment under an editor; nothing is saved."""
    del principal
    problems = ram_shared.problems_of(request, document, trust=kind == "trust")
    return views.render(request, "components/policy_problems.html", {"problems": problems})


@router.get(POLICY_PAGE)
async def policy_page(
    request: Request,
    policy_type: PolicyType,
    name: ram_shared.Name,
    principal: principals.Principal = guard.requires(operations.GET_POLICY),
) -> Response:
    context = await policy_context(request, principal, policy_type, name)
    return ram_shared.render(request, "iam/policy.html", "ram-policies", **context)


async def policy_context(
    request: Request, principal: principals.Principal, policy_type: str, name: str
) -> dict[str, Any]:
    platform = guard.platform_of(request)
    account_id = principal.account_id
    policy = await ram_shared.run(ram_policies.read_policy, platform, account_id, policy_type, name)
    may = await guard.may(
        request,
        principal,
        {
            "versions": operations.LIST_POLICY_VERSIONS,
            "entities": operations.LIST_ENTITIES_FOR_POLICY,
            "add_version": operations.CREATE_POLICY_VERSION,
            "set_default": operations.SET_DEFAULT_POLICY_VERSION,
            "delete_version": operations.DELETE_POLICY_VERSION,
            "delete": operations.DELETE_POLICY,
        },
        name=policy.name,
    )
    context: dict[str, Any] = {"policy": policy, "may": may, "versions": [], "entities": []}
    if may["versions"]:
        context["versions"] = await ram_shared.run(
            ram_policies.list_versions, platform, account_id, policy_type, policy.name
        )
    if may["entities"]:
        context["entities"] = await ram_shared.run(
            attachments.list_entities, platform, account_id, policy_type, policy.name
        )
    context["policy_url"] = ram_shared.path_of("policies", policy_type, policy.name)
    context["custom"] = policy_type == ram.PolicyType.CUSTOM
    context["max_versions"] = ram.MAX_POLICY_VERSIONS
    context["holder_pages"] = {"User": "users", "Group": "groups", "Role": "roles"}
    return context


@router.post(CUSTOM_PAGE + "/delete")
async def delete_policy(
    request: Request,
    name: ram_shared.Name,
    principal: principals.Principal = guard.requires(operations.DELETE_POLICY),
) -> Response:
    await ram_shared.run(
        ram_policies.delete_policy, guard.platform_of(request), principal.account_id, name
    )
    return ram_shared.see_other(request, PAGE, "deleted")
