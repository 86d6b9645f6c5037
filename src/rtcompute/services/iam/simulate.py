"""The policy simulator: what would RAM decide, and which policy statement decided it.

For a principal (`user/NAME`, `group/NAME`, `role/NAME`) it evaluates exactly what the
enforcement evaluates; for inline documents it lets a policy be tried before it is saved.
The context holds only the keys given, plus `acs:CurrentTime` (now) when not given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rtcompute import errors
from rtcompute.domain import identities, policies, ram, resources, text
from rtcompute.services.iam import attachments, authz
from rtcompute.services.iam import users as ram_users
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import db

MAX_INLINE_POLICIES = 30
MAX_CONTEXT_KEYS = 50


@dataclass(frozen=True)
class Outcome:
    decision: str
    policy_name: str | None
    policy_type: str | None
    statement: int | None


def _context(
    platform: platform_module.Platform, given: Mapping[str, str | Sequence[str]]
) -> policies.Context:
    if len(given) > MAX_CONTEXT_KEYS:
        raise errors.Invalid(
            f"at most {MAX_CONTEXT_KEYS} context keys",
            f"条件上下文最多 {MAX_CONTEXT_KEYS} 个键",
            code="InvalidParameter.Context",
        )
    context: dict[str, str | Sequence[str]] = {
        "acs:currenttime": platform.now().isoformat().replace("+00:00", "Z")
    }
    for key, value in given.items():
        values = [value] if isinstance(value, str) else list(value)
        if not key or not all(text.is_storable(v) for v in [key, *values]):
            raise errors.Invalid(
                "context keys and values must be printable text",
                "条件上下文的键和值必须是可打印的文本",
                code="InvalidParameter.Context",
            )
        context[key.lower()] = value if isinstance(value, str) else tuple(values)
    return context


def _outcome(verdict: policies.Verdict) -> Outcome:
    return Outcome(
        verdict.decision.value, verdict.policy_name, verdict.policy_type, verdict.statement
    )


def simulate_principal(
    platform: platform_module.Platform,
    account_id: str,
    principal: str,
    action: str,
    resource: str,
    context: Mapping[str, str | Sequence[str]],
) -> Outcome:
    kind, _, name = principal.partition("/")
    kinds = {"user": ram.PrincipalKind.USER, "group": ram.PrincipalKind.GROUP}
    kinds["role"] = ram.PrincipalKind.ROLE
    if kind not in kinds or not name:
        raise errors.Invalid(
            "principal must be user/NAME, group/NAME or role/NAME",
            "主体必须是 user/名称、group/名称 或 role/名称",
            code="InvalidParameter.Principal",
        )
    evaluated = _context(platform, context)
    parsed = resources.parse(resource)
    with db.transaction(platform.sessions) as session:
        holder = kinds[kind]
        holder_id = attachments.holder_id(session, account_id, holder, name)
        if parsed is None or parsed.account_id != account_id:
            # the account boundary: enforcement refuses it whatever a policy says
            return Outcome(policies.Decision.IMPLICIT_DENY.value, None, None, None)
        if holder is ram.PrincipalKind.USER:
            user = ram_users.find_user(session, account_id, name)
            member = principals.Principal(
                identity_id=user.id,
                account_id=account_id,
                account_alias="",
                identity_type=identities.IdentityType.RAM_USER,
                name=user.name,
                is_operator=False,
                auth_method="simulation",
                credential_id="",
            )
            policy_set = authz.load_policy_set(
                session, account_id, [(holder.value, holder_id)], member=member
            )
        else:
            policy_set = authz.load_policy_set(session, account_id, [(holder.value, holder_id)])
    return _outcome(policy_set.evaluate(action, resource, evaluated))


def simulate_documents(
    platform: platform_module.Platform,
    documents: Sequence[str],
    action: str,
    resource: str,
    context: Mapping[str, str | Sequence[str]],
) -> Outcome:
    """Evaluate inline policy documents (named `policy[0]`, `policy[1]`, ...)."""
    if not documents or len(documents) > MAX_INLINE_POLICIES:
        raise errors.Invalid(
            f"give 1 to {MAX_INLINE_POLICIES} policy documents",
            f"请提供 1 到 {MAX_INLINE_POLICIES} 个权限策略文档",
            code="InvalidParameter.Policies",
        )
    named = []
    for index, document in enumerate(documents):
        found = policies.problems(document)
        if found:
            raise policies.invalid_document(found, f"policy[{index}]: ")
        named.append(policies.NamedPolicy(f"policy[{index}]", "Inline", policies.parse(document)))
    verdict = policies.PolicySet(named).evaluate(action, resource, _context(platform, context))
    return _outcome(verdict)
