"""The wildcard rules of domain/wildcards.py: `*` and `?` only, every other character literal."""

from __future__ import annotations

import pytest

from rtcompute.domain import wildcards


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        # `*`: any run, including empty, `:` and `/`
        ("*", "", True),
        ("*", "acs:stream:cn:1:project/a/b", True),
        ("stream:*", "stream:", True),
        ("stream:*", "stream:DescribeProject", True),
        ("stream:*", "streams:DescribeProject", False),
        ("stream:*", "xstream:Describe", False),
        ("*Row", "ots:GetRow", True),
        ("*Row", "ots:GetRows", False),
        ("ots:*Row", "ots:Row", True),
        ("acs:stream:*:*:job/*", "acs:stream:cn:1:job/a/b/c", True),
        ("acs:stream:*:*:job/*", "acs:stream:cn:1:project/a", False),
        ("a*b*c", "abc", True),
        ("a*b*c", "a-b-c", True),
        ("a*b*c", "a-c-b", False),
        ("a**b", "ab", True),
        ("a**b", "axyzb", True),
        ("*:*", "oss:GetObject", True),
        ("*:*", "ossGetObject", False),
        # `?`: exactly one character
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("a?c", "abbc", False),
        ("a?c", "a:c", True),
        ("??", "ab", True),
        ("??", "a", False),
        ("?*", "", False),
        ("?*", "x", True),
        ("a?", "a\n", True),
        ("a*", "a\nb", True),
        # every other character literal: no classes, no regex, no escapes
        (".", "a", False),
        (".", ".", True),
        ("a.c", "abc", False),
        ("a.c", "a.c", True),
        ("[abc]", "a", False),
        ("[abc]", "[abc]", True),
        ("bucket[1]*", "bucket[1]/obj", True),
        ("bucket[1]*", "bucket1/obj", False),
        ("[!a]", "b", False),
        ("]", "]", True),
        ("a\\*", "a\\", True),
        ("a\\*", "a\\xyz", True),
        ("a\\?", "a\\b", True),
        ("a\\?", "a?", False),
        ("\\", "\\", True),
        ("^a$", "a", False),
        ("^a$", "^a$", True),
        ("a+", "aa", False),
        ("a+", "a+", True),
        ("(a|b)", "a", False),
        ("(a|b)", "(a|b)", True),
        ("{1}", "{1}", True),
        # empty pattern and subject
        ("", "", True),
        ("", "a", False),
        ("a", "", False),
        # case-sensitive
        ("Stream:*", "stream:x", False),
        ("acs:oss:*:*:Bucket", "acs:oss:cn:1:bucket", False),
    ],
)
def test_pattern_matches(pattern: str, subject: str, expected: bool) -> None:
    assert wildcards.matches(pattern, subject) is expected


@pytest.mark.parametrize(
    ("patterns", "subject", "expected"),
    [
        ((), "anything", False),
        (("a", "b"), "b", True),
        (("a", "b"), "c", False),
        (("ots:List*", "ots:Get*"), "ots:GetRow", True),
        (("ots:List*", "ots:Get*"), "ots:PutRow", False),
        (("ots:DescribeTable", "ots:Get*"), "ots:DescribeTable", True),
        (("ots:DescribeTable", "ots:*Row", "ots:Get*"), "ots:UpdateRow", True),
        (("ots:DescribeTable", "ots:*Row", "ots:Get*"), "ots:GetRange", True),
        (("ots:DescribeTable", "ots:*Row", "ots:Get*"), "ots:ListTable", False),
        (("x", "*"), "anything", True),
        (("a?", "b*"), "a1", True),
        (("a?", "b*"), "a12", False),
    ],
)
def test_pattern_sets_match_any(patterns: tuple[str, ...], subject: str, expected: bool) -> None:
    assert wildcards.compile_patterns(patterns)(subject) is expected


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        ("stream:*", "stream:"),
        ("stream:Describe*", "stream:Describe"),
        ("*:Describe*", ""),
        ("st?eam:*", "st"),
        ("dhs>DeleteTopic", "dhs>DeleteTopic"),
        ("", ""),
    ],
)
def test_literal_prefix(pattern: str, prefix: str) -> None:
    assert wildcards.literal_prefix(pattern) == prefix


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("abc", False), ("a*", True), ("a?", True), ("[a]", False), ("", False)],
)
def test_has_wildcard(pattern: str, expected: bool) -> None:
    assert wildcards.has_wildcard(pattern) is expected
