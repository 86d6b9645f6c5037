"""Authorization: every route names an action and a resource; this decides, deny by default.

The rules, in order:
- operator actions (`rtc:CreateAccount`, ...) belong to the operator account alone;
- any identity may take the self-service actions (sign out, who am I, its own password and
  MFA) on its own identity: they are part of signing in;
- nothing reaches into another account: a resource of account B is refused to everyone of
  account A whatever a policy says (`acs:stream:*:*:*` names every account's resources);
- the account itself may do everything within its own account;
- a RAM user may do what an attached policy (direct or through a group) allows, unless any
  attached policy denies it (explicit deny wins).

Decisions of RAM users come from a compiled policy set per identity, cached with the account's
RAM revision: a change in this process drops the account's entries at once; another process
notices the new revision when it next verifies the caller's credential.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import anyio

from rtcompute import errors
from rtcompute.domain import identities, operations, policies, ram, resources
from rtcompute.services.kernel import audit, authz_cache, principals
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import accounts as account_store
from rtcompute.store import attachments as attachment_store
from rtcompute.store import db
from rtcompute.store import groups as group_store
from rtcompute.store import policies as policy_store

# Actions any authenticated principal may take on its own identity.
SELF_SERVICE = frozenset(
    {
        "sts:getcalleridentity",
        "rtc:signout",
        "ram:changepassword",
        "ram:getloginprofile",
        "ram:createvirtualmfadevice",
        "ram:bindmfadevice",
    }
)
OPERATOR_ACTIONS = frozenset(
    {
        "rtc:createaccount",
        "rtc:listaccounts",
        "rtc:getaccount",
        # the catalog, zones and payment approval belong to whoever runs the installation
        "rtc:updatecatalog",
        "rtc:createzone",
        "rtc:updatezone",
        "rtc:deletezone",
        "rtc:approveorder",
        "rtc:listpendingorders",
        # the shared pool's engine versions
        "rtc:managepoolversions",
        # the machines joined to the installation (docs/hosts.md)
        "rtc:listhosts",
        "rtc:describehost",
        "rtc:createhostjointoken",
        "rtc:updatehost",
        "rtc:deletehost",
    }
)

ACCOUNT_POLICY = "(account)"
_CURRENT_TIME = "acs:currenttime"


def own_resource(principal: principals.Principal) -> str:
    """The resource name of the caller's own identity."""
    if principal.identity_type is identities.IdentityType.ACCOUNT:
        return resources.account_root(principal.account_id)
    return resources.ram_user(principal.account_id, principal.name)


def resource_of(
    platform: platform_module.Platform,
    principal: principals.Principal,
    operation: operations.Operation,
    params: Mapping[str, str],
) -> str:
    """The resource an operation acts on for this caller: this installation's region, the
    caller's account and own identity, and the request's `params`."""
    return operation.render(
        region=platform.settings.region,
        account_id=principal.account_id,
        own=own_resource(principal),
        params=params,
    )


@functools.lru_cache(maxsize=4_096)
def compiled(document: str) -> policies.Policy:
    """A stored document, parsed once per process (stored documents were valid when saved)."""
    return policies.parse(document)


@functools.cache
def system_policy(name: str) -> policies.Policy | None:
    entry = ram.SYSTEM_POLICIES.get(name)
    return compiled(entry[1]) if entry else None


def context_of(
    principal: principals.Principal, request: principals.RequestContext, now: datetime
) -> policies.Context:
    return policies.request_context(
        source_ip=request.source_ip,
        current_time=now,
        secure_transport=request.secure_transport,
        mfa_present=principal.mfa_present,
    )


def _fixed(principal: principals.Principal, action: str, resource: str) -> bool | None:
    """The decisions no policy can change: True / False, or None to ask the policies."""
    lowered = action.lower()
    if lowered in OPERATOR_ACTIONS:
        return principal.is_operator and principal.identity_type is identities.IdentityType.ACCOUNT
    if lowered in SELF_SERVICE:
        return resource == own_resource(principal)
    parsed = resources.parse(resource)
    if parsed is None or parsed.account_id != principal.account_id:
        return False
    if principal.identity_type is identities.IdentityType.ACCOUNT:
        return True
    if principal.identity_type is not identities.IdentityType.RAM_USER:
        return False
    return None


def _verdict(allowed: bool) -> policies.Verdict:
    if allowed:
        return policies.Verdict(policies.Decision.ALLOW, ACCOUNT_POLICY, None, None)
    return policies.Verdict(policies.Decision.IMPLICIT_DENY, None, None, None)


def _key(
    entry: authz_cache.Entry, action: str, resource: str, context: policies.Context
) -> tuple[Any, ...]:
    values = tuple(_hashable(context.get(k)) for k in sorted(entry.policy_set.condition_keys))
    return (action.lower(), resource, values)


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def cached_decision(
    platform: platform_module.Platform,
    principal: principals.Principal,
    action: str,
    resource: str,
    context: policies.Context,
) -> policies.Verdict | None:
    """The decision when it needs no database read; None when the policies must be loaded."""
    fixed = _fixed(principal, action, resource)
    if fixed is not None:
        return _verdict(fixed)
    entry = platform.decisions.entry(principal.identity_id, principal.ram_revision)
    if entry is None:
        return None
    return _evaluate(entry, action, resource, context)


def _evaluate(
    entry: authz_cache.Entry, action: str, resource: str, context: policies.Context
) -> policies.Verdict:
    if not entry.cache_decisions:
        return entry.policy_set.evaluate(action, resource, context)
    key = _key(entry, action, resource, context)
    verdict = entry.decisions.get(key)
    if verdict is None:
        if len(entry.decisions) >= authz_cache.MAX_DECISIONS:
            entry.decisions.clear()
        verdict = entry.decisions[key] = entry.policy_set.evaluate(action, resource, context)
    return verdict


def decide(
    platform: platform_module.Platform,
    principal: principals.Principal,
    action: str,
    resource: str,
    context: policies.Context,
) -> policies.Verdict:
    """Allow, implicit deny or explicit deny, with the deciding policy and statement."""
    verdict = cached_decision(platform, principal, action, resource, context)
    if verdict is not None:
        return verdict
    with db.transaction(platform.sessions) as session:
        revision = account_store.read_ram_revision(session=session, account_id=principal.account_id)
        policy_set = load_policy_set(
            session, principal.account_id, [("User", principal.identity_id)], member=principal
        )
    entry = authz_cache.Entry(
        account_id=principal.account_id,
        revision=revision,
        policy_set=policy_set,
        cache_decisions=_CURRENT_TIME not in policy_set.condition_keys,
    )
    platform.decisions.put(principal.identity_id, entry)
    return _evaluate(entry, action, resource, context)


async def decide_request(
    platform: platform_module.Platform,
    principal: principals.Principal,
    action: str,
    resource: str,
    request: principals.RequestContext,
) -> policies.Verdict:
    """`decide` for request handlers: from memory on the event loop, else in a worker thread."""
    context = context_of(principal, request, platform.now())
    verdict = cached_decision(platform, principal, action, resource, context)
    if verdict is None:
        verdict = await anyio.to_thread.run_sync(
            decide, platform, principal, action, resource, context
        )
    return verdict


def load_policy_set(
    session: db.Session,
    account_id: str,
    holders: list[tuple[str, int]],
    *,
    member: principals.Principal | None = None,
) -> policies.PolicySet:
    """The policies attached to the holders (and, for a user, to its groups)."""
    wanted = list(holders)
    if member is not None:
        groups = group_store.list_groups_of(session=session, identity_id=member.identity_id)
        wanted += [(ram.PrincipalKind.GROUP.value, group.id) for group in groups]
    found = attachment_store.list_attachments(session=session, principals=wanted)
    custom = sorted({a.policy_name for a in found if a.policy_type == ram.PolicyType.CUSTOM})
    documents = policy_store.default_documents(session=session, account_id=account_id, names=custom)
    named: list[policies.NamedPolicy] = []
    seen: set[tuple[str, str]] = set()
    for attachment in found:
        key = (attachment.policy_type, attachment.policy_name)
        if key in seen:
            continue
        seen.add(key)
        policy = named_policy(attachment.policy_type, attachment.policy_name, documents)
        if policy is not None:
            named.append(policy)
    return policies.PolicySet(named)


def named_policy(
    policy_type: str, name: str, documents: dict[str, tuple[str, str]]
) -> policies.NamedPolicy | None:
    if policy_type == ram.PolicyType.SYSTEM:
        system = system_policy(name)
        return None if system is None else policies.NamedPolicy(name, policy_type, system)
    stored = documents.get(name)
    if stored is None:
        return None
    return policies.NamedPolicy(name, policy_type, compiled(stored[1]))


def denied(
    principal: principals.Principal, action: str, resource: str, verdict: policies.Verdict
) -> errors.Forbidden:
    explicit = verdict.decision is policies.Decision.EXPLICIT_DENY
    how = (
        f"explicitly denied by policy {verdict.policy_name} statement {verdict.statement}"
        if explicit
        else "no policy allows it"
    )
    how_zh = (
        f"被权限策略 {verdict.policy_name} 的 Statement[{verdict.statement}] 显式拒绝"
        if explicit
        else "没有权限策略允许该操作"
    )
    return errors.Forbidden(
        f"{principal.display} is not authorized to perform {action} on resource {resource} "
        f"({how}); ask the account to grant it in RAM",
        f"{principal.display} 无权对资源 {resource} 执行 {action}（{how_zh}）；"
        "请联系主账号在 RAM 中授权",
        code="Forbidden.RAM",
    )


async def refused(
    platform: platform_module.Platform,
    principal: principals.Principal,
    action: str,
    resource: str,
    verdict: policies.Verdict,
    context: principals.RequestContext,
    *,
    read: bool,
) -> errors.Forbidden:
    """The 403 of a denied call, API or console. Every denial is audited: a denied read is
    recorded here (reads that succeed are not), a denied write by its request's trail."""
    denial = denied(principal, action, resource, verdict)
    if read:
        await anyio.to_thread.run_sync(
            audit.record_denial, platform, principal, action, resource, context, denial.code
        )
    return denial


@contextmanager
def changing(platform: platform_module.Platform, account_id: str) -> Iterator[db.Session]:
    """A transaction that changes the account's RAM state.

    Bumps the account's RAM revision first (which also serializes the account's RAM writes:
    the limits are count-then-insert) and drops the account's cached decisions after commit.
    """
    with db.transaction(platform.sessions) as session:
        account_store.bump_ram_revision(session=session, account_id=account_id)
        revision = account_store.read_ram_revision(session=session, account_id=account_id)
        yield session
    platform.decisions.invalidate(account_id, revision)
