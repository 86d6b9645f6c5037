"""RAM rules: the vendor's limits, name rules, the shipped system policies and the service role.

The numbers are the vendor RAM's published limits (the issue quotes them); each error names
the limit it hit so that a user knows which one to raise or work around.
"""

from __future__ import annotations

import json
from enum import StrEnum

from rtcompute import errors
from rtcompute.domain import text

# vendor RAM limits, per account unless said otherwise
MAX_USERS = 5_000
MAX_GROUPS = 300
MAX_ROLES = 1_000
MAX_CUSTOM_POLICIES = 1_500
MAX_GROUPS_PER_USER = 10
MAX_SYSTEM_ATTACHMENTS = 20  # per user, group or role
MAX_CUSTOM_ATTACHMENTS = 10  # per user, group or role
MAX_POLICY_VERSIONS = 5
MAX_NAME = 128
MAX_DESCRIPTION = 1_024

# the Chinese words of the kinds and fields the checks below name
KIND_ZH = {"user": "RAM 用户", "group": "用户组", "role": "角色", "policy": "权限策略"}
FIELD_ZH = {"comment": "备注", "description": "描述", "display name": "显示名称"}

# the role the service acts through, and its policy (guide: AliyunStreamDefaultRole and
# AliyunStreamRolePolicy; "Aliyun" dropped, the statements kept)
SERVICE_ROLE = "StreamDefaultRole"
SERVICE_ROLE_POLICY = "StreamRolePolicy"
SERVICE_PRINCIPAL = "stream.rtcompute.io"
SERVICE_ROLE_DESCRIPTION = (
    "The stream computing service uses this role by default to access your resources in "
    "other services"
)
SERVICE_ROLE_POLICY_DESCRIPTION = "The policy of the stream computing service's default role"
SERVICE_ROLE_DESCRIPTION_ZH = "实时计算服务默认使用此角色访问您在其他服务中的资源"
SERVICE_ROLE_POLICY_DESCRIPTION_ZH = "实时计算服务默认角色的权限策略"


class PolicyType(StrEnum):
    SYSTEM = "System"
    CUSTOM = "Custom"


class PrincipalKind(StrEnum):
    USER = "User"
    GROUP = "Group"
    ROLE = "Role"


def check_text(field: str, value: str, limit: int) -> str:
    """Display names, comments and descriptions: bounded, no control characters."""
    if len(value) > limit or any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise errors.Invalid(
            f"{field} must be at most {limit} printable characters",
            f"{FIELD_ZH.get(field, field)}最多 {limit} 个可打印字符",
            code="InvalidParameter",
        )
    return value


def check_display_name(value: str) -> str:
    """A user's or group's display name: bounded text, no control or bidi control character."""
    check_text("display name", value, MAX_NAME)
    return text.refuse_bidi(
        value, field="display name", field_zh="显示名称", code="InvalidParameter"
    )


def limit_exceeded(
    what: str, limit: int, hint: str, *, what_zh: str = "", hint_zh: str = ""
) -> errors.QuotaExceeded:
    """The one wording of every RAM limit error: which limit, its value, what to do.

    `what_zh` names the counted things with their scope ("每个账号的 RAM 用户").
    """
    code = "LimitExceeded." + "".join(part.capitalize() for part in what.split())
    zh = f"已达上限：{what_zh}最多 {limit} 个；{hint_zh}" if what_zh else ""
    return errors.QuotaExceeded(f"limit exceeded: at most {limit} {what}; {hint}", zh, code=code)


def _document(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)}, indent=2)


def _allow(actions: list[str] | str, resource: str = "*") -> dict[str, object]:
    return {"Action": actions, "Resource": resource, "Effect": "Allow"}


# guide, 独享模式角色授权: the network actions a cluster needs; the first two only while
# it is being created ("以下两个权限可在创建集群后删除")
NETWORK_ACTIONS_AT_CREATION = ("ecs:CreateSecurityGroup", "ecs:AuthorizeSecurityGroup")
NETWORK_ACTIONS = (
    "vpc:DescribeVpcs",
    "vpc:DescribeVSwitches",
    "ecs:CreateNetworkInterface",
    "ecs:DescribeNetworkInterfaces",
    "ecs:AttachNetworkInterface",
    "ecs:DescribeNetworkInterfacePermissions",
    "ecs:CreateNetworkInterfacePermission",
)
# object storage: where UDFs, job resources and checkpoints live
STORAGE_ACTIONS = ("oss:GetObject", "oss:PutObject", "oss:ListObjects", "oss:DeleteObject")


def exclusive_role_actions(*, creating: bool) -> tuple[str, ...]:
    """What the service role must allow for an exclusive cluster, in the order to report."""
    network = NETWORK_ACTIONS_AT_CREATION + NETWORK_ACTIONS if creating else NETWORK_ACTIONS
    return network + STORAGE_ACTIONS


# guide, 共享模式角色授权 "当前角色授权信息查看": AliyunStreamRolePolicy, statement for statement
# (including the guide's own `dhs>DeleteTopic`: a policy pasted from the guide works unchanged)
SERVICE_ROLE_POLICY_DOCUMENT = _document(
    _allow(["ots:List*", "ots:DescribeTable", "ots:Get*", "ots:*Row"]),
    _allow(["dhs:Create*", "dhs:List*", "dhs:Get*", "dhs:PutRecords", "dhs>DeleteTopic"]),
    _allow(["log:List*", "log:Get*", "log:Post*"]),
    _allow(["mns:List*", "mns:Get*", "mns:Send*", "mns:Publish*", "mns:Subscribe"]),
    _allow(["drds:DescribeDrdsInstance", "drds:ModifyDrdsIpWhiteList"]),
    _allow(["rds:Describe*", "rds:ModifySecurityIps*"]),
    _allow(["vpc:DescribeVpcs", "vpc:DescribeVSwitches"]),
    _allow(list(NETWORK_ACTIONS_AT_CREATION + NETWORK_ACTIONS[2:])),
    _allow("oss:*"),
)


def service_trust_policy() -> str:
    """The service role's trust policy: only the stream service may assume it."""
    return _document(
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": [SERVICE_PRINCIPAL]},
        }
    )


def account_trust_policy(account_id: str) -> str:
    """The default trust policy of a new role: any identity of the account may assume it."""
    return _document(
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"RAM": [f"acs:ram::{account_id}:root"]},
        }
    )


# Read-only, shipped with the platform; attached by name with type System.
SYSTEM_POLICIES: dict[str, tuple[str, str]] = {
    "AdministratorAccess": ("Full access to every resource of the account", _document(_allow("*"))),
    "StreamFullAccess": ("Full access to stream computing", _document(_allow("stream:*"))),
    "StreamReadOnlyAccess": (
        "Read-only access to stream computing",
        _document(
            _allow(
                [
                    "stream:Describe*",
                    "stream:List*",
                    "stream:Get*",
                    "stream:Query*",
                    "stream:Check*",
                    "stream:Search*",
                ]
            )
        ),
    ),
    "RAMFullAccess": (
        "Full access to users, groups, policies and roles",
        _document(_allow("ram:*")),
    ),
    "RAMReadOnlyAccess": (
        "Read-only access to users, groups, policies and roles",
        _document(_allow(["ram:Get*", "ram:List*"])),
    ),
    "ObjectStorageFullAccess": ("Full access to object storage", _document(_allow("oss:*"))),
    "NetworkFullAccess": (
        "The network actions a cluster of the stream service needs",
        _document(
            _allow(["vpc:DescribeVpcs", "vpc:DescribeVSwitches"]),
            _allow(list(NETWORK_ACTIONS_AT_CREATION + NETWORK_ACTIONS[2:])),
        ),
    ),
}
# the Chinese of the system policies' descriptions (the English is in SYSTEM_POLICIES)
SYSTEM_POLICY_DESCRIPTIONS_ZH: dict[str, str] = {
    "AdministratorAccess": "管理账号下所有资源的权限",
    "StreamFullAccess": "管理实时计算的权限",
    "StreamReadOnlyAccess": "只读访问实时计算的权限",
    "RAMFullAccess": "管理用户、用户组、权限策略和角色的权限",
    "RAMReadOnlyAccess": "只读访问用户、用户组、权限策略和角色的权限",
    "ObjectStorageFullAccess": "管理对象存储的权限",
    "NetworkFullAccess": "实时计算集群所需的网络操作权限",
}
# every description the platform ships, English to Chinese: the service role and its policy
# are stored in the account with their English description, shown in Chinese from here
SHIPPED_DESCRIPTIONS_ZH: dict[str, str] = {
    SERVICE_ROLE_DESCRIPTION: SERVICE_ROLE_DESCRIPTION_ZH,
    SERVICE_ROLE_POLICY_DESCRIPTION: SERVICE_ROLE_POLICY_DESCRIPTION_ZH,
    **{
        english: SYSTEM_POLICY_DESCRIPTIONS_ZH[name]
        for name, (english, _) in SYSTEM_POLICIES.items()
    },
}


def description_in(language: str, description: str) -> str:
    """A description in `language` (`zh_CN` or `en`): the platform's own descriptions have a
    Chinese one; what an account wrote is shown as written."""
    if language.lower().replace("-", "_").startswith("zh"):
        return SHIPPED_DESCRIPTIONS_ZH.get(description, description)
    return description
