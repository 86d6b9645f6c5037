"""The RAM rules of domain/ram.py: the vendor's limits, names, shipped policies, service role."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from rtcompute import errors
from rtcompute.domain import names, policies, ram

CONTEXT = policies.request_context(
    source_ip="10.0.0.1",
    current_time=datetime(2026, 11, 23, tzinfo=UTC),
    secure_transport=True,
    mfa_present=False,
)
ANY = "acs:x:local:1234567890:*"

# guide, 共享模式角色授权 "当前角色授权信息查看": the statements of AliyunStreamRolePolicy
GUIDE_ROLE_POLICY_ACTIONS = [
    ["ots:List*", "ots:DescribeTable", "ots:Get*", "ots:*Row"],
    ["dhs:Create*", "dhs:List*", "dhs:Get*", "dhs:PutRecords", "dhs>DeleteTopic"],
    ["log:List*", "log:Get*", "log:Post*"],
    ["mns:List*", "mns:Get*", "mns:Send*", "mns:Publish*", "mns:Subscribe"],
    ["drds:DescribeDrdsInstance", "drds:ModifyDrdsIpWhiteList"],
    ["rds:Describe*", "rds:ModifySecurityIps*"],
    ["vpc:DescribeVpcs", "vpc:DescribeVSwitches"],
    [
        "ecs:CreateSecurityGroup",
        "ecs:AuthorizeSecurityGroup",
        "ecs:CreateNetworkInterface",
        "ecs:DescribeNetworkInterfaces",
        "ecs:AttachNetworkInterface",
        "ecs:DescribeNetworkInterfacePermissions",
        "ecs:CreateNetworkInterfacePermission",
    ],
    "oss:*",
]


def allowed(document: str, action: str, resource: str = ANY) -> bool:
    verdict = policies.PolicySet(
        [policies.NamedPolicy("p", "System", policies.parse(document))]
    ).evaluate(action, resource, CONTEXT)
    return verdict.decision is policies.Decision.ALLOW


def test_vendor_limits() -> None:
    assert (ram.MAX_USERS, ram.MAX_GROUPS, ram.MAX_ROLES) == (5_000, 300, 1_000)
    assert (ram.MAX_SYSTEM_ATTACHMENTS, ram.MAX_CUSTOM_ATTACHMENTS) == (20, 10)
    assert (ram.MAX_CUSTOM_POLICIES, ram.MAX_POLICY_VERSIONS) == (1_500, 5)
    assert (ram.MAX_GROUPS_PER_USER, ram.MAX_NAME) == (10, 128)
    assert policies.MAX_DOCUMENT_CHARS == 6_144


def test_service_role_policy_is_the_guides_statement_for_statement() -> None:
    statements = json.loads(ram.SERVICE_ROLE_POLICY_DOCUMENT)["Statement"]
    assert [s["Action"] for s in statements] == GUIDE_ROLE_POLICY_ACTIONS
    assert all(s["Resource"] == "*" and s["Effect"] == "Allow" for s in statements)


def test_service_role_policy_covers_an_exclusive_cluster() -> None:
    for action in ram.exclusive_role_actions(creating=True):
        assert allowed(ram.SERVICE_ROLE_POLICY_DOCUMENT, action), action
    assert not allowed(ram.SERVICE_ROLE_POLICY_DOCUMENT, "ecs:DeleteInstance")


def test_security_group_actions_are_needed_only_at_creation() -> None:
    creating = ram.exclusive_role_actions(creating=True)
    running = ram.exclusive_role_actions(creating=False)
    assert set(creating) - set(running) == {"ecs:CreateSecurityGroup", "ecs:AuthorizeSecurityGroup"}
    assert "oss:GetObject" in running and "vpc:DescribeVSwitches" in running


@pytest.mark.parametrize(
    ("name", "action", "expected"),
    [
        ("StreamFullAccess", "stream:CreateProject", True),
        ("StreamFullAccess", "ram:CreateUser", False),
        ("StreamReadOnlyAccess", "stream:DescribeProject", True),
        ("StreamReadOnlyAccess", "stream:ListProjects", True),
        ("StreamReadOnlyAccess", "stream:GetJob", True),
        ("StreamReadOnlyAccess", "stream:QueryJobMetrics", True),
        ("StreamReadOnlyAccess", "stream:CheckJob", True),
        ("StreamReadOnlyAccess", "stream:SearchJobs", True),
        ("StreamReadOnlyAccess", "stream:CreateProject", False),
        ("StreamReadOnlyAccess", "stream:DeleteProject", False),
        ("RAMFullAccess", "ram:DeleteUser", True),
        ("RAMFullAccess", "stream:ListProjects", False),
        ("RAMReadOnlyAccess", "ram:ListUsers", True),
        ("RAMReadOnlyAccess", "ram:GetPolicy", True),
        ("RAMReadOnlyAccess", "ram:CreateUser", False),
        ("ObjectStorageFullAccess", "oss:PutObject", True),
        ("ObjectStorageFullAccess", "ecs:CreateNetworkInterface", False),
        ("NetworkFullAccess", "ecs:CreateNetworkInterface", True),
        ("NetworkFullAccess", "vpc:DescribeVpcs", True),
        ("NetworkFullAccess", "oss:PutObject", False),
        ("AdministratorAccess", "anything:AtAll", True),
    ],
)
def test_system_policies(name: str, action: str, expected: bool) -> None:
    assert allowed(ram.SYSTEM_POLICIES[name][1], action) is expected


def test_trust_policies() -> None:
    service = policies.parse_trust(ram.service_trust_policy())
    assert service.trusts(service=ram.SERVICE_PRINCIPAL)
    assert not service.trusts(account_id="1234567890")
    account = policies.parse_trust(ram.account_trust_policy("1234567890"))
    assert account.trusts(account_id="1234567890")
    assert not account.trusts(account_id="999")
    assert not account.trusts(service=ram.SERVICE_PRINCIPAL)


@pytest.mark.parametrize("name", ["dev", "a", "dev.ops_1@x-y", "9lives", "x" * 128])
def test_good_names(name: str) -> None:
    assert names.USER.check(name) == name


@pytest.mark.parametrize("name", ["", "x" * 129, "-dev", "dev ops", "dev/ops", "dév", "a:b", "*"])
def test_bad_names(name: str) -> None:
    with pytest.raises(errors.Invalid) as raised:
        names.USER.check(name)
    assert raised.value.code == "InvalidParameter.UserName"


def test_limit_errors_name_the_limit() -> None:
    error = ram.limit_exceeded("groups per user", 10, "remove the user from a group first")
    assert error.code == "LimitExceeded.GroupsPerUser"
    assert "at most 10 groups per user" in error.message
    chinese = ram.limit_exceeded(
        "groups per user",
        10,
        "remove the user from a group first",
        what_zh="每个用户加入的用户组",
        hint_zh="请先将该用户移出一个用户组",
    )
    assert chinese.message == error.message
    assert (
        chinese.text("zh-CN")
        == "已达上限：每个用户加入的用户组最多 10 个；请先将该用户移出一个用户组"
    )


def test_name_and_text_refusals_in_chinese() -> None:
    with pytest.raises(errors.Invalid) as raised:
        names.POLICY.check("-bad")
    assert raised.value.text("zh").startswith("权限策略名称须为 1-128 个字母")
    with pytest.raises(errors.Invalid) as raised:
        ram.check_text("comment", "x" * 1025, ram.MAX_DESCRIPTION)
    assert raised.value.text("zh") == "备注最多 1024 个可打印字符"
