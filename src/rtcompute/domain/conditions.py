"""Condition blocks of RAM policies: `{"<Operator>": {"<key>": value-or-list}}`.

A condition is compiled once, when its policy is parsed, into one test per operator and key;
evaluation then only parses the request's values (cached, the same source IP or time is read by
many statements). Listed values that cannot be read (a bad number, date or CIDR) are kept and
never match, and a request value that cannot be read matches nothing: evaluation never raises,
so a malformed request can never turn into a 500 or skip a Deny by crashing its check.

Semantics: the values of one key OR, the keys of one operator AND, the operators AND. A key
missing from the request makes a condition false, except for the negated operators, which mean
"no request value matches any listed value" and so hold when there is no value at all.
"""

from __future__ import annotations

import ipaddress
import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from rtcompute.domain import wildcards

Context = Mapping[str, str | Sequence[str]]
"""Request facts by lower-cased condition key; a sequence is a multi-valued key."""

ValueTest = Callable[[str], bool]
"""Whether one request value matches any of a condition's listed values."""

# the global condition keys (vendor RAM, "global condition keys"), lower-cased as looked up
SOURCE_IP = "acs:sourceip"
CURRENT_TIME = "acs:currenttime"
SECURE_TRANSPORT = "acs:securetransport"
MFA_PRESENT = "acs:mfapresent"

NEGATED_OF = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
}
_NUMERIC_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
}
POSITIVE_OPERATORS = frozenset(
    {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "Bool", "IpAddress"}
    | {f"{kind}{name}" for kind in ("Numeric", "Date") for name in _NUMERIC_COMPARISONS}
)
NEGATED_OPERATORS = frozenset(NEGATED_OF)
OPERATORS = POSITIVE_OPERATORS | NEGATED_OPERATORS

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_CACHE_SIZE = 4096
_MAX_TEXT = 100  # longer than any number, date or address worth reading; keeps the caches small
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@lru_cache(maxsize=_CACHE_SIZE)
def read_number(text: str) -> Decimal | None:
    """A decimal number (no NaN, infinity or `_` separators), or None."""
    if len(text) > _MAX_TEXT or _NUMBER.fullmatch(text) is None:
        return None
    return Decimal(text)


@lru_cache(maxsize=_CACHE_SIZE)
def read_date(text: str) -> int | None:
    """An ISO-8601 date or time as exact microseconds since the epoch (UTC unless it names an
    offset), or None; integers compare several times faster than aware datetimes."""
    if len(text) > _MAX_TEXT:
        return None
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


@lru_cache(maxsize=_CACHE_SIZE)
def read_address(text: str) -> tuple[int, int] | None:
    """One IP address as (version, integer), or None."""
    if len(text) > _MAX_TEXT:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.version, int(address)


def read_network(text: str) -> tuple[int, int, int] | None:
    """A CIDR range or a single address (host bits allowed) as (version, network, mask)."""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return network.version, int(network.network_address), int(network.netmask)


def read_bool(text: str) -> str | None:
    """ "true" or "false" in any case, folded; otherwise None."""
    folded = text.casefold()
    return folded if folded in ("true", "false") else None


def _string_test(operator_name: str, values: tuple[str, ...]) -> ValueTest:
    if operator_name == "StringEquals":
        return frozenset(values).__contains__
    if operator_name == "StringEqualsIgnoreCase":
        folded = frozenset(v.casefold() for v in values)
        return lambda value: value.casefold() in folded
    return wildcards.compile_patterns(values)  # StringLike


def _ordered_test(
    values: tuple[str, ...], read: Callable[[str], Any], compare: Callable[[Any, Any], bool]
) -> ValueTest:
    listed = [parsed for parsed in map(read, values) if parsed is not None]

    def test(value: str) -> bool:
        request = read(value)
        if request is not None:
            for item in listed:
                if compare(request, item):
                    return True
        return False

    return test


def _ip_test(values: tuple[str, ...]) -> ValueTest:
    networks = [network for network in map(read_network, values) if network is not None]

    def test(value: str) -> bool:
        address = read_address(value)
        if address is not None:
            version, number = address
            for network_version, network, mask in networks:
                # IPv4 never matches an IPv6 range, nor the reverse (mapped addresses are IPv6)
                if version == network_version and number & mask == network:
                    return True
        return False

    return test


def _bool_test(values: tuple[str, ...]) -> ValueTest:
    listed = frozenset(b for b in map(read_bool, values) if b is not None)
    return lambda value: read_bool(value) in listed


def value_test(positive_operator: str, values: tuple[str, ...]) -> ValueTest:
    """The compiled test of a positive operator over its listed values."""
    if positive_operator.startswith("String"):
        return _string_test(positive_operator, values)
    if positive_operator.startswith("Numeric"):
        compare = _NUMERIC_COMPARISONS[positive_operator.removeprefix("Numeric")]
        return _ordered_test(values, read_number, compare)
    if positive_operator.startswith("Date"):
        compare = _NUMERIC_COMPARISONS[positive_operator.removeprefix("Date")]
        return _ordered_test(values, read_date, compare)
    if positive_operator == "Bool":
        return _bool_test(values)
    return _ip_test(values)  # IpAddress


@dataclass(frozen=True)
class Condition:
    """One operator applied to one key; `values` are the listed values, normalised to text."""

    operator: str
    key: str
    values: tuple[str, ...]
    _test: ValueTest = field(init=False, repr=False, compare=False)
    _negated: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            # invariant: parse_block refuses unknown operators before it builds a Condition
            raise ValueError(f"unknown condition operator {self.operator!r}")
        object.__setattr__(self, "key", self.key.lower())
        negated = self.operator in NEGATED_OF
        positive = NEGATED_OF.get(self.operator, self.operator)
        object.__setattr__(self, "_test", value_test(positive, self.values))
        object.__setattr__(self, "_negated", negated)

    def holds(self, context: Context) -> bool:
        """Whether the request described by `context` satisfies this condition."""
        value = context.get(self.key)
        if value is None:
            return self._negated
        test = self._test
        if isinstance(value, str):
            hit = test(value)
        elif isinstance(value, Sequence):
            hit = any(isinstance(item, str) and test(item) for item in value)
        else:  # not what a Context holds: no value of it can match
            hit = False
        return hit != self._negated


def all_hold(conditions: Sequence[Condition], context: Context) -> bool:
    """Whether every condition holds (true for none)."""
    return all(condition.holds(context) for condition in conditions)


def normalise_value(raw: object) -> str | None:
    """A listed value as text: strings as they are, booleans "true"/"false", numbers as JSON."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return json.dumps(raw)
    return None


def _values(raw: object) -> tuple[tuple[str, ...], tuple[str, str] | None]:
    """The listed values, or the problem with them (in English and in Chinese)."""
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        return (), ("must list at least one value", "至少需要列出一个值")
    values = tuple(normalise_value(item) for item in items)
    if any(value is None for value in values):
        return (), (
            "values must be strings, numbers or booleans (or a list of them)",
            "值必须是字符串、数字或布尔值（或它们的列表）",
        )
    return tuple(v for v in values if v is not None), None


def parse_block(raw: object) -> tuple[tuple[Condition, ...], list[tuple[str, str, str]]]:
    """Compile a `Condition` element; problems come as (element path, message, Chinese)."""
    problems: list[tuple[str, str, str]] = []
    compiled: list[Condition] = []
    if not isinstance(raw, dict):
        shape = '{"StringEquals": {"key": "value"}}'
        return (), [("Condition", f"must be an object like {shape}", f"必须是形如 {shape} 的对象")]
    for operator_name, block in raw.items():
        where = f"Condition.{operator_name}"
        if operator_name not in OPERATORS:
            hint, hint_zh = _suggest(operator_name)
            problems.append(
                (
                    where,
                    f"unknown condition operator {operator_name!r}{hint}",
                    f"未知的条件运算符 {operator_name!r}{hint_zh}",
                )
            )
            continue
        if not isinstance(block, dict) or not block:
            shape = '{"acs:SourceIp": "..."}'
            problems.append(
                (
                    where,
                    f"must be an object naming keys, like {shape}",
                    f"必须是列出条件键的对象，形如 {shape}",
                )
            )
            continue
        for key, raw_values in block.items():
            if not key:
                problems.append((where, "a condition key must not be empty", "条件键不能为空"))
                continue
            values, problem = _values(raw_values)
            if problem is not None:
                problems.append((f"{where}.{key}", *problem))
                continue
            compiled.append(Condition(operator_name, key, values))
    return tuple(compiled), problems


def _suggest(name: str) -> tuple[str, str]:
    for known in sorted(OPERATORS):
        if known.lower() == name.lower():
            return (
                f' (operators are case-sensitive: "{known}")',
                f'（运算符区分大小写："{known}"）',
            )
    return "", ""


def request_context(
    source_ip: str,
    current_time: datetime,
    secure_transport: bool,
    mfa_present: bool,
    extra: Mapping[str, str | Sequence[str]] | None = None,
) -> Context:
    """The facts of one request under lower-cased keys, with the four global keys filled in."""
    moment = current_time if current_time.tzinfo else current_time.replace(tzinfo=UTC)
    context: dict[str, str | Sequence[str]] = {
        key.lower(): value if isinstance(value, str) else tuple(value)
        for key, value in (extra or {}).items()
    }
    context[SOURCE_IP] = source_ip
    context[CURRENT_TIME] = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    context[SECURE_TRANSPORT] = "true" if secure_transport else "false"
    context[MFA_PRESENT] = "true" if mfa_present else "false"
    return context
