"""RAM policy documents ("Version": "1"): validation, compiled statements and evaluation.

Validation collects every problem instead of stopping at the first, each naming the statement
(0-based) and the element, because a user fixing a pasted document wants the whole list at once.
Parsing compiles each statement once (wildcards to set lookups, prefixes and one regex;
conditions to tests), since evaluation runs on every request.

Evaluation follows the vendor's rule: deny by default, an explicit Deny anywhere wins, else the
first matching Allow. A `PolicySet` indexes statements by the literal service prefix of their
action patterns (`stream:`, `ram:`), so a request examines only the statements that can match
its action's service plus those whose patterns start with a wildcard or use NotAction; original
order is kept so that the verdict names the same deciding statement a linear scan would.

Trust policies (who may assume a role) share the document shape and live here too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from rtcompute import errors
from rtcompute.domain import conditions, wildcards

Context = conditions.Context
request_context = conditions.request_context  # callers need only this module

# vendor RAM limit: a policy document holds at most 6144 characters
MAX_DOCUMENT_CHARS = 6144
VERSION = "1"
ASSUME_ROLE = "sts:AssumeRole"
_ASSUME_ROLE_FOLDED = ASSUME_ROLE.casefold()

_TOP_ELEMENTS = ("Version", "Statement")
_STATEMENT_ELEMENTS = ("Effect", "Action", "NotAction", "Resource", "Condition", "Sid")
_TRUST_ELEMENTS = ("Effect", "Action", "Principal", "Condition", "Sid")
_PRINCIPAL_KINDS = ("RAM", "Service")
_ROOT_ARN = re.compile(r"acs:ram::([A-Za-z0-9_-]+):root")
_P = TypeVar("_P", "Policy", "TrustPolicy")


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document; `statement` is None for document-level problems."""

    statement: int | None
    element: str
    message: str
    zh: str = field(default="", compare=False)

    @property
    def where(self) -> str:
        """`Statement[1].Effect`: the place in the document, as the user wrote it."""
        where = "" if self.statement is None else f"Statement[{self.statement}]"
        if self.element:
            where = f"{where}.{self.element}" if where else self.element
        return where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def text(self, language: str) -> str:
        """The problem in `language` (a tag such as `zh-CN`), the place kept as written."""
        if errors.language_of(language) == errors.CHINESE and self.zh:
            return f"{self.where}：{self.zh}"
        return str(self)


@dataclass(frozen=True)
class Statement:
    """A compiled permission statement; action patterns match case-insensitively."""

    effect: Effect
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_action: bool = False
    conditions: tuple[conditions.Condition, ...] = ()
    action_test: wildcards.Matcher = field(init=False, repr=False, compare=False)
    resource_test: wildcards.Matcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        folded = [action.casefold() for action in self.actions]
        object.__setattr__(self, "action_test", wildcards.compile_patterns(folded))
        object.__setattr__(self, "resource_test", wildcards.compile_patterns(self.resources))

    def matches(self, action: str, resource: str, context: Context) -> bool:
        """Whether this statement applies to the request, whatever its effect."""
        if self.action_test(action.casefold()) == self.not_action:
            return False
        if not self.resource_test(resource):
            return False
        return not self.conditions or all(c.holds(context) for c in self.conditions)

    def services(self) -> frozenset[str] | None:
        """The casefolded services whose actions this statement can match; None for any."""
        if self.not_action:
            return None
        keys: set[str] = set()
        for pattern in self.actions:
            prefix = wildcards.literal_prefix(pattern.casefold())
            if ":" not in prefix and wildcards.has_wildcard(pattern):
                return None
            keys.add(prefix.partition(":")[0])
        return frozenset(keys)


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]

    @property
    def condition_keys(self) -> frozenset[str]:
        """The lower-cased condition keys the statements read."""
        return frozenset(c.key for s in self.statements for c in s.conditions)


class Decision(StrEnum):
    ALLOW = "Allow"
    IMPLICIT_DENY = "ImplicitDeny"
    EXPLICIT_DENY = "ExplicitDeny"


@dataclass(frozen=True)
class NamedPolicy:
    name: str
    policy_type: str  # "System" | "Custom" | "Inline"
    policy: Policy


@dataclass(frozen=True)
class Verdict:
    """The decision and, unless implicit, the policy and statement (0-based) that decided it."""

    decision: Decision
    policy_name: str | None = None
    policy_type: str | None = None
    statement: int | None = None


IMPLICIT_DENY = Verdict(Decision.IMPLICIT_DENY)

# what the evaluation loop unpacks per statement: action test, NotAction, resource test, the
# conditions (each with its number among the set's distinct conditions), and the verdict it
# gives when it applies (built once, not per request)
_Entry = tuple[
    wildcards.Matcher,
    bool,
    wildcards.Matcher,
    tuple[tuple[int, conditions.Condition], ...],
    Verdict,
]


class PolicySet:
    """The policies that apply to one identity, indexed for evaluation.

    Equal conditions are numbered once: a condition repeated across statements (the same
    source-IP range in every statement is common) is evaluated at most once per request.
    """

    def __init__(self, policies: Sequence[NamedPolicy]) -> None:
        self.policies = tuple(policies)
        ordered = [
            (statement, _verdict(named, index, statement), statement.services())
            for named in self.policies
            for index, statement in enumerate(named.policy.statements)
        ]
        service_names = {name for *_, services in ordered for name in services or ()}
        numbers: dict[conditions.Condition, int] = {}
        numbered = {
            id(s): tuple((numbers.setdefault(c, len(numbers)), c) for c in s.conditions)
            for s, *_ in ordered
        }

        def bucket(service: str | None) -> tuple[_Entry, ...]:
            """Denies first, then Allows, each in policy order, so the first hit decides."""
            chosen = [(s, v) for s, v, names in ordered if names is None or service in names]
            chosen.sort(key=lambda pair: pair[0].effect is not Effect.DENY)  # stable
            return tuple(
                (s.action_test, s.not_action, s.resource_test, numbered[id(s)], v)
                for s, v in chosen
            )

        self._default = bucket(None)
        self._buckets = {name: bucket(name) for name in service_names}
        self.condition_keys = frozenset(
            key for named in self.policies for key in named.policy.condition_keys
        )

    def evaluate(self, action: str, resource: str, context: Context) -> Verdict:
        """Explicit Deny wins, then the first Allow; otherwise deny by default."""
        folded = action.casefold()
        entries = self._buckets.get(folded.partition(":")[0], self._default)
        held: dict[int, bool] = {}
        for action_test, not_action, resource_test, numbered, verdict in entries:
            if action_test(folded) == not_action or not resource_test(resource):
                continue
            for number, condition in numbered:
                holds = held.get(number)
                if holds is None:
                    holds = held[number] = condition.holds(context)
                if not holds:
                    break
            else:
                return verdict
        return IMPLICIT_DENY


def _verdict(named: NamedPolicy, index: int, statement: Statement) -> Verdict:
    decision = Decision.EXPLICIT_DENY if statement.effect is Effect.DENY else Decision.ALLOW
    return Verdict(decision, named.name, named.policy_type, index)


@dataclass(frozen=True)
class TrustStatement:
    """Who a trust statement names: account IDs (`*` for any account) and services."""

    effect: Effect
    accounts: frozenset[str]
    services: frozenset[str]  # casefolded
    conditions: tuple[conditions.Condition, ...] = ()

    def names(self, account_id: str | None, service: str | None) -> bool:
        """Whether the statement names that account's root or that service."""
        if account_id is not None and (account_id in self.accounts or "*" in self.accounts):
            return True
        return service is not None and service.casefold() in self.services


@dataclass(frozen=True)
class TrustPolicy:
    statements: tuple[TrustStatement, ...]

    def trusts(
        self,
        *,
        account_id: str | None = None,
        service: str | None = None,
        context: Context | None = None,
    ) -> bool:
        """True if an Allow names the account or service (conditions holding) and no Deny does."""
        facts: Context = context if context is not None else {}
        allowed = False
        for statement in self.statements:
            if statement.names(account_id, service) and conditions.all_hold(
                statement.conditions, facts
            ):
                if statement.effect is Effect.DENY:
                    return False
                allowed = True
        return allowed


# -- validation ---------------------------------------------------------------------------------


class _Reader:
    """Reads one document, collecting every problem and compiling the valid statements."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, statement: int | None, element: str, message: str, zh: str) -> None:
        self.problems.append(Problem(statement, element, message, zh))

    def load(self, text: str) -> list[tuple[int, object]]:
        """The statements of a well-formed document, numbered; problems for the rest."""
        if len(text) > MAX_DOCUMENT_CHARS:
            limit = f"a policy document holds at most {MAX_DOCUMENT_CHARS}"
            self.add(
                None,
                "document",
                f"is {len(text)} characters long; {limit}",
                f"长 {len(text)} 个字符；权限策略文档最多 {MAX_DOCUMENT_CHARS} 个字符",
            )
            return []  # refused before it is parsed: an oversized body costs nothing more
        duplicates: list[str] = []
        try:
            document = json.loads(
                text,
                object_pairs_hook=lambda pairs: _object(pairs, duplicates),
                parse_constant=_refuse_constant,
            )
        except json.JSONDecodeError as error:
            where = f"line {error.lineno} column {error.colno}"
            self.add(
                None,
                "document",
                f"not valid JSON at {where}: {error.msg}",
                f"第 {error.lineno} 行第 {error.colno} 列处不是有效的 JSON",
            )
            return []
        except RecursionError:
            self.add(None, "document", "is nested too deeply", "嵌套层级过深")
            return []
        except ValueError as error:  # NaN and Infinity, refused by _refuse_constant
            zh = (
                f"不是有效的 JSON：{error.name} 不是 JSON 数字"
                if isinstance(error, _RefusedConstant)
                else "不是有效的 JSON"
            )
            self.add(None, "document", f"not valid JSON: {error}", zh)
            return []
        for key in duplicates:
            self.add(
                None,
                "document",
                f"the key {key!r} appears twice in one object",
                f"键 {key!r} 在同一个对象中出现了两次",
            )
        if not isinstance(document, dict):
            shape = '{"Version": "1", "Statement": [...]}'
            self.add(None, "document", f"must be an object: {shape}", f"必须是一个对象：{shape}")
            return []
        for name in document:
            if name not in _TOP_ELEMENTS:
                self.add(
                    None,
                    name,
                    "unknown element; a policy has only Version and Statement",
                    "未知元素；权限策略只有 Version 和 Statement 两个元素",
                )
        if document.get("Version") != VERSION:
            self.add(None, "Version", f'must be "{VERSION}"', f'必须是 "{VERSION}"')
        if "Statement" not in document:
            self.add(None, "Statement", "is required", "不能缺少")
        elif document["Statement"] == []:
            self.add(None, "Statement", "must contain at least one statement", "至少需要一条语句")
        raw = document.get("Statement", [])
        return list(enumerate(raw if isinstance(raw, list) else [raw]))

    def statement(self, index: int, raw: object, allowed: Sequence[str]) -> dict[str, Any] | None:
        """The statement as an object, problems noted for elements it may not have."""
        if not isinstance(raw, dict):
            self.add(index, "", "must be an object", "必须是一个对象")
            return None
        for name in raw:
            if name not in allowed:
                self.add(index, name, *_unknown_element(name, allowed))
        return raw

    def effect(self, index: int, raw: dict[str, Any]) -> Effect | None:
        value = raw.get("Effect")
        if value in (Effect.ALLOW.value, Effect.DENY.value):
            return Effect(value)
        required = "is required and " if "Effect" not in raw else ""
        required_zh = "不能缺少，且" if "Effect" not in raw else ""
        self.add(
            index,
            "Effect",
            f'{required}must be "Allow" or "Deny"',
            f'{required_zh}必须是 "Allow" 或 "Deny"',
        )
        return None

    def strings(self, index: int, element: str, raw: object) -> tuple[str, ...]:
        """A string or a non-empty list of non-empty strings; problems otherwise."""
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            self.add(index, element, "must not be an empty list", "不能是空列表")
        elif not all(isinstance(item, str) for item in items):
            self.add(
                index, element, "must be a string or a list of strings", "必须是字符串或字符串列表"
            )
        elif not all(items):
            self.add(index, element, "must not contain an empty string", "不能包含空字符串")
        else:
            return tuple(items)
        return ()

    def conditions(self, index: int, raw: dict[str, Any]) -> tuple[conditions.Condition, ...]:
        compiled, problems = conditions.parse_block(raw.get("Condition", {}))
        for element, message, zh in problems:
            self.add(index, element, message, zh)
        return compiled

    def permission(self, index: int, item: object) -> Statement | None:
        """One statement of a permission policy, or None with its problems noted."""
        before = len(self.problems)
        raw = self.statement(index, item, _STATEMENT_ELEMENTS)
        if raw is None:
            return None
        effect = self.effect(index, raw)
        not_action = "NotAction" in raw
        actions: tuple[str, ...] = ()
        if not_action and "Action" in raw:
            self.add(
                index,
                "Action",
                "use either Action or NotAction, not both",
                "Action 与 NotAction 只能使用其一",
            )
        elif not_action or "Action" in raw:
            element = "NotAction" if not_action else "Action"
            actions = self.strings(index, element, raw[element])
        else:
            self.add(index, "Action", "is required (or NotAction)", "不能缺少（或使用 NotAction）")
        resources: tuple[str, ...] = ()
        if "Resource" not in raw:
            self.add(
                index,
                "Resource",
                'is required; "*" means every resource',
                '不能缺少；"*" 表示所有资源',
            )
        else:
            resources = self.strings(index, "Resource", raw["Resource"])
        for resource in resources:
            if resource != "*" and not resource.startswith("acs:"):
                form = "acs:<service>:<region>:<account-id>:<relative-id>"
                self.add(
                    index,
                    "Resource",
                    f'{resource[:80]!r} is not a resource: use "*" or {form}',
                    f'{resource[:80]!r} 不是资源：请使用 "*" 或 {form}',
                )
        found = self.conditions(index, raw)
        if effect is None or len(self.problems) > before:
            return None
        return Statement(effect, actions, resources, not_action, found)

    def trust(self, index: int, item: object) -> TrustStatement | None:
        """One statement of a trust policy, or None with its problems noted."""
        before = len(self.problems)
        raw = self.statement(index, item, _TRUST_ELEMENTS)
        if raw is None:
            return None
        effect = self.effect(index, raw)
        if "Action" not in raw:
            self.add(index, "Action", f'is required: "{ASSUME_ROLE}"', f'不能缺少："{ASSUME_ROLE}"')
        elif any(
            a.casefold() != _ASSUME_ROLE_FOLDED
            for a in self.strings(index, "Action", raw["Action"])
        ):
            self.add(
                index,
                "Action",
                f'a trust policy allows only "{ASSUME_ROLE}"',
                f'信任策略只允许 "{ASSUME_ROLE}"',
            )
        accounts, services = self.principal(index, raw)
        found = self.conditions(index, raw)
        if effect is None or len(self.problems) > before:
            return None
        return TrustStatement(effect, frozenset(accounts), frozenset(services), found)

    def principal(self, index: int, raw: dict[str, Any]) -> tuple[set[str], set[str]]:
        """The account IDs and casefolded services a trust statement's Principal names."""
        accounts: set[str] = set()
        services: set[str] = set()
        principal = raw.get("Principal")
        if not isinstance(principal, dict) or not principal:
            shape = '{"RAM": ["acs:ram::<account-id>:root"], "Service": ["<service>"]}'
            required = "is required and " if principal is None else ""
            required_zh = "不能缺少，且" if principal is None else ""
            self.add(
                index,
                "Principal",
                f"{required}must be an object like {shape}",
                f"{required_zh}必须是形如 {shape} 的对象",
            )
            return accounts, services
        for kind, values in principal.items():
            element = f"Principal.{kind}"
            if kind not in _PRINCIPAL_KINDS:
                self.add(
                    index,
                    element,
                    "unknown principal type; use RAM or Service",
                    "未知的主体类型；请使用 RAM 或 Service",
                )
            elif kind == "Service":
                services.update(v.casefold() for v in self.strings(index, element, values))
            else:
                for value in self.strings(index, element, values):
                    match = _ROOT_ARN.fullmatch(value)
                    if value == "*" or match:
                        accounts.add(match.group(1) if match else "*")
                    else:
                        root = "acs:ram::<account-id>:root"
                        self.add(
                            index,
                            element,
                            f"{value[:80]!r} is not an account: use {root}",
                            f"{value[:80]!r} 不是账号：请使用 {root}",
                        )
        return accounts, services


def _unknown_element(name: str, allowed: Sequence[str]) -> tuple[str, str]:
    """Why a statement may not hold `name`, in English and in Chinese."""
    if allowed is _TRUST_ELEMENTS and name in ("Resource", "NotResource", "NotAction"):
        return (
            f'is not used in trust policies; use "Action": "{ASSUME_ROLE}" alone',
            f'信任策略中不使用该元素；只需 "Action": "{ASSUME_ROLE}"',
        )
    if name == "NotResource":
        return (
            "is not supported; list the resources in Resource",
            "不支持该元素；请在 Resource 中列出资源",
        )
    if name == "Principal":
        return "only trust policies name a Principal", "只有信任策略才指定 Principal"
    listed = ", ".join(allowed)
    return (
        f"unknown element; a statement has only {listed}",
        f"未知元素；语句只能包含 {listed}",
    )


def _object(pairs: list[tuple[str, Any]], duplicates: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            duplicates.append(key)
        result[key] = value
    return result


class _RefusedConstant(ValueError):
    """NaN or Infinity in a document; _Reader.load turns it into a Problem."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not a JSON number")
        self.name = name


def _refuse_constant(name: str) -> None:
    raise _RefusedConstant(name)


def _read(text: str) -> tuple[Policy, list[Problem]]:
    reader = _Reader()
    read = [reader.permission(index, item) for index, item in reader.load(text)]
    return Policy(tuple(s for s in read if s is not None)), reader.problems


def _read_trust(text: str) -> tuple[TrustPolicy, list[Problem]]:
    reader = _Reader()
    read = [reader.trust(index, item) for index, item in reader.load(text)]
    return TrustPolicy(tuple(s for s in read if s is not None)), reader.problems


def invalid_document(found: Sequence[Problem], label: str = "") -> errors.Invalid:
    """Invalid listing every problem; `label` names the document (`policy[0]: `)."""
    return errors.Invalid(
        label + "; ".join(map(str, found)),
        f"{label}权限策略内容有误：" + "；".join(p.text(errors.CHINESE) for p in found),
        code="InvalidPolicyDocument",
    )


def _valid(policy: _P, found: list[Problem]) -> _P:
    if found:
        raise invalid_document(found)
    return policy


def problems(text: str) -> list[Problem]:
    """Every problem of a permission policy document; empty when it is valid."""
    return _read(text)[1]


def parse(text: str) -> Policy:
    """The compiled policy, or Invalid listing every problem."""
    return _valid(*_read(text))


def trust_problems(text: str) -> list[Problem]:
    """Every problem of a role's trust policy document; empty when it is valid."""
    return _read_trust(text)[1]


def parse_trust(text: str) -> TrustPolicy:
    """The compiled trust policy, or Invalid listing every problem."""
    return _valid(*_read_trust(text))
