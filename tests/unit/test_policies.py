"""Validation of policy documents (domain/policies.py): what parses, and what each problem says."""

from __future__ import annotations

import json

import pytest

from rtcompute import errors
from rtcompute.domain import policies

# the guide's examples, verbatim
GUIDE_STREAM_AND_PASS_ROLE = (
    '{"Version":"1","Statement":[{"Action":"stream:*","Resource":"acs:stream:*:*:*",'
    '"Effect":"Allow"},{"Action":"ram:PassRole","Resource":"acs:ram:*:*:*","Effect":"Allow"}]}'
)
GUIDE_ONE_PROJECT = GUIDE_STREAM_AND_PASS_ROLE.replace(
    '"Resource":"acs:stream:*:*:*"', '"Resource": "acs:stream:*:*:projectname"'
)
# the vendor's AliyunStreamRolePolicy, including its own typo `dhs>DeleteTopic`
STREAM_ROLE_POLICY = """{
  "Version": "1",
  "Statement": [
    {"Action": ["ots:List*", "ots:DescribeTable", "ots:Get*", "ots:*Row"],
     "Resource": "*", "Effect": "Allow"},
    {"Action": ["dhs:Create*", "dhs:List*", "dhs:Get*", "dhs:PutRecords", "dhs>DeleteTopic"],
     "Resource": "*", "Effect": "Allow"},
    {"Action": ["log:List*", "log:Get*", "log:Post*"], "Resource": "*", "Effect": "Allow"},
    {"Action": ["mns:List*", "mns:Get*", "mns:Send*", "mns:Publish*", "mns:Subscribe"],
     "Resource": "*", "Effect": "Allow"},
    {"Action": ["drds:DescribeDrdsInstance", "drds:ModifyDrdsIpWhiteList"],
     "Resource": "*", "Effect": "Allow"},
    {"Action": ["rds:Describe*", "rds:ModifySecurityIps*"], "Resource": "*", "Effect": "Allow"},
    {"Action": ["vpc:DescribeVpcs", "vpc:DescribeVSwitches"], "Resource": "*", "Effect": "Allow"},
    {"Action": ["ecs:CreateSecurityGroup", "ecs:AuthorizeSecurityGroup",
                "ecs:CreateNetworkInterface", "ecs:DescribeNetworkInterfaces",
                "ecs:AttachNetworkInterface", "ecs:DescribeNetworkInterfacePermissions",
                "ecs:CreateNetworkInterfacePermission"],
     "Resource": "*", "Effect": "Allow"},
    {"Action": "oss:*", "Resource": "*", "Effect": "Allow"}
  ]
}"""


def document(*statements: object, **top: object) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements), **top})


def allow(**elements: object) -> dict[str, object]:
    return {"Effect": "Allow", "Action": "stream:*", "Resource": "*", **elements}


@pytest.mark.parametrize(
    "text", [GUIDE_STREAM_AND_PASS_ROLE, GUIDE_ONE_PROJECT, STREAM_ROLE_POLICY]
)
def test_guide_policies_parse(text: str) -> None:
    assert policies.problems(text) == []
    assert policies.parse(text).statements


def test_the_vendor_typo_is_kept_verbatim() -> None:
    policy = policies.parse(STREAM_ROLE_POLICY)
    assert len(policy.statements) == 9
    assert "dhs>DeleteTopic" in policy.statements[1].actions
    assert policy.statements[8].actions == ("oss:*",)


@pytest.mark.parametrize(
    ("text", "statement_fields"),
    [
        # a single value means a list of one, for every element
        (
            json.dumps({"Version": "1", "Statement": allow()}),
            [("Allow", ("stream:*",), ("*",), False)],
        ),
        (document(allow(Action=["a:b"])), [("Allow", ("a:b",), ("*",), False)]),
        (
            document(allow(Resource=["acs:a:*:*:b"])),
            [("Allow", ("stream:*",), ("acs:a:*:*:b",), False)],
        ),
        (
            document({"Effect": "Deny", "NotAction": "ram:*", "Resource": "*"}),
            [("Deny", ("ram:*",), ("*",), True)],
        ),
        (
            document({"Effect": "Deny", "NotAction": ["ram:*", "sts:*"], "Resource": "*"}),
            [("Deny", ("ram:*", "sts:*"), ("*",), True)],
        ),
        (
            document(allow(Sid="anything"), allow(Sid=7)),
            [("Allow", ("stream:*",), ("*",), False)] * 2,
        ),
    ],
)
def test_statements_parse(text: str, statement_fields: list[tuple[object, ...]]) -> None:
    policy = policies.parse(text)
    assert [(s.effect, s.actions, s.resources, s.not_action) for s in policy.statements] == (
        statement_fields
    )


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"StringEquals": {"stream:ProjectName": "p"}}, [("stream:projectname", ("p",))]),
        (
            {"StringEquals": {"stream:ProjectName": ["p", "q"]}},
            [("stream:projectname", ("p", "q"))],
        ),
        ({"Bool": {"acs:MFAPresent": True}}, [("acs:mfapresent", ("true",))]),
        ({"NumericLessThan": {"x:n": [1, 2.5]}}, [("x:n", ("1", "2.5"))]),
    ],
)
def test_condition_values_are_lists_of_text(
    condition: object, expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    policy = policies.parse(document(allow(Condition=condition)))
    assert [(c.key, c.values) for c in policy.statements[0].conditions] == expected
    assert policy.condition_keys == {key for key, _ in expected}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (document(allow(), Version="2"), 'Version: must be "1"'),
        (document(allow(), Version=1), 'Version: must be "1"'),
        (json.dumps({"Statement": [allow()]}), 'Version: must be "1"'),
        (json.dumps({"Version": "1"}), "Statement: is required"),
        (document(), "Statement: must contain at least one statement"),
        (document(allow(), Id="x"), "Id: unknown element; a policy has only Version and Statement"),
        (document(allow(), "x"), "Statement[1]: must be an object"),
        (json.dumps({"Version": "1", "Statement": "x"}), "Statement[0]: must be an object"),
        (document(allow(Effect="allow")), 'Statement[0].Effect: must be "Allow" or "Deny"'),
        (document(allow(Effect="DENY")), 'Statement[0].Effect: must be "Allow" or "Deny"'),
        (document(allow(Effect=["Allow"])), 'Statement[0].Effect: must be "Allow" or "Deny"'),
        (
            document({"Action": "a:b", "Resource": "*"}),
            'Statement[0].Effect: is required and must be "Allow" or "Deny"',
        ),
        (
            document(allow(), allow(NotAction="x:y")),
            "Statement[1].Action: use either Action or NotAction, not both",
        ),
        (
            document({"Effect": "Allow", "Resource": "*"}),
            "Statement[0].Action: is required (or NotAction)",
        ),
        (document(allow(Action=[])), "Statement[0].Action: must not be an empty list"),
        (document(allow(Action="")), "Statement[0].Action: must not contain an empty string"),
        (document(allow(Action=["a:b", 3])), "Statement[0].Action: must be a string or a list"),
        (document(allow(Action={"a": "b"})), "Statement[0].Action: must be a string or a list"),
        (
            document({"Effect": "Allow", "NotAction": [], "Resource": "*"}),
            "Statement[0].NotAction: must not be an empty list",
        ),
        (
            document({"Effect": "Allow", "Action": "a:b"}),
            'Statement[0].Resource: is required; "*" means every resource',
        ),
        (document(allow(Resource=[])), "Statement[0].Resource: must not be an empty list"),
        (document(allow(Resource=None)), "Statement[0].Resource: must be a string or a list"),
        (
            document(allow(Resource="stream:x")),
            "Statement[0].Resource: 'stream:x' is not a resource",
        ),
        (
            document(allow(NotResource="acs:ram:*:*:*")),
            "Statement[0].NotResource: is not supported; list the resources in Resource",
        ),
        (
            document(allow(Principal={"RAM": "*"})),
            "Statement[0].Principal: only trust policies name a Principal",
        ),
        (document(allow(effect="Allow")), "Statement[0].effect: unknown element; a statement has"),
        (document(allow(Resources="*")), "Statement[0].Resources: unknown element"),
        (
            document(allow(Condition={"StringEqual": {"a": "b"}})),
            "Statement[0].Condition.StringEqual: unknown condition operator 'StringEqual'",
        ),
        (
            document(allow(Condition={"StringEquals": {"a": None}})),
            "Statement[0].Condition.StringEquals.a: values must be strings",
        ),
        (document(allow(Condition=[])), "Statement[0].Condition: must be an object"),
        ("", "document: not valid JSON at line 1 column 1: Expecting value"),
        (
            '{"Version": "1",\n "Statement": [\n  {"Effect": "Allow"\n  "Action": "x"}]}',
            "document: not valid JSON at line 4 column 3: Expecting ',' delimiter",
        ),
        (
            '{"Version": "1", "Statement": []',
            "document: not valid JSON at line 1 column 33: Expecting ','",
        ),
        ('{"Version": "1",}', "document: not valid JSON at line 1 column 17"),
        ("[]", "document: must be an object"),
        ('"policy"', "document: must be an object"),
        ("null", "document: must be an object"),
        ('{"Version": NaN}', "document: not valid JSON: NaN is not a JSON number"),
        ("[" * 3000 + "]" * 3000, "document: is nested too deeply"),
        (
            '{"Version": "1", "Version": "1", "Statement": []}',
            "document: the key 'Version' appears twice",
        ),
        (
            document(allow(Condition={"StringEquals": {"a": "b"}}))[:-3]
            + ', "Condition": {"StringEquals": {"a": "c"}}}]}',
            "document: the key 'Condition' appears twice",
        ),
    ],
)
def test_problems_name_the_statement_and_element(text: str, expected: str) -> None:
    found = [str(problem) for problem in policies.problems(text)]
    assert any(problem.startswith(expected) for problem in found), found
    with pytest.raises(errors.Invalid) as caught:
        policies.parse(text)
    assert caught.value.code == "InvalidPolicyDocument"
    assert expected in caught.value.message


def test_every_problem_is_reported() -> None:
    text = document(
        allow(Effect="allow", NotResource="*"),
        {"Action": "a:b"},
        allow(Condition={"Nope": {"a": "b"}, "StringLike": {"k": []}}),
        Version="2",
    )
    found = [str(problem) for problem in policies.problems(text)]
    assert found == [
        'Version: must be "1"',
        "Statement[0].NotResource: is not supported; list the resources in Resource",
        'Statement[0].Effect: must be "Allow" or "Deny"',
        'Statement[1].Effect: is required and must be "Allow" or "Deny"',
        'Statement[1].Resource: is required; "*" means every resource',
        "Statement[2].Condition.Nope: unknown condition operator 'Nope'",
        "Statement[2].Condition.StringLike.k: must list at least one value",
    ]
    with pytest.raises(errors.Invalid) as caught:
        policies.parse(text)
    assert caught.value.message == "; ".join(found)


def test_a_document_at_the_limit_parses_and_one_over_it_does_not() -> None:
    base = document(allow(Sid=""))
    padded = base.replace(
        '"Sid": ""', '"Sid": "' + "x" * (policies.MAX_DOCUMENT_CHARS - len(base)) + '"'
    )
    assert len(padded) == policies.MAX_DOCUMENT_CHARS
    assert policies.problems(padded) == []
    over = padded.replace('"Sid": "', '"Sid": "x')
    assert [str(p) for p in policies.problems(over)] == [
        "document: is 6145 characters long; a policy document holds at most 6144"
    ]


def test_problems_in_chinese_keep_the_place() -> None:
    text = document(allow(Effect="allow", NotResource="*"), Version="2")
    found = policies.problems(text)
    assert [p.text("zh-CN") for p in found] == [
        'Version：必须是 "1"',
        "Statement[0].NotResource：不支持该元素；请在 Resource 中列出资源",
        'Statement[0].Effect：必须是 "Allow" 或 "Deny"',
    ]
    assert [p.text("en") for p in found] == [str(p) for p in found]
    with pytest.raises(errors.Invalid) as caught:
        policies.parse(text)
    assert caught.value.text("zh") == "权限策略内容有误：" + "；".join(p.text("zh") for p in found)
    assert "must be" not in caught.value.text("zh")
    json_error = policies.problems('{"Version": NaN}')[0]
    assert json_error.text("zh") == "document：不是有效的 JSON：NaN 不是 JSON 数字"


def test_problem_strings() -> None:
    assert str(policies.Problem(1, "Effect", "bad")) == "Statement[1].Effect: bad"
    assert str(policies.Problem(None, "Version", "bad")) == "Version: bad"
    assert str(policies.Problem(2, "", "bad")) == "Statement[2]: bad"


# -- trust policies ------------------------------------------------------------------------------

ACCOUNT = "1234567890123456"


def trust(*statements: object) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def assume(principal: object, effect: str = "Allow", **elements: object) -> dict[str, object]:
    return {"Effect": effect, "Action": "sts:AssumeRole", "Principal": principal, **elements}


@pytest.mark.parametrize(
    ("text", "account_id", "service", "expected"),
    [
        (trust(assume({"RAM": f"acs:ram::{ACCOUNT}:root"})), ACCOUNT, None, True),
        (trust(assume({"RAM": [f"acs:ram::{ACCOUNT}:root"]})), "999", None, False),
        (trust(assume({"RAM": f"acs:ram::{ACCOUNT}:root"})), None, None, False),
        (trust(assume({"RAM": "*"})), "999", None, True),
        (trust(assume({"Service": "stream.rtcompute.io"})), None, "stream.rtcompute.io", True),
        (trust(assume({"Service": ["stream.rtcompute.io"]})), None, "STREAM.rtcompute.io", True),
        (trust(assume({"Service": "stream.rtcompute.io"})), None, "oss.rtcompute.io", False),
        (trust(assume({"Service": "stream.rtcompute.io"})), ACCOUNT, None, False),
        (
            trust(assume({"RAM": f"acs:ram::{ACCOUNT}:root", "Service": "s.io"})),
            None,
            "s.io",
            True,
        ),
        (
            trust(assume({"RAM": "*"}), assume({"RAM": f"acs:ram::{ACCOUNT}:root"}, "Deny")),
            ACCOUNT,
            None,
            False,
        ),
        (
            trust(assume({"RAM": "*"}), assume({"RAM": f"acs:ram::{ACCOUNT}:root"}, "Deny")),
            "999",
            None,
            True,
        ),
        (trust(assume({"RAM": "*"}, Action="STS:assumerole")), "1", None, True),
        (trust(assume({"RAM": "*"}, Action=["sts:AssumeRole"], Sid="x")), "1", None, True),
        (trust(assume({"RAM": "*"}, "Deny")), "1", None, False),
    ],
)
def test_trusts(text: str, account_id: str | None, service: str | None, expected: bool) -> None:
    assert policies.trust_problems(text) == []
    assert policies.parse_trust(text).trusts(account_id=account_id, service=service) is expected


def test_trust_conditions_need_the_context() -> None:
    text = trust(
        assume({"RAM": "*"}, Condition={"Bool": {"acs:MFAPresent": "true"}}),
        assume({"RAM": "*"}, "Deny", Condition={"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}),
    )
    policy = policies.parse_trust(text)
    assert policy.trusts(
        account_id="1", context={"acs:mfapresent": "true", "acs:sourceip": "10.1.1.1"}
    )
    assert not policy.trusts(
        account_id="1", context={"acs:mfapresent": "true", "acs:sourceip": "8.8.8.8"}
    )
    assert not policy.trusts(
        account_id="1", context={"acs:mfapresent": "false", "acs:sourceip": "10.1.1.1"}
    )
    assert not policy.trusts(account_id="1")  # no context: the Allow's condition fails


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            trust(assume({"RAM": "*"}, Action="sts:GetCallerIdentity")),
            "Statement[0].Action: a trust",
        ),
        (
            trust(assume({"RAM": "*"}, Action=["sts:AssumeRole", "ram:*"])),
            "Statement[0].Action: a trust",
        ),
        (trust({"Effect": "Allow", "Principal": {"RAM": "*"}}), "Statement[0].Action: is required"),
        (trust(assume({"RAM": "*"}, Resource="*")), "Statement[0].Resource: is not used in trust"),
        (trust(assume({"RAM": "*"}, NotResource="*")), "Statement[0].NotResource: is not used"),
        (
            trust(assume({"RAM": "*"}, NotAction="x")),
            "Statement[0].NotAction: is not used in trust",
        ),
        (trust(assume({"RAM": "*"}, Effect="allow")), 'Statement[0].Effect: must be "Allow"'),
        (
            trust({"Effect": "Allow", "Action": "sts:AssumeRole"}),
            "Statement[0].Principal: is required and must be an object",
        ),
        (trust(assume("*")), "Statement[0].Principal: must be an object"),
        (trust(assume({})), "Statement[0].Principal: must be an object"),
        (trust(assume({"AWS": "*"})), "Statement[0].Principal.AWS: unknown principal type"),
        (
            trust(assume({"RAM": "acs:ram::123:role/x"})),
            "Statement[0].Principal.RAM: 'acs:ram::123:role/x'",
        ),
        (
            trust(assume({"RAM": "acs:ram::*:root"})),
            "Statement[0].Principal.RAM: 'acs:ram::*:root'",
        ),
        (trust(assume({"RAM": []})), "Statement[0].Principal.RAM: must not be an empty list"),
        (
            trust(assume({"Service": ""})),
            "Statement[0].Principal.Service: must not contain an empty",
        ),
        (trust(assume({"RAM": "*"}, Condition={"Foo": {}})), "Statement[0].Condition.Foo: unknown"),
        (trust(assume({"RAM": "*"}, Extra=1)), "Statement[0].Extra: unknown element"),
        ("{", "document: not valid JSON at line 1 column 2"),
        (json.dumps({"Version": "1", "Statement": []}), "Statement: must contain at least one"),
    ],
)
def test_trust_problems(text: str, expected: str) -> None:
    found = [str(problem) for problem in policies.trust_problems(text)]
    assert any(problem.startswith(expected) for problem in found), found
    with pytest.raises(errors.Invalid) as caught:
        policies.parse_trust(text)
    assert caught.value.code == "InvalidPolicyDocument"


def test_a_permission_policy_is_not_a_trust_policy_and_back() -> None:
    assert policies.trust_problems(GUIDE_STREAM_AND_PASS_ROLE)
    assert policies.problems(trust(assume({"RAM": "*"})))
