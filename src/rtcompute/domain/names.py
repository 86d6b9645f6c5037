"""What a name may be: one rule per kind of name, checked here and stated in the API schema.

A rule is a full-match pattern, a length and its words in English and Chinese. The services
check names with `rule.check`, the API schemas (`api/schemas/base`) publish the same pattern
in the OpenAPI document and run the same check, and the console's fields come from the API's
rules: a name is refused one way, with one code, wherever it enters.

Every pattern refuses NUL, lone surrogates and bidirectional controls (they are outside each
character class), so a name that fits can be stored and shown as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rtcompute import errors


@dataclass(frozen=True)
class Rule:
    """The rule of one kind of name; `pattern` is anchored, as OpenAPI states patterns."""

    what: str  # "project name", as a sentence names it
    what_zh: str
    pattern: str
    max_length: int
    words: str  # the rule in words: "3-64 letters, digits and underscores, ..."
    words_zh: str
    code: str
    # the sentences of a refusal; {what}, {words} and {value} (the refused name, quoted)
    template: str = "{what} must be {words}; got {value}"
    template_zh: str = "{what}须为{words}；而不是 {value}"
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.pattern))

    @property
    def html_pattern(self) -> str:
        """The pattern as an HTML input states it: implicitly anchored, and valid with the
        `v` flag browsers compile it with (a literal `-` in a class escaped)."""
        return re.sub(r"(?<!\\)-\]", r"\\-]", self.pattern.removeprefix("^").removesuffix("$"))

    def fits(self, value: object) -> bool:
        return (
            isinstance(value, str)
            and len(value) <= self.max_length
            and self.compiled.fullmatch(value) is not None
        )

    def refusal(self, value: str = "") -> errors.Invalid:
        shown = repr(value[:64])
        return errors.Invalid(
            self.template.format(what=self.what, words=self.words, value=shown),
            self.template_zh.format(what=self.what_zh, words=self.words_zh, value=shown),
            code=self.code,
        )

    def check(self, value: str) -> str:
        """`value` if it fits, else Invalid with the rule in words and the rule's code."""
        if not self.fits(value):
            raise self.refusal(value)
        return value


# guide, 创建项目: letters, digits and underscores, starting with a letter; also a safe path
# segment and a resource name without `/` or `:`
_PROJECT_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{2,63}$"
_PROJECT_WORDS = "3-64 letters, digits and underscores, starting with a letter"
_PROJECT_WORDS_ZH = " 3-64 个字母、数字或下划线，并以字母开头"
PROJECT = Rule(
    "project name",
    "项目名称",
    _PROJECT_PATTERN,
    64,
    _PROJECT_WORDS,
    _PROJECT_WORDS_ZH,
    "InvalidParameter.ProjectName",
)
# guide, 创建集群: the same shape as a project's
CLUSTER = Rule(
    "cluster name",
    "集群名称",
    _PROJECT_PATTERN,
    64,
    _PROJECT_WORDS,
    _PROJECT_WORDS_ZH,
    "InvalidParameter.ClusterName",
)
JOB = Rule(
    "job name",
    "作业名称",
    r"^[A-Za-z][A-Za-z0-9_\-]{0,127}$",
    128,
    "1-128 letters, digits, _ and -, starting with a letter",
    " 1-128 个字母、数字、_ 或 -，并以字母开头",
    "InvalidParameter.JobName",
)
# OSS bucket naming rule
BUCKET = Rule(
    "bucket name",
    "存储空间名称",
    r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
    63,
    "3-63 characters: lowercase letters, digits and hyphens, starting and ending with a "
    "letter or digit",
    " 3-63 个字符，只含小写字母、数字和连字符，并以字母或数字开头和结尾",
    "InvalidBucketName",
)
# the networks, subnets and zones the operator registers (VPC, VSwitch and zone stand-ins)
_NETWORK_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{1,63}$"
_NETWORK_WORDS = "2-64 characters: letters, digits, '-' and '_', starting with a letter"
_NETWORK_WORDS_ZH = " 2-64 个字符，只含字母、数字、'-' 和 '_'，并以字母开头"
NETWORK = Rule(
    "network name",
    "专有网络名称",
    _NETWORK_PATTERN,
    64,
    _NETWORK_WORDS,
    _NETWORK_WORDS_ZH,
    "InvalidParameter.NetworkName",
)
SUBNET = Rule(
    "subnet name",
    "交换机名称",
    _NETWORK_PATTERN,
    64,
    _NETWORK_WORDS,
    _NETWORK_WORDS_ZH,
    "InvalidParameter.SubnetName",
)
ZONE = Rule(
    "zone name",
    "可用区名称",
    _NETWORK_PATTERN,
    64,
    _NETWORK_WORDS,
    _NETWORK_WORDS_ZH,
    "InvalidParameter.ZoneName",
)
# RAM: 1-128 of letters, digits, `.`, `_`, `@`, `-`, starting with a letter or digit
_RAM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$"
_RAM_WORDS = (
    "1-128 characters of letters, digits, '.', '_', '@' and '-', starting with a letter or digit"
)
_RAM_WORDS_ZH = " 1-128 个字母、数字或 '.'、'_'、'@'、'-'，并以字母或数字开头"


def _ram(what: str, what_zh: str, code: str) -> Rule:
    return Rule(what, what_zh, _RAM_PATTERN, 128, _RAM_WORDS, _RAM_WORDS_ZH, code)


USER = _ram("user name", "RAM 用户名称", "InvalidParameter.UserName")
GROUP = _ram("group name", "用户组名称", "InvalidParameter.GroupName")
ROLE = _ram("role name", "角色名称", "InvalidParameter.RoleName")
POLICY = _ram("policy name", "权限策略名称", "InvalidParameter.PolicyName")
# Vendor RAM account alias rule: 3-32 characters, lowercase letters, digits and hyphens, not
# starting or ending with a hyphen; the alias appears in the sign-in URL /login/<alias>
ACCOUNT_ALIAS = Rule(
    "account alias",
    "账号别名",
    r"^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$",
    32,
    "3-32 lowercase letters, digits and hyphens, starting and ending with a letter or digit",
    " 3-32 个小写字母、数字或连字符，并以字母或数字开头和结尾",
    "InvalidAccountAlias",
    template="{what} {value} is not valid: use {words}",
    template_zh="{what}无效（{value}）：请使用{words}",
)
ENGINE_VERSION = Rule(
    "engine version name",
    "引擎版本名称",
    r"^flink-([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$",
    32,
    "flink-<major>.<minor>.<patch>, e.g. flink-2.2.1",
    " flink-<主版本>.<次版本>.<修订号>，例如 flink-2.2.1",
    "InvalidParameter.EngineVersion",
)
# the operator's catalog: machine types read <cores>c<memory>g (guide: 4c16g ... 64c256g)
MACHINE_TYPE = Rule(
    "machine type name",
    "机型名称",
    r"^([1-9][0-9]{0,2})c([1-9][0-9]{0,3})g$",
    16,
    "<cores>c<memory GB>g, e.g. 8c32g",
    " <核数>c<内存 GB>g，例如 8c32g",
    "InvalidParameter.MachineType",
)
REGION = Rule(
    "region name",
    "地域名称",
    r"^[a-z0-9][a-z0-9-]{1,31}$",
    32,
    "2-32 lowercase letters, digits and hyphens",
    " 2-32 个小写字母、数字和连字符",
    "InvalidParameter.Region",
)

RULES = (
    PROJECT,
    CLUSTER,
    JOB,
    BUCKET,
    NETWORK,
    SUBNET,
    ZONE,
    USER,
    GROUP,
    ROLE,
    POLICY,
    ACCOUNT_ALIAS,
    ENGINE_VERSION,
    MACHINE_TYPE,
    REGION,
)
