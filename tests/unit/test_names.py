"""The rules of names: what the OpenAPI document states is what the check accepts."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtcompute import errors
from rtcompute.domain import names, text


@pytest.mark.parametrize("rule", names.RULES, ids=lambda rule: rule.code)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_name_the_pattern_allows_is_accepted_and_storable(
    rule: names.Rule, data: st.DataObject
) -> None:
    name = data.draw(st.from_regex(rule.pattern, fullmatch=True))
    assert rule.check(name) == name  # the length stated fits the pattern's longest name
    assert text.is_storable(name)
    assert text.bidi_control(name) is None


@pytest.mark.parametrize("rule", names.RULES, ids=lambda rule: rule.code)
@settings(max_examples=80, deadline=None)
@given(value=st.text(max_size=140))
def test_a_name_outside_the_pattern_is_refused_with_the_rule_s_code(
    rule: names.Rule, value: str
) -> None:
    if re.fullmatch(rule.pattern, value):
        assert rule.fits(value)
        return
    with pytest.raises(errors.Invalid) as refused:
        rule.check(value)
    assert refused.value.code == rule.code
    assert rule.words in refused.value.message
    assert rule.words_zh.strip() in refused.value.zh


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        (names.PROJECT, ["abc", "stream_01", "A" + "b" * 63], ["ab", "1abc", "a-b", "a" * 65]),
        (names.BUCKET, ["abc", "my-bucket-1"], ["ab", "-abc", "abc-", "ABC", "a_b"]),
        (names.USER, ["alice", "a.b@c-d_e", "1"], ["", ".a", "a b", "a" * 129]),
        (
            names.ENGINE_VERSION,
            ["flink-2.2.1", "flink-1.20.3"],
            ["2.2.1", "flink-2.2", "blink-3.0.0"],
        ),
        (names.MACHINE_TYPE, ["4c16g", "64c256g"], ["0c4g", "4c", "4C16G"]),
    ],
)
def test_the_guide_s_names(rule: names.Rule, good: list[str], bad: list[str]) -> None:
    assert all(rule.fits(name) for name in good), good
    assert not any(rule.fits(name) for name in bad), bad


@pytest.mark.parametrize("token", ["0", "-1", "abc", "١٢", str(2**63), "1.5"])
def test_a_page_token_not_handed_out_is_refused_in_both_languages(token: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        text.parse_page_token(token)
    assert caught.value.code == "InvalidPageToken"
    assert (
        caught.value.text("zh-CN") == "该分页标记（page_token）并非由本服务返回；请从第一页重新开始"
    )
    assert text.parse_page_token(str(2**63 - 1)) == 2**63 - 1
    assert text.parse_page_token("") is None


@pytest.mark.parametrize("rule", names.RULES, ids=lambda rule: rule.code)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_the_console_s_input_pattern_is_the_rule(rule: names.Rule, data: st.DataObject) -> None:
    """The HTML pattern (implicitly anchored) accepts and refuses what the rule does."""
    good = data.draw(st.from_regex(rule.pattern, fullmatch=True))
    bad = data.draw(st.text(max_size=80))
    for value in (good, bad):
        assert (re.fullmatch(rule.html_pattern, value) is not None) == (
            re.fullmatch(rule.pattern, value) is not None
        )
    assert not rule.html_pattern.startswith("^") and not rule.html_pattern.endswith("$")
    assert re.search(r"(?<!\\)-\]", rule.html_pattern) is None  # valid with the `v` flag
