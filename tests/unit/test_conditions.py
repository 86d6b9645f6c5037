"""Condition operators of domain/conditions.py, one table row per operator and situation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest

from rtcompute.domain import conditions

KEY = "test:key"
MISSING = None

Request = str | Sequence[str] | None


def holds(operator: str, listed: Sequence[str], request: Request) -> bool:
    condition = conditions.Condition(operator, KEY, tuple(listed))
    context: dict[str, str | Sequence[str]] = {} if request is None else {KEY: request}
    return condition.holds(context)


@pytest.mark.parametrize(
    ("operator", "listed", "request_value", "expected"),
    [
        # StringEquals: exact, case-sensitive, values OR
        ("StringEquals", ["a"], "a", True),
        ("StringEquals", ["a"], "A", False),
        ("StringEquals", ["a", "b"], "b", True),
        ("StringEquals", ["a*"], "ab", False),
        ("StringEquals", [""], "", True),
        ("StringEquals", ["a"], MISSING, False),
        ("StringEquals", ["a"], ["x", "a"], True),
        ("StringEquals", ["a"], ["x", "y"], False),
        ("StringEquals", ["a"], [], False),
        ("StringNotEquals", ["a"], "a", False),
        ("StringNotEquals", ["a"], "b", True),
        ("StringNotEquals", ["a", "b"], "b", False),
        ("StringNotEquals", ["a"], MISSING, True),
        ("StringNotEquals", ["a"], ["x", "a"], False),
        ("StringNotEquals", ["a"], ["x", "y"], True),
        ("StringNotEquals", ["a"], [], True),
        # IgnoreCase: casefold on both sides
        ("StringEqualsIgnoreCase", ["Prod"], "PROD", True),
        ("StringEqualsIgnoreCase", ["straße"], "STRASSE", True),
        ("StringEqualsIgnoreCase", ["prod"], "dev", False),
        ("StringEqualsIgnoreCase", ["prod"], MISSING, False),
        ("StringEqualsIgnoreCase", ["prod"], ["DEV", "PROD"], True),
        ("StringNotEqualsIgnoreCase", ["Prod"], "pRoD", False),
        ("StringNotEqualsIgnoreCase", ["prod"], "dev", True),
        ("StringNotEqualsIgnoreCase", ["prod"], MISSING, True),
        ("StringNotEqualsIgnoreCase", ["prod"], ["dev", "PROD"], False),
        # StringLike: the wildcard rules, case-sensitive
        ("StringLike", ["proj-*"], "proj-a", True),
        ("StringLike", ["proj-*"], "Proj-a", False),
        ("StringLike", ["proj-?"], "proj-ab", False),
        ("StringLike", ["a.c"], "abc", False),
        ("StringLike", ["[a]"], "[a]", True),
        ("StringLike", ["x", "p*"], ["q", "pp"], True),
        ("StringLike", ["p*"], MISSING, False),
        ("StringNotLike", ["proj-*"], "proj-a", False),
        ("StringNotLike", ["proj-*"], "other", True),
        ("StringNotLike", ["proj-*"], MISSING, True),
        ("StringNotLike", ["proj-*"], ["other", "proj-b"], False),
        # Numeric: numbers compare as numbers, malformed on either side never matches
        ("NumericEquals", ["10"], "10", True),
        ("NumericEquals", ["10"], "10.0", True),
        ("NumericEquals", ["10"], "1e1", True),
        ("NumericEquals", ["10"], "+10", True),
        ("NumericEquals", ["10"], "11", False),
        ("NumericEquals", ["10", "11"], "11", True),
        ("NumericEquals", ["9007199254740993"], "9007199254740992", False),
        ("NumericEquals", ["10"], "ten", False),
        ("NumericEquals", ["10"], "", False),
        ("NumericEquals", ["10"], "1_0", False),
        ("NumericEquals", ["10"], " 10", False),
        ("NumericEquals", ["nan"], "nan", False),
        ("NumericEquals", ["inf"], "inf", False),
        ("NumericEquals", ["ten"], "10", False),
        ("NumericEquals", ["10"], "\u0661\u0660", False),  # Arabic-Indic digits
        ("NumericEquals", ["1e999999999999"], "1e999999999999", True),
        ("NumericEquals", ["10"], MISSING, False),
        ("NumericNotEquals", ["10"], "10", False),
        ("NumericNotEquals", ["10"], "11", True),
        ("NumericNotEquals", ["10"], MISSING, True),
        ("NumericNotEquals", ["10"], ["9", "10"], False),
        ("NumericNotEquals", ["10"], "junk", True),
        ("NumericLessThan", ["10"], "9.99", True),
        ("NumericLessThan", ["10"], "10", False),
        ("NumericLessThan", ["10"], "-1e3", True),
        ("NumericLessThan", ["10"], "junk", False),
        ("NumericLessThanEquals", ["10"], "10", True),
        ("NumericLessThanEquals", ["10"], "10.01", False),
        ("NumericGreaterThan", ["10"], "10", False),
        ("NumericGreaterThan", ["10"], "10.5", True),
        ("NumericGreaterThan", ["10", "100"], "50", True),
        ("NumericGreaterThan", ["10"], ["1", "2"], False),
        ("NumericGreaterThan", ["10"], ["1", "20"], True),
        ("NumericGreaterThanEquals", ["10"], "10", True),
        ("NumericGreaterThanEquals", ["10"], "9", False),
        ("NumericGreaterThanEquals", ["10"], MISSING, False),
        # Date: ISO-8601, time-zone aware, no offset means UTC
        ("DateEquals", ["2026-05-01T12:00:00Z"], "2026-05-01T20:00:00+08:00", True),
        ("DateEquals", ["2026-05-01T12:00:00Z"], "2026-05-01T12:00:00", True),
        ("DateEquals", ["2026-05-01T12:00:00z"], "2026-05-01T12:00:00+00:00", True),
        ("DateEquals", ["2026-05-01T12:00:00Z"], "2026-05-01T12:00:00+08:00", False),
        ("DateEquals", ["2026-05-01"], "2026-05-01T00:00:00Z", True),
        ("DateEquals", ["2026-05-01T12:00:00Z"], "yesterday", False),
        ("DateEquals", ["2026-13-01T00:00:00Z"], "2026-13-01T00:00:00Z", False),
        ("DateEquals", ["2026-05-01T12:00:00Z"], "", False),
        ("DateNotEquals", ["2026-05-01T12:00:00Z"], "2026-05-01T20:00:00+08:00", False),
        ("DateNotEquals", ["2026-05-01T12:00:00Z"], "2026-05-01T12:00:01Z", True),
        ("DateNotEquals", ["2026-05-01T12:00:00Z"], MISSING, True),
        ("DateLessThan", ["2026-05-01T12:00:00Z"], "2026-05-01T19:59:59+08:00", True),
        ("DateLessThan", ["2026-05-01T12:00:00Z"], "2026-05-01T20:00:00+08:00", False),
        ("DateLessThan", ["2026-05-01T12:00:00+08:00"], "2026-05-01T04:00:00Z", False),
        ("DateLessThan", ["2026-05-01T12:00:00+08:00"], "2026-05-01T03:59:59Z", True),
        ("DateLessThan", ["2026-05-01T12:00:00Z"], "not a date", False),
        ("DateLessThan", ["2026-05-01T12:00:00Z"], MISSING, False),
        ("DateLessThanEquals", ["2026-05-01T12:00:00Z"], "2026-05-01T12:00:00Z", True),
        ("DateGreaterThan", ["2026-05-01T12:00:00Z"], "2026-05-01T12:00:00.000001Z", True),
        ("DateGreaterThan", ["2026-05-01T12:00:00Z"], "2026-05-01T12:00:00Z", False),
        ("DateGreaterThanEquals", ["2026-05-01T12:00:00Z"], "2026-05-01T12:00:00Z", True),
        ("DateGreaterThan", ["0001-01-01T00:00:00+01:00"], "0001-01-01T00:00:00Z", True),
        ("DateLessThan", ["9999-12-31T23:59:59-01:00"], "9999-12-31T23:59:59Z", True),
        ("DateGreaterThanEquals", ["2026-05-01T12:00:00-01:00"], "2026-05-01T12:30:00Z", False),
        # Bool: "true"/"false" in any case
        ("Bool", ["true"], "true", True),
        ("Bool", ["true"], "TRUE", True),
        ("Bool", ["True"], "true", True),
        ("Bool", ["true"], "false", False),
        ("Bool", ["false"], "false", True),
        ("Bool", ["true"], "yes", False),
        ("Bool", ["true"], "1", False),
        ("Bool", ["yes"], "yes", False),
        ("Bool", ["true"], MISSING, False),
        ("Bool", ["true"], ["false", "true"], True),
        # IpAddress: CIDR ranges and single addresses, non-strict
        ("IpAddress", ["10.0.0.0/8"], "10.255.255.255", True),
        ("IpAddress", ["10.0.0.0/8"], "11.0.0.0", False),
        ("IpAddress", ["10.0.0.0/8"], "9.255.255.255", False),
        ("IpAddress", ["192.168.1.0/24"], "192.168.1.0", True),
        ("IpAddress", ["192.168.1.0/24"], "192.168.1.255", True),
        ("IpAddress", ["192.168.1.0/24"], "192.168.2.0", False),
        ("IpAddress", ["192.168.1.7/24"], "192.168.1.200", True),
        ("IpAddress", ["192.168.1.7"], "192.168.1.7", True),
        ("IpAddress", ["192.168.1.7"], "192.168.1.8", False),
        ("IpAddress", ["192.168.1.7/32"], "192.168.1.7", True),
        ("IpAddress", ["0.0.0.0/0"], "8.8.8.8", True),
        ("IpAddress", ["1.2.3.4", "10.0.0.0/8"], "10.1.1.1", True),
        ("IpAddress", ["2001:db8::/32"], "2001:db8::1", True),
        ("IpAddress", ["2001:db8::/32"], "2001:db9::1", False),
        ("IpAddress", ["0.0.0.0/0"], "2001:db8::1", False),
        ("IpAddress", ["::/0"], "1.2.3.4", False),
        ("IpAddress", ["1.2.3.0/24"], "::ffff:1.2.3.4", False),
        ("IpAddress", ["::ffff:0:0/96"], "::ffff:1.2.3.4", True),
        ("IpAddress", ["::/96"], "0.0.0.1", False),
        ("IpAddress", ["10.0.0.0/8"], "10.0.0.256", False),
        ("IpAddress", ["10.0.0.0/8"], "10.0.0.0/8", False),
        ("IpAddress", ["10.0.0.0/8"], "", False),
        ("IpAddress", ["10.0.0.0/33"], "10.0.0.1", False),
        ("IpAddress", ["banana"], "10.0.0.1", False),
        ("IpAddress", ["banana", "10.0.0.0/8"], "10.0.0.1", True),
        ("IpAddress", ["10.0.0.0/8"], MISSING, False),
        ("IpAddress", ["10.0.0.0/8"], ["8.8.8.8", "10.0.0.1"], True),
        ("NotIpAddress", ["10.0.0.0/8"], "10.0.0.1", False),
        ("NotIpAddress", ["10.0.0.0/8"], "11.0.0.1", True),
        ("NotIpAddress", ["10.0.0.0/8"], MISSING, True),
        ("NotIpAddress", ["10.0.0.0/8"], ["8.8.8.8", "10.0.0.1"], False),
        ("NotIpAddress", ["0.0.0.0/0"], "::1", True),
        ("NotIpAddress", ["10.0.0.0/8"], "not-an-ip", True),
    ],
)
def test_operator(operator: str, listed: list[str], request_value: Request, expected: bool) -> None:
    assert holds(operator, listed, request_value) is expected


@pytest.mark.parametrize("operator", sorted(conditions.OPERATORS))
@pytest.mark.parametrize("junk", ["", "\x00", "::::", "9" * 500, "☃", "1e", "T", "/", "Z"])
def test_malformed_values_never_raise(operator: str, junk: str) -> None:
    assert isinstance(holds(operator, [junk], junk), bool)
    assert isinstance(holds(operator, ["1"], [junk, junk]), bool)


@pytest.mark.parametrize("operator", sorted(conditions.OPERATORS))
def test_a_missing_key_holds_only_for_negated_operators(operator: str) -> None:
    assert holds(operator, ["x"], MISSING) is (operator in conditions.NEGATED_OPERATORS)


def test_every_negated_operator_has_a_positive_twin() -> None:
    assert set(conditions.NEGATED_OF.values()) <= conditions.POSITIVE_OPERATORS
    assert len(conditions.OPERATORS) == 21


def test_keys_are_case_insensitive() -> None:
    condition = conditions.Condition("StringEquals", "Stream:ProjectName", ("p",))
    assert condition.key == "stream:projectname"
    assert condition.holds({"stream:projectname": "p"})


def test_unknown_operator_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="stringequals"):
        conditions.Condition("stringequals", KEY, ("a",))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("a", "a"), (True, "true"), (False, "false"), (10, "10"), (1.5, "1.5"), (None, None)],
)
def test_normalise_value(raw: object, expected: str | None) -> None:
    assert conditions.normalise_value(raw) == expected


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ({}, []),
        ({"StringEquals": {"a": "b"}}, [("StringEquals", "a", ("b",))]),
        ({"StringEquals": {"a": ["b", "c"]}}, [("StringEquals", "a", ("b", "c"))]),
        ({"Bool": {"acs:SecureTransport": True}}, [("Bool", "acs:securetransport", ("true",))]),
        ({"NumericLessThan": {"n": 5}}, [("NumericLessThan", "n", ("5",))]),
        (
            {"StringEquals": {"a": "1", "b": "2"}, "IpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
            [
                ("StringEquals", "a", ("1",)),
                ("StringEquals", "b", ("2",)),
                ("IpAddress", "acs:sourceip", ("10.0.0.0/8",)),
            ],
        ),
    ],
)
def test_parse_block(block: object, expected: list[tuple[str, str, tuple[str, ...]]]) -> None:
    compiled, problems = conditions.parse_block(block)
    assert problems == []
    assert [(c.operator, c.key, c.values) for c in compiled] == expected


@pytest.mark.parametrize(
    ("block", "element", "fragment"),
    [
        ("StringEquals", "Condition", "must be an object"),
        (["x"], "Condition", "must be an object"),
        ({"StringEqual": {"a": "b"}}, "Condition.StringEqual", "unknown condition operator"),
        ({"stringequals": {"a": "b"}}, "Condition.stringequals", '"StringEquals"'),
        ({"StringEquals": "a"}, "Condition.StringEquals", "must be an object naming keys"),
        ({"StringEquals": {}}, "Condition.StringEquals", "must be an object naming keys"),
        ({"StringEquals": {"a": []}}, "Condition.StringEquals.a", "at least one value"),
        ({"StringEquals": {"a": None}}, "Condition.StringEquals.a", "strings, numbers or"),
        ({"StringEquals": {"a": {"b": "c"}}}, "Condition.StringEquals.a", "strings, numbers"),
        ({"StringEquals": {"a": ["b", None]}}, "Condition.StringEquals.a", "strings, numbers"),
        ({"StringEquals": {"a": [["b"]]}}, "Condition.StringEquals.a", "strings, numbers"),
        ({"StringEquals": {"": "b"}}, "Condition.StringEquals", "must not be empty"),
    ],
)
def test_parse_block_problems(block: object, element: str, fragment: str) -> None:
    compiled, problems = conditions.parse_block(block)
    assert compiled == ()
    assert len(problems) == 1
    assert problems[0][0] == element
    assert fragment in problems[0][1]
    assert re.search(r"[\u4e00-\u9fff]", problems[0][2])  # and its Chinese sentence


def test_request_context_fills_the_global_keys() -> None:
    moment = datetime(2026, 5, 1, 20, 0, tzinfo=timezone(timedelta(hours=8)))
    context = conditions.request_context(
        "10.0.0.1", moment, True, False, {"Stream:ProjectName": "p", "Stream:Tags": ["a", "b"]}
    )
    assert context == {
        "acs:sourceip": "10.0.0.1",
        "acs:currenttime": "2026-05-01T12:00:00Z",
        "acs:securetransport": "true",
        "acs:mfapresent": "false",
        "stream:projectname": "p",
        "stream:tags": ("a", "b"),
    }


def test_request_context_takes_a_naive_time_as_utc() -> None:
    context = conditions.request_context("::1", datetime(2026, 5, 1, 12), False, True)
    assert context["acs:currenttime"] == "2026-05-01T12:00:00Z"
    assert context["acs:mfapresent"] == "true"
    assert context["acs:securetransport"] == "false"


def test_request_context_time_compares_with_listed_dates() -> None:
    context = conditions.request_context("::1", datetime(2026, 5, 1, 12, tzinfo=UTC), True, True)
    before = conditions.Condition("DateLessThan", "acs:CurrentTime", ("2026-05-01T20:00:01+08:00",))
    after = conditions.Condition("DateGreaterThan", "acs:CurrentTime", ("2026-05-01T12:00:00Z",))
    assert before.holds(context)
    assert not after.holds(context)


def test_values_that_are_not_strings_in_a_context_match_nothing() -> None:
    condition = conditions.Condition("StringEquals", KEY, ("1",))
    negated = conditions.Condition("StringNotEquals", KEY, ("1",))
    bad: dict[str, object] = {KEY: 1}
    assert condition.holds(bad) is False  # type: ignore[arg-type]
    assert negated.holds(bad) is True  # type: ignore[arg-type]
    assert condition.holds({KEY: [1, "1"]}) is True  # type: ignore[list-item]
