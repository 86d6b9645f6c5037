"""Attach and detach policies on a user's, group's or role's page (guide: 用户或用户组授权).

One pair of routes per kind of holder, declared like the API's (`ram:AttachPolicyToUser` on
`acs:ram::<account>:user/<name>`, ...), and answering with the holder's page.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Request, Response

from rtcompute import errors
from rtcompute.console import fields, guard
from rtcompute.console.pages.iam import shared as ram_shared
from rtcompute.domain import operations
from rtcompute.services.iam import attachments
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
# path segment: (kind, noun of the resource, path parameter)
HOLDERS = {"users": ("User", "user"), "groups": ("Group", "group"), "roles": ("Role", "role")}
PolicyRef = Annotated[str, Form(max_length=300), fields.Printable]
PolicyType = Annotated[Literal["System", "Custom"], Path()]
PolicyName = Annotated[str, Path(max_length=128), fields.Printable]


def split_policy(reference: str) -> tuple[str, str]:
    """`System:Name` or `Custom:Name` (the attach form's choice) into type and name."""
    policy_type, _, name = reference.strip().partition(":")
    if not name:
        raise errors.Invalid(
            "choose a policy as System:NAME or Custom:NAME",
            "请以 System:名称 或 Custom:名称 的形式选择权限策略",
            code="InvalidParameter.PolicyType",
        )
    return policy_type, name


def _holder_routes(segment: str, kind: str, noun: str) -> None:
    _, attach_policy, detach_policy = operations.POLICY_HOLDERS[kind]
    holder = f"{ram_shared.BASE}/{segment}/{{name}}"

    async def attach(
        request: Request,
        name: ram_shared.Name,
        policy: PolicyRef,
        principal: principals.Principal = guard.requires(attach_policy),
    ) -> Response:
        policy_type, policy_name = split_policy(policy)
        await ram_shared.run(
            attachments.attach,
            guard.platform_of(request),
            principal.account_id,
            kind,
            name,
            policy_type,
            policy_name,
        )
        return ram_shared.see_other(request, ram_shared.path_of(segment, name), "attached")

    async def detach(
        request: Request,
        name: ram_shared.Name,
        policy_type: PolicyType,
        policy_name: PolicyName,
        principal: principals.Principal = guard.requires(detach_policy),
    ) -> Response:
        await ram_shared.run(
            attachments.detach,
            guard.platform_of(request),
            principal.account_id,
            kind,
            name,
            policy_type,
            policy_name,
        )
        return ram_shared.see_other(request, ram_shared.path_of(segment, name), "detached")

    attach.__name__ = f"attach_policy_to_{noun}"
    detach.__name__ = f"detach_policy_from_{noun}"
    router.add_api_route(holder + "/policies", attach, methods=["POST"])
    router.add_api_route(
        holder + "/policies/{policy_type}/{policy_name}/detach", detach, methods=["POST"]
    )


for _segment, (_kind, _noun) in HOLDERS.items():
    _holder_routes(_segment, _kind, _noun)
