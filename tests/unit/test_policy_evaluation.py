"""Evaluation of policy sets (domain/policies.py): Deny wins, first Allow decides, else deny."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from rtcompute.domain import conditions, policies
from tests.unit.test_policies import (
    GUIDE_ONE_PROJECT,
    GUIDE_STREAM_AND_PASS_ROLE,
    STREAM_ROLE_POLICY,
)

ALLOW = policies.Decision.ALLOW
IMPLICIT = policies.Decision.IMPLICIT_DENY
EXPLICIT = policies.Decision.EXPLICIT_DENY
ACCOUNT = "1234567890"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
CONTEXT = conditions.request_context("10.1.2.3", NOW, True, False, {"stream:ProjectName": "alpha"})


def policy(*statements: dict[str, object]) -> policies.Policy:
    return policies.parse(json.dumps({"Version": "1", "Statement": list(statements)}))


def statement(
    effect: str = "Allow", action: object = "stream:*", resource: object = "*", **more: object
) -> dict[str, object]:
    return {"Effect": effect, "Action": action, "Resource": resource, **more}


def one(*statements: dict[str, object]) -> policies.PolicySet:
    return policies.PolicySet([policies.NamedPolicy("P", "Custom", policy(*statements))])


def decide(
    policy_set: policies.PolicySet,
    action: str,
    resource: str = "acs:stream:cn:1:project/a",
    context: conditions.Context = CONTEXT,
) -> policies.Decision:
    return policy_set.evaluate(action, resource, context).decision


@pytest.mark.parametrize(
    ("text", "action", "resource", "expected"),
    [
        (
            GUIDE_STREAM_AND_PASS_ROLE,
            "stream:DescribeProject",
            f"acs:stream:local:{ACCOUNT}:projectname",
            ALLOW,
        ),
        (
            GUIDE_STREAM_AND_PASS_ROLE,
            "stream:DescribeProject",
            f"acs:stream:local:{ACCOUNT}:other",
            ALLOW,
        ),
        (
            GUIDE_STREAM_AND_PASS_ROLE,
            "ram:PassRole",
            f"acs:ram::{ACCOUNT}:role/StreamDefaultRole",
            ALLOW,
        ),
        (GUIDE_STREAM_AND_PASS_ROLE, "ram:CreateRole", f"acs:ram::{ACCOUNT}:role/x", IMPLICIT),
        (
            GUIDE_ONE_PROJECT,
            "stream:DescribeProject",
            f"acs:stream:local:{ACCOUNT}:projectname",
            ALLOW,
        ),
        (
            GUIDE_ONE_PROJECT,
            "stream:DescribeProject",
            f"acs:stream:local:{ACCOUNT}:other",
            IMPLICIT,
        ),
        (
            GUIDE_ONE_PROJECT,
            "stream:DescribeProject",
            f"acs:stream:local:{ACCOUNT}:ProjectName",
            IMPLICIT,
        ),
        (GUIDE_ONE_PROJECT, "ram:PassRole", f"acs:ram::{ACCOUNT}:role/StreamDefaultRole", ALLOW),
        (GUIDE_ONE_PROJECT, "RAM:passrole", f"acs:ram::{ACCOUNT}:role/StreamDefaultRole", ALLOW),
        (GUIDE_ONE_PROJECT, "oss:GetObject", "acs:oss:local:1:bucket/x", IMPLICIT),
        (STREAM_ROLE_POLICY, "ots:ListTable", "*", ALLOW),
        (STREAM_ROLE_POLICY, "ots:DescribeTable", "acs:ots:cn:1:instance/i", ALLOW),
        (STREAM_ROLE_POLICY, "ots:GetRow", "x", ALLOW),
        (STREAM_ROLE_POLICY, "ots:PutRow", "x", ALLOW),
        (STREAM_ROLE_POLICY, "ots:DeleteTable", "x", IMPLICIT),
        (STREAM_ROLE_POLICY, "dhs:CreateTopic", "x", ALLOW),
        (STREAM_ROLE_POLICY, "DHS:createtopic", "x", ALLOW),
        (STREAM_ROLE_POLICY, "dhs>DeleteTopic", "x", ALLOW),
        (STREAM_ROLE_POLICY, "dhs:DeleteTopic", "x", IMPLICIT),
        (STREAM_ROLE_POLICY, "log:PostLogStoreLogs", "x", ALLOW),
        (STREAM_ROLE_POLICY, "mns:Subscribe", "x", ALLOW),
        (STREAM_ROLE_POLICY, "mns:Unsubscribe", "x", IMPLICIT),
        (STREAM_ROLE_POLICY, "rds:ModifySecurityIps", "x", ALLOW),
        (STREAM_ROLE_POLICY, "rds:ModifySecurityIpsForChannel", "x", ALLOW),
        (STREAM_ROLE_POLICY, "rds:DeleteInstance", "x", IMPLICIT),
        (STREAM_ROLE_POLICY, "ecs:CreateNetworkInterfacePermission", "x", ALLOW),
        (STREAM_ROLE_POLICY, "ecs:RunInstances", "x", IMPLICIT),
        (STREAM_ROLE_POLICY, "oss:PutObject", "acs:oss:*:*:bucket/o", ALLOW),
        (STREAM_ROLE_POLICY, "stream:DescribeProject", "x", IMPLICIT),
    ],
)
def test_guide_policies(text: str, action: str, resource: str, expected: policies.Decision) -> None:
    policy_set = policies.PolicySet([policies.NamedPolicy("Guide", "Custom", policies.parse(text))])
    assert policy_set.evaluate(action, resource, CONTEXT).decision is expected


@pytest.mark.parametrize(
    ("statements", "action", "resource", "expected"),
    [
        # actions fold case, resources do not
        ([statement(action="Stream:Describe*")], "STREAM:describeProject", "x", ALLOW),
        (
            [statement(resource="acs:stream:*:*:project/Alpha")],
            "stream:X",
            "acs:stream:cn:1:project/Alpha",
            ALLOW,
        ),
        (
            [statement(resource="acs:stream:*:*:project/Alpha")],
            "stream:X",
            "acs:stream:cn:1:project/alpha",
            IMPLICIT,
        ),
        (
            [statement(resource="acs:stream:*:*:project/?")],
            "stream:X",
            "acs:stream:cn:1:project/ab",
            IMPLICIT,
        ),
        (
            [statement(resource=["acs:a:*:*:x", "acs:stream:*:*:*"])],
            "stream:X",
            "acs:stream:cn:1:y",
            ALLOW,
        ),
        ([statement(resource="acs:stream:*:*:p.1")], "stream:X", "acs:stream:cn:1:p-1", IMPLICIT),
        ([statement(resource="acs:stream:*:*:p[1]")], "stream:X", "acs:stream:cn:1:p[1]", ALLOW),
        # NotAction: everything except
        ([{"Effect": "Allow", "NotAction": "ram:*", "Resource": "*"}], "stream:X", "x", ALLOW),
        (
            [{"Effect": "Allow", "NotAction": "ram:*", "Resource": "*"}],
            "RAM:CreateUser",
            "x",
            IMPLICIT,
        ),
        (
            [{"Effect": "Allow", "NotAction": ["ram:*", "sts:*"], "Resource": "*"}],
            "sts:AssumeRole",
            "x",
            IMPLICIT,
        ),
        (
            [
                statement(action="*"),
                {"Effect": "Deny", "NotAction": "stream:Describe*", "Resource": "*"},
            ],
            "stream:DeleteJob",
            "x",
            EXPLICIT,
        ),
        (
            [
                statement(action="*"),
                {"Effect": "Deny", "NotAction": "stream:Describe*", "Resource": "*"},
            ],
            "stream:DescribeJob",
            "x",
            ALLOW,
        ),
        # wildcard-led patterns and odd actions are found whatever the service
        ([statement(action="*:Describe*")], "oss:DescribeBucket", "x", ALLOW),
        ([statement(action="?tream:Get")], "stream:Get", "x", ALLOW),
        ([statement(action="st*")], "stream:Get", "x", ALLOW),
        ([statement(action="st*")], "oss:Get", "x", IMPLICIT),
        ([statement(action="dhs>DeleteTopic")], "dhs>deletetopic", "x", ALLOW),
        ([statement(action="noservice")], "noservice", "x", ALLOW),
        ([statement(action="stream:*")], "noservice", "x", IMPLICIT),
        ([statement(action="stream:*")], "", "x", IMPLICIT),
        ([statement(action="stream:a:*")], "stream:a:b", "x", ALLOW),
        # Deny wins within one policy whatever the order
        ([statement(), statement("Deny", "stream:Delete*")], "stream:DeleteJob", "x", EXPLICIT),
        ([statement("Deny", "stream:Delete*"), statement()], "stream:DeleteJob", "x", EXPLICIT),
        ([statement(), statement("Deny", "stream:Delete*")], "stream:GetJob", "x", ALLOW),
        (
            [statement("Deny", "*", "acs:stream:*:*:project/prod")],
            "stream:GetJob",
            "acs:stream:cn:1:project/prod",
            EXPLICIT,
        ),
        ([statement("Deny")], "stream:GetJob", "x", EXPLICIT),
        ([], "stream:GetJob", "x", IMPLICIT),
    ],
)
def test_statements(
    statements: list[dict[str, object]], action: str, resource: str, expected: policies.Decision
) -> None:
    parsed = policy(*statements) if statements else policies.Policy(())
    policy_set = policies.PolicySet([policies.NamedPolicy("P", "Custom", parsed)])
    assert policy_set.evaluate(action, resource, CONTEXT).decision is expected


IN_OFFICE = {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        (IN_OFFICE, {"acs:sourceip": "10.9.9.9"}, ALLOW),
        (IN_OFFICE, {"acs:sourceip": "2001:db8::5"}, ALLOW),
        (IN_OFFICE, {"acs:sourceip": "11.0.0.1"}, IMPLICIT),
        (IN_OFFICE, {"acs:sourceip": "::ffff:10.0.0.1"}, IMPLICIT),
        (IN_OFFICE, {}, IMPLICIT),
        ({"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}, {}, ALLOW),
        ({"Bool": {"acs:SecureTransport": True}}, {"acs:securetransport": "true"}, ALLOW),
        ({"Bool": {"acs:SecureTransport": "true"}}, {"acs:securetransport": "false"}, IMPLICIT),
        # time zones: 20:00 in +08:00 is 12:00 UTC
        (
            {"DateLessThan": {"acs:CurrentTime": "2026-05-01T20:00:01+08:00"}},
            {"acs:currenttime": "2026-05-01T12:00:00Z"},
            ALLOW,
        ),
        (
            {"DateLessThan": {"acs:CurrentTime": "2026-05-01T20:00:00+08:00"}},
            {"acs:currenttime": "2026-05-01T12:00:00Z"},
            IMPLICIT,
        ),
        # operators AND, keys AND, values OR
        (
            {
                "StringEquals": {"stream:ProjectName": ["alpha", "beta"]},
                "Bool": {"acs:MFAPresent": "true"},
            },
            {"stream:projectname": "beta", "acs:mfapresent": "true"},
            ALLOW,
        ),
        (
            {
                "StringEquals": {"stream:ProjectName": ["alpha", "beta"]},
                "Bool": {"acs:MFAPresent": "true"},
            },
            {"stream:projectname": "beta", "acs:mfapresent": "false"},
            IMPLICIT,
        ),
        (
            {"StringEquals": {"stream:ProjectName": "alpha", "stream:Region": "cn"}},
            {"stream:projectname": "alpha"},
            IMPLICIT,
        ),
        (
            {"StringEquals": {"stream:ProjectName": "alpha", "stream:Region": "cn"}},
            {"stream:projectname": "alpha", "stream:region": "cn"},
            ALLOW,
        ),
        ({"StringEquals": {"stream:Tags": "prod"}}, {"stream:tags": ["dev", "prod"]}, ALLOW),
        ({"StringNotEquals": {"stream:Tags": "prod"}}, {"stream:tags": ["dev", "prod"]}, IMPLICIT),
        ({"NumericLessThan": {"stream:Cu": 10}}, {"stream:cu": "9.5"}, ALLOW),
        ({"NumericLessThan": {"stream:Cu": 10}}, {"stream:cu": "lots"}, IMPLICIT),
    ],
)
def test_conditions_in_statements(
    condition: object, context: dict[str, str | list[str]], expected: policies.Decision
) -> None:
    policy_set = one(statement(Condition=condition))
    assert decide(policy_set, "stream:DescribeJob", context=context) is expected


def test_a_conditional_deny_applies_only_when_its_condition_holds() -> None:
    policy_set = one(
        statement(), statement("Deny", Condition={"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}})
    )
    assert decide(policy_set, "stream:X", context={"acs:sourceip": "10.0.0.1"}) is ALLOW
    assert decide(policy_set, "stream:X", context={"acs:sourceip": "8.8.8.8"}) is EXPLICIT
    assert decide(policy_set, "stream:X", context={}) is EXPLICIT  # no source IP: not in range


def named(name: str, policy_type: str, *statements: dict[str, object]) -> policies.NamedPolicy:
    return policies.NamedPolicy(name, policy_type, policy(*statements))


def test_a_deny_in_another_policy_wins_and_is_named() -> None:
    policy_set = policies.PolicySet(
        [
            named("AdministratorAccess", "System", statement(action="*")),
            named("Readers", "Custom", statement(action="stream:Describe*")),
            named("NoDelete", "Inline", statement(), statement("Deny", "stream:Delete*")),
            named("NoDeleteEither", "Custom", statement("Deny", "*:Delete*")),
        ]
    )
    assert policy_set.evaluate("stream:DeleteJob", "x", CONTEXT) == policies.Verdict(
        EXPLICIT, "NoDelete", "Inline", 1
    )
    assert policy_set.evaluate("oss:DeleteObject", "x", CONTEXT) == policies.Verdict(
        EXPLICIT, "NoDeleteEither", "Custom", 0
    )
    assert policy_set.evaluate("stream:DescribeJob", "x", CONTEXT) == policies.Verdict(
        ALLOW, "AdministratorAccess", "System", 0
    )


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("stream:DescribeJob", policies.Verdict(ALLOW, "B", "Custom", 1)),
        ("stream:StartJob", policies.Verdict(ALLOW, "B", "Custom", 2)),
        ("oss:GetObject", policies.Verdict(ALLOW, "C", "System", 0)),
        ("ram:ListUsers", policies.Verdict(ALLOW, "C", "System", 0)),
        ("ram:DeleteUser", policies.Verdict(EXPLICIT, "C", "System", 1)),
        ("ecs:RunInstances", policies.Verdict(IMPLICIT, None, None, None)),
    ],
)
def test_the_deciding_statement_is_the_first_in_order(
    action: str, expected: policies.Verdict
) -> None:
    policy_set = policies.PolicySet(
        [
            named("A", "Inline", statement(action="stream:Describe*", resource="acs:other:*:*:*")),
            named(
                "B",
                "Custom",
                statement(action="ots:*"),
                statement(action="stream:Describe*"),
                statement(action="stream:*"),
            ),
            named(
                "C",
                "System",
                statement(action=["*:Get*", "*:List*"]),
                statement("Deny", "ram:Delete*"),
                statement(action="stream:*"),
            ),
        ]
    )
    assert policy_set.evaluate(action, "acs:stream:cn:1:project/a", CONTEXT) == expected


def test_condition_keys_name_every_key_read() -> None:
    policy_set = policies.PolicySet(
        [
            named(
                "A", "Custom", statement(Condition={"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}})
            ),
            named(
                "B",
                "Custom",
                statement(
                    Condition={
                        "StringEquals": {"Stream:ProjectName": "a", "acs:MFAPresent": "true"}
                    }
                ),
            ),
            named("C", "Custom", statement()),
        ]
    )
    assert policy_set.condition_keys == {"acs:sourceip", "stream:projectname", "acs:mfapresent"}
    assert policies.PolicySet([]).condition_keys == frozenset()


# -- the index never changes a verdict --------------------------------------------------------

ACTIONS = [
    "stream:DescribeJob",
    "stream:DeleteJob",
    "ram:PassRole",
    "oss:GetObject",
    "dhs>DeleteTopic",
    "noservice",
    "STREAM:describejob",
    "",
]
PATTERNS = [
    "stream:*",
    "stream:Describe*",
    "*",
    "*:Get*",
    "?tream:*",
    "st*",
    "ram:PassRole",
    "dhs>DeleteTopic",
    "Oss:Get*",
    "*Job",
    "noservice",
]
RESOURCES = ["*", "acs:stream:*:*:*", "acs:oss:*:*:*", "acs:stream:cn:1:project/a"]


def linear(
    named_policies: Sequence[policies.NamedPolicy],
    action: str,
    resource: str,
    context: conditions.Context,
) -> policies.Verdict:
    """The reference: scan everything, Deny first, no index."""
    for effect, decision in ((policies.Effect.DENY, EXPLICIT), (policies.Effect.ALLOW, ALLOW)):
        for entry in named_policies:
            for index, stmt in enumerate(entry.policy.statements):
                if stmt.effect is effect and stmt.matches(action, resource, context):
                    return policies.Verdict(decision, entry.name, entry.policy_type, index)
    return policies.Verdict(IMPLICIT)


CONDITIONS: list[dict[str, object]] = [
    {},
    {},
    {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
    {"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
    {"Bool": {"acs:SecureTransport": "true"}},
    {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}, "Bool": {"acs:MFAPresent": "true"}},
    {"StringNotLike": {"stream:ProjectName": "a*"}},
]
CONTEXTS: list[conditions.Context] = [
    CONTEXT,
    conditions.request_context("8.8.8.8", NOW, False, True, {"stream:ProjectName": "beta"}),
    {},
]


@pytest.mark.parametrize("seed", range(25))
def test_the_index_agrees_with_a_linear_scan(seed: int) -> None:
    rng = random.Random(seed)
    named_policies = [
        named(
            f"P{p}",
            "Custom",
            *[
                {
                    "Effect": rng.choice(["Allow", "Allow", "Deny"]),
                    rng.choice(["Action", "Action", "NotAction"]): rng.sample(
                        PATTERNS, rng.randint(1, 3)
                    ),
                    "Resource": rng.choice(RESOURCES),
                    "Condition": rng.choice(CONDITIONS),
                }
                for _ in range(rng.randint(1, 5))
            ],
        )
        for p in range(rng.randint(1, 6))
    ]
    policy_set = policies.PolicySet(named_policies)
    for action in ACTIONS:
        for resource in ("acs:stream:cn:1:project/a", "acs:oss:cn:1:bucket/b"):
            for context in CONTEXTS:
                expected = linear(named_policies, action, resource, context)
                found = policy_set.evaluate(action, resource, context)
                assert found == expected, (action, resource, context)


def test_a_shared_condition_is_judged_afresh_for_each_request() -> None:
    office = {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}
    policy_set = policies.PolicySet(
        [
            named("A", "Custom", statement(action="stream:Get*", Condition=office)),
            named("B", "Custom", statement(Condition=office), statement("Deny", Condition=office)),
        ]
    )
    inside, outside = {"acs:sourceip": "10.0.0.1"}, {"acs:sourceip": "8.8.8.8"}
    assert policy_set.evaluate("stream:GetJob", "x", inside).decision is EXPLICIT
    assert policy_set.evaluate("stream:GetJob", "x", outside).decision is IMPLICIT
    assert policy_set.evaluate("stream:GetJob", "x", inside).decision is EXPLICIT
