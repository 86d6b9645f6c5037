"""The decisions of services/iam/authz.py that need no database: the rules no policy can change
(operator actions, self-service, the account boundary, the account itself), and a RAM user's
decisions from its cached policy set. A fake platform holds only the decision cache and a
clock, so a decision that would read the database fails loudly instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import anyio
import pytest

from rtcompute import errors
from rtcompute.domain import identities, policies, resources
from rtcompute.services.iam import authz
from rtcompute.services.kernel import authz_cache, principals
from rtcompute.services.kernel import platform as platform_module

ACME = "1000000000000001"
OTHER = "1000000000000002"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
ALLOW = policies.Decision.ALLOW
IMPLICIT = policies.Decision.IMPLICIT_DENY
EXPLICIT = policies.Decision.EXPLICIT_DENY


@dataclass
class FakePlatform:
    decisions: authz_cache.DecisionCache = field(default_factory=authz_cache.DecisionCache)

    def now(self) -> datetime:
        return NOW


def principal(
    account_id: str = ACME,
    *,
    kind: identities.IdentityType = identities.IdentityType.ACCOUNT,
    name: str = "acme",
    operator: bool = False,
    identity_id: int = 1,
    revision: int = 0,
    mfa: bool = False,
) -> principals.Principal:
    return principals.Principal(
        identity_id=identity_id,
        account_id=account_id,
        account_alias="acme",
        identity_type=kind,
        name=name,
        is_operator=operator,
        auth_method="session",
        credential_id="1",
        mfa_present=mfa,
        ram_revision=revision,
    )


ACCOUNT = principal()
OPERATOR = principal(OTHER, operator=True)
USER = principal(kind=identities.IdentityType.RAM_USER, name="bob", identity_id=2)
OPERATORS_USER = principal(
    OTHER, kind=identities.IdentityType.RAM_USER, name="ops", operator=True, identity_id=3
)
ROLE_SESSION = principal(kind=identities.IdentityType.ROLE_SESSION, name="r", identity_id=4)
ANY_ACCOUNT = "acs:rtc::*:account/*"
CONTEXT = policies.request_context("10.0.0.1", NOW, True, False)


def fake(platform: FakePlatform) -> platform_module.Platform:
    return cast(platform_module.Platform, platform)


def cached(
    who: principals.Principal, action: str, resource: str, platform: FakePlatform | None = None
) -> policies.Verdict | None:
    return authz.cached_decision(fake(platform or FakePlatform()), who, action, resource, CONTEXT)


def with_policies(who: principals.Principal, *documents: str, revision: int = 0) -> FakePlatform:
    """A platform whose cache holds the user's compiled policies (as `decide` leaves them)."""
    platform = FakePlatform()
    named = [
        policies.NamedPolicy(f"P{n}", "Custom", policies.parse(text))
        for n, text in enumerate(documents)
    ]
    policy_set = policies.PolicySet(named)
    platform.decisions.put(
        who.identity_id,
        authz_cache.Entry(
            account_id=who.account_id,
            revision=revision,
            policy_set=policy_set,
            cache_decisions="acs:currenttime" not in policy_set.condition_keys,
        ),
    )
    return platform


def document(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def allow(action: str, resource: str = "*", **condition: object) -> dict[str, object]:
    found: dict[str, object] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        found["Condition"] = condition
    return found


def deny(action: str, resource: str = "*") -> dict[str, object]:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


@pytest.mark.parametrize(
    ("who", "action", "resource", "allowed"),
    [
        # the account may do anything within itself
        (ACCOUNT, "ram:CreateAccessKey", resources.account_root(ACME), True),
        (ACCOUNT, "flink:CreateDeployment", f"acs:flink:local:{ACME}:deployment/x", True),
        (ACCOUNT, "actiontrail:LookupEvents", resources.audit_trail("local", ACME), True),
        (ACCOUNT, "stream:DeleteProject", resources.project("local", ACME, "p"), True),
        # ...and nothing in another account, nor in every account at once
        (ACCOUNT, "ram:CreateAccessKey", resources.account_root(OTHER), False),
        (ACCOUNT, "actiontrail:LookupEvents", resources.audit_trail("local", OTHER), False),
        (ACCOUNT, "sts:GetCallerIdentity", resources.account_root(OTHER), False),
        (ACCOUNT, "stream:ListProjects", "acs:stream:*:*:*", False),
        (ACCOUNT, "ram:ListUsers", "*", False),
        # operator actions are for the operator account itself, whatever the resource
        (ACCOUNT, "rtc:CreateAccount", ANY_ACCOUNT, False),
        (ACCOUNT, "rtc:CreateAccount", resources.account_root(ACME), False),
        (ACCOUNT, "RTC:LISTACCOUNTS", ANY_ACCOUNT, False),
        (OPERATOR, "rtc:CreateAccount", ANY_ACCOUNT, True),
        (OPERATOR, "rtc:listaccounts", ANY_ACCOUNT, True),
        (OPERATOR, "rtc:GetAccount", ANY_ACCOUNT, True),
        (OPERATORS_USER, "rtc:CreateAccount", ANY_ACCOUNT, False),
        (USER, "rtc:CreateAccount", ANY_ACCOUNT, False),
        # being the operator does not open other accounts' resources
        (OPERATOR, "ram:CreateAccessKey", resources.account_root(ACME), False),
        (OPERATOR, "actiontrail:LookupEvents", resources.audit_trail("local", ACME), False),
        # self-service: on one's own identity only
        (USER, "ram:ChangePassword", resources.ram_user(ACME, "bob"), True),
        (USER, "sts:GetCallerIdentity", resources.ram_user(ACME, "bob"), True),
        (USER, "rtc:SignOut", resources.ram_user(ACME, "bob"), True),
        (USER, "ram:GetLoginProfile", resources.ram_user(ACME, "bob"), True),
        (USER, "ram:CreateVirtualMFADevice", resources.ram_user(ACME, "bob"), True),
        (USER, "ram:BindMFADevice", resources.ram_user(ACME, "bob"), True),
        (USER, "ram:ChangePassword", resources.ram_user(ACME, "alice"), False),
        (USER, "ram:ChangePassword", resources.ram_user(OTHER, "bob"), False),
        (USER, "ram:ChangePassword", resources.account_root(ACME), False),
        (ACCOUNT, "ram:ChangePassword", resources.account_root(ACME), True),
        (ACCOUNT, "ram:ChangePassword", resources.ram_user(ACME, "acme"), False),
        # RAM users outside their account: refused before any policy is read
        (USER, "ram:CreateAccessKey", resources.ram_user(OTHER, "bob"), False),
        (USER, "stream:ListProjects", "acs:stream:*:*:*", False),
        # identities that are neither the account nor a RAM user get nothing
        (ROLE_SESSION, "stream:ListProjects", f"acs:stream:local:{ACME}:*", False),
        # malformed resource names are refused
        (ACCOUNT, "ram:CreateAccessKey", "", False),
        (ACCOUNT, "ram:CreateAccessKey", ACME, False),
        (ACCOUNT, "ram:CreateAccessKey", f"arn:ram::{ACME}:root", False),
        (ACCOUNT, "ram:CreateAccessKey", f"acs::local:{ACME}:root", False),
        (ACCOUNT, "ram:CreateAccessKey", f"acs:ram:{ACME}:root", False),
    ],
)
def test_fixed_rules(who: principals.Principal, action: str, resource: str, allowed: bool) -> None:
    verdict = cached(who, action, resource)
    assert verdict is not None
    assert verdict.decision is (ALLOW if allowed else IMPLICIT)
    if allowed:
        assert verdict.policy_name == authz.ACCOUNT_POLICY


def test_action_names_are_case_insensitive() -> None:
    own = authz.own_resource(USER)
    for action in ("RAM:CHANGEPASSWORD", "ram:changepassword", "Ram:ChangePassword"):
        verdict = cached(USER, action, own)
        assert verdict is not None and verdict.decision is ALLOW


def test_own_resource() -> None:
    assert authz.own_resource(ACCOUNT) == f"acs:ram::{ACME}:root"
    assert authz.own_resource(USER) == f"acs:ram::{ACME}:user/bob"


def test_a_ram_user_needs_its_policies() -> None:
    """Within its account a RAM user's decision comes from its policies: not fixed."""
    assert cached(USER, "stream:ListProjects", f"acs:stream:local:{ACME}:*") is None
    assert cached(USER, "ram:CreateAccessKey", resources.ram_user(ACME, "bob")) is None


def test_a_ram_users_cached_policies_decide() -> None:
    platform = with_policies(
        USER,
        document(allow("stream:*", "acs:stream:*:*:projectname")),
        document(allow("ram:List*"), deny("ram:ListGroups")),
    )
    project = resources.project("local", ACME, "projectname")

    def decision(action: str, resource: str) -> policies.Verdict:
        verdict = cached(USER, action, resource, platform)
        assert verdict is not None
        return verdict

    assert decision("stream:CreateJob", project) == policies.Verdict(ALLOW, "P0", "Custom", 0)
    assert decision("stream:CreateJob", resources.project("local", ACME, "x")).decision is IMPLICIT
    assert decision("ram:ListUsers", f"acs:ram::{ACME}:user/*").decision is ALLOW
    assert decision("ram:ListGroups", f"acs:ram::{ACME}:group/*") == policies.Verdict(
        EXPLICIT, "P1", "Custom", 1
    )
    # `acs:stream:*:*:projectname` names every account's project: the boundary still holds
    assert decision("stream:CreateJob", resources.project("local", OTHER, "projectname")) == (
        policies.Verdict(IMPLICIT, None, None, None)
    )


def test_an_allow_everything_policy_stops_at_the_account() -> None:
    platform = with_policies(USER, document(allow("*", "*")))
    inside = cached(USER, "ram:DeleteUser", resources.ram_user(ACME, "x"), platform)
    assert inside is not None and inside.decision is ALLOW
    for resource in (resources.ram_user(OTHER, "x"), "*", "acs:ram::*:user/x"):
        verdict = cached(USER, "ram:DeleteUser", resource, platform)
        assert verdict is not None and verdict.decision is IMPLICIT, resource
    operator = cached(USER, "rtc:CreateAccount", ANY_ACCOUNT, platform)
    assert operator is not None and operator.decision is IMPLICIT
    others = cached(USER, "ram:ChangePassword", resources.ram_user(ACME, "alice"), platform)
    assert others is not None and others.decision is IMPLICIT


def test_a_stale_entry_is_not_used() -> None:
    platform = with_policies(USER, document(allow("*")), revision=3)
    resource = resources.ram_user(ACME, "x")
    assert cached(USER, "ram:GetUser", resource, platform) is not None
    newer = principal(kind=identities.IdentityType.RAM_USER, name="bob", identity_id=2, revision=4)
    assert cached(newer, "ram:GetUser", resource, platform) is None
    platform.decisions.invalidate(ACME, 5)
    assert cached(USER, "ram:GetUser", resource, platform) is None


def test_decisions_are_cached_per_condition_values() -> None:
    platform = with_policies(
        USER, document(allow("ram:*", IpAddress={"acs:SourceIp": "10.0.0.0/8"}))
    )
    entry = platform.decisions.entry(USER.identity_id, 0)
    assert entry is not None
    resource = resources.ram_user(ACME, "x")
    lan = policies.request_context("10.0.0.1", NOW, True, False)
    outside = policies.request_context("192.0.2.1", NOW, True, False)
    for context, decision in ((lan, ALLOW), (outside, IMPLICIT), (lan, ALLOW)):
        verdict = authz.cached_decision(fake(platform), USER, "ram:GetUser", resource, context)
        assert verdict is not None and verdict.decision is decision
    assert len(entry.decisions) == 2


def test_decisions_that_read_the_time_are_not_kept() -> None:
    platform = with_policies(
        USER, document(allow("ram:*", DateLessThan={"acs:CurrentTime": "2026-06-01T00:00:00Z"}))
    )
    entry = platform.decisions.entry(USER.identity_id, 0)
    assert entry is not None and not entry.cache_decisions
    resource = resources.ram_user(ACME, "x")
    for moment, decision in ((NOW, ALLOW), (datetime(2026, 7, 1, tzinfo=UTC), IMPLICIT)):
        context = policies.request_context("10.0.0.1", moment, True, False)
        verdict = authz.cached_decision(fake(platform), USER, "ram:GetUser", resource, context)
        assert verdict is not None and verdict.decision is decision
    assert entry.decisions == {}


def test_context_of_carries_the_request_facts() -> None:
    mfa = principal(kind=identities.IdentityType.RAM_USER, name="bob", mfa=True)
    context = authz.context_of(
        mfa, principals.RequestContext(source_ip="10.0.0.9", secure_transport=False), NOW
    )
    assert context["acs:sourceip"] == "10.0.0.9"
    assert context["acs:securetransport"] == "false"
    assert context["acs:mfapresent"] == "true"
    assert context["acs:currenttime"] == "2026-01-01T00:00:00Z"


def authorize(
    platform: platform_module.Platform,
    principal: principals.Principal,
    action: str,
    resource: str,
    request: principals.RequestContext,
) -> None:
    """What the API and console dependencies do with a decision: refuse unless Allow."""
    verdict = anyio.run(authz.decide_request, platform, principal, action, resource, request)
    if verdict.decision is not policies.Decision.ALLOW:
        raise authz.denied(principal, action, resource, verdict)


def test_authorize_raises_forbidden_ram_naming_action_and_resource() -> None:
    request = principals.RequestContext(source_ip="10.0.0.1")
    platform = fake(FakePlatform())
    authorize(platform, ACCOUNT, "ram:CreateAccessKey", resources.account_root(ACME), request)
    with pytest.raises(errors.Forbidden) as caught:
        authorize(platform, ACCOUNT, "rtc:CreateAccount", ANY_ACCOUNT, request)
    assert caught.value.code == "Forbidden.RAM"
    assert "rtc:CreateAccount" in caught.value.message
    assert ANY_ACCOUNT in caught.value.message
    assert "no policy allows it" in caught.value.message


def test_an_explicit_denial_names_policy_and_statement() -> None:
    platform = with_policies(USER, document(allow("ram:*"), deny("ram:DeleteUser")))
    request = principals.RequestContext(source_ip="10.0.0.1")
    resource = resources.ram_user(ACME, "x")
    with pytest.raises(errors.Forbidden) as caught:
        authorize(fake(platform), USER, "ram:DeleteUser", resource, request)
    assert caught.value.code == "Forbidden.RAM"
    assert "explicitly denied by policy P0 statement 1" in caught.value.message
    assert "bob@acme" in caught.value.message and resource in caught.value.message
