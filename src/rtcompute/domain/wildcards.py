"""Wildcard patterns of the policy language: `*` is any run of characters, `?` exactly one.

Every other character is literal. `fnmatch` would read `[`, `]` and `!` as character classes
and folds case by platform, so a resource like `acs:oss:*:*:bucket[1]` would match the wrong
objects; here a pattern becomes an anchored regular expression built from `re.escape`d parts.

Patterns are evaluated on every request, so a set of patterns compiles to the cheapest test
that answers it: a set lookup for literals, one `str.startswith` for `prefix*` patterns, and a
single alternation for the rest. Matching is case-sensitive; callers that want it otherwise
(actions) casefold both the patterns and the subject once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

Matcher = Callable[[str], bool]

WILDCARDS = "*?"


def has_wildcard(pattern: str) -> bool:
    """True when the pattern contains `*` or `?`."""
    return "*" in pattern or "?" in pattern


def literal_prefix(pattern: str) -> str:
    """The part of the pattern before its first wildcard (all of it when it has none)."""
    cut = len(pattern)
    for wildcard in WILDCARDS:
        index = pattern.find(wildcard)
        if index != -1:
            cut = min(cut, index)
    return pattern[:cut]


def to_regex(pattern: str) -> str:
    """The pattern as a regular expression source, without anchors."""
    parts: list[str] = []
    literal: list[str] = []
    for char in pattern:
        if char in WILDCARDS:
            if literal:
                parts.append(re.escape("".join(literal)))
                literal.clear()
            if char == "?":
                parts.append(".")
            elif not parts or parts[-1] != ".*":  # `**` means the same as `*`
                parts.append(".*")
        else:
            literal.append(char)
    if literal:
        parts.append(re.escape("".join(literal)))
    return "".join(parts)


def _is_prefix_pattern(pattern: str) -> bool:
    body = pattern.rstrip("*")
    return len(body) < len(pattern) and not has_wildcard(body)


def compile_patterns(patterns: Iterable[str]) -> Matcher:
    """One test answering "does the subject match any of these patterns?"."""
    exact: set[str] = set()
    prefixes: list[str] = []
    others: list[str] = []
    for pattern in patterns:
        if not has_wildcard(pattern):
            exact.add(pattern)
        elif _is_prefix_pattern(pattern):
            prefixes.append(pattern.rstrip("*"))
        else:
            others.append(pattern)
    if "" in prefixes:  # a bare `*`
        return _match_everything
    regex = (
        re.compile("|".join(f"(?:{to_regex(p)})" for p in others), re.DOTALL) if others else None
    )
    return _combine(frozenset(exact), tuple(prefixes), regex)


def compile_pattern(pattern: str) -> Matcher:
    """One pattern's test."""
    return compile_patterns((pattern,))


def matches(pattern: str, subject: str) -> bool:
    """Whether the subject matches the pattern (compiles each time: for tests and one-offs)."""
    return compile_pattern(pattern)(subject)


def _match_everything(subject: str) -> bool:
    return True


def _combine(
    exact: frozenset[str], prefixes: tuple[str, ...], regex: re.Pattern[str] | None
) -> Matcher:
    """The narrowest closure for the parts present; the common shapes skip the others."""
    if regex is None and not prefixes:
        return exact.__contains__
    if regex is None and not exact:

        def prefixed(subject: str) -> bool:
            return subject.startswith(prefixes)

        return prefixed
    if regex is None:

        def exact_or_prefixed(subject: str) -> bool:
            return subject in exact or subject.startswith(prefixes)

        return exact_or_prefixed
    fullmatch = regex.fullmatch
    if not exact and not prefixes:

        def by_regex(subject: str) -> bool:
            return fullmatch(subject) is not None

        return by_regex

    def general(subject: str) -> bool:
        return (
            subject in exact
            or (bool(prefixes) and subject.startswith(prefixes))
            or fullmatch(subject) is not None
        )

    return general
