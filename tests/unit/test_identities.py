"""The pure rules of domain/identities.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rtcompute import errors
from rtcompute.domain import identities, names

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("alias", ["abc", "a1b", "a-b", "0-0", "a" * 32, "my-company-01"])
def test_valid_aliases(alias: str) -> None:
    assert names.ACCOUNT_ALIAS.check(alias) == alias


@pytest.mark.parametrize(
    "alias",
    ["", "ab", "a" * 33, "-abc", "abc-", "ABC", "a_b", "a b", "a.b", "ábc", "abc\n", "ab\x00c"],
)
def test_invalid_aliases(alias: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        names.ACCOUNT_ALIAS.check(alias)
    assert caught.value.code == "InvalidAccountAlias"
    assert "3-32" in caught.value.message


def test_invalid_alias_message_is_bounded() -> None:
    with pytest.raises(errors.Invalid) as caught:
        names.ACCOUNT_ALIAS.check("x" * 10_000)
    assert len(caught.value.message) < 300


@pytest.mark.parametrize(
    ("password", "name"),
    [
        ("1234567", "acme"),
        ("", "acme"),
        ("acmecorp", "acmecorp"),
        ("AcmeCorp", "acmecorp"),
        ("procemca", "acmecorp"),
        ("x" * 257, "acme"),
    ],
)
def test_weak_passwords(password: str, name: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        identities.check_password(password, name=name, min_length=8)
    assert caught.value.code == "WeakPassword"


@pytest.mark.parametrize(
    ("password", "name"),
    [("12345678", "acme"), ("acmecorp1", "acmecorp"), ("x" * 256, "acme"), ("anything", "")],
)
def test_acceptable_passwords(password: str, name: str) -> None:
    identities.check_password(password, name=name, min_length=8)


def test_min_length_is_configurable() -> None:
    identities.check_password("abcd", name="acme", min_length=4)
    with pytest.raises(errors.Invalid):
        identities.check_password("abcd", name="acme", min_length=12)


@pytest.mark.parametrize("email", ["", "a@b", "owner@acme.example", "a+b@x.y"])
def test_valid_emails(email: str) -> None:
    assert identities.check_email(email) == email


@pytest.mark.parametrize("email", ["nope", "a@b@c", "a b@c.d", "@acme.example", "a@"])
def test_invalid_emails(email: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        identities.check_email(email)
    assert caught.value.code == "InvalidEmail"


def test_display_names() -> None:
    assert identities.check_display_name("  Acme Inc.  ") == "Acme Inc."
    assert identities.check_display_name("账号 ✓") == "账号 ✓"
    for bad in ("x" * 65, "tab\there", "nul\x00", "admin\u202etxt.exe", "\u2066Acme\u2069"):
        with pytest.raises(errors.Invalid) as caught:
            identities.check_display_name(bad)
        assert caught.value.code == "InvalidDisplayName"


def test_emails_refuse_bidi_controls() -> None:
    assert identities.check_email("ops@acme.example") == "ops@acme.example"
    assert identities.check_email("用户@例子.example") == "用户@例子.example"
    with pytest.raises(errors.Invalid) as caught:
        identities.check_email("ops@moc.\u202eelpmaxe")
    assert caught.value.code == "InvalidEmail"
    assert "U+202E" in caught.value.message
    assert caught.value.text("zh-CN").startswith("邮箱地址不得包含双向控制字符（发现 U+202E）")


def test_password_refusals_in_chinese() -> None:
    with pytest.raises(errors.Invalid) as caught:
        identities.check_password("short", name="acme", min_length=8)
    assert caught.value.text("zh-CN") == "密码强度不足：请至少使用 8 个字符"
    differ = identities.passwords_differ()
    assert differ.code == "PasswordMismatch"
    assert differ.text("zh") == "两次输入的密码不一致；请输入相同的密码"
    assert differ.text("en") == "the two passwords differ; type the same password twice"


def test_needs_verification() -> None:
    after = timedelta(days=30)
    assert not identities.needs_verification(None, NOW, after=after)
    assert not identities.needs_verification(NOW - after + timedelta(seconds=1), NOW, after=after)
    assert identities.needs_verification(NOW - after, NOW, after=after)
    assert identities.needs_verification(NOW - timedelta(days=400), NOW, after=after)
    assert not identities.needs_verification(NOW + timedelta(days=1), NOW, after=after)


def test_principal_display() -> None:
    account = identities.IdentityType.ACCOUNT
    user = identities.IdentityType.RAM_USER
    assert identities.principal_display(account, "acme", "acme") == "acme"
    assert identities.principal_display(user, "bob", "acme") == "bob@acme"
    assert identities.IdentityType("role_session") is identities.IdentityType.ROLE_SESSION
