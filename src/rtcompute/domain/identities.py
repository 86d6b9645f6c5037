"""Who can act: the identity types every principal carries, and the rules of signing in."""

from __future__ import annotations

import enum
import re
from datetime import datetime, timedelta

from rtcompute import errors
from rtcompute.domain import text


class IdentityType(enum.StrEnum):
    """Stored on every principal from the start; RAM users and role sessions come later."""

    ACCOUNT = "account"
    RAM_USER = "ram_user"
    ROLE_SESSION = "role_session"


DISPLAY_NAME_MAX = 64
# printable, no white space, no control characters (NUL included) on either side of the @
EMAIL_PATTERN = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,190}$")


def check_display_name(name: str) -> str:
    if len(name) > DISPLAY_NAME_MAX or any(ord(c) < 32 for c in name):
        raise errors.Invalid(
            f"display name must be at most {DISPLAY_NAME_MAX} printable characters",
            f"显示名称最多 {DISPLAY_NAME_MAX} 个可打印字符",
            code="InvalidDisplayName",
        )
    text.refuse_bidi(name, field="display name", field_zh="显示名称", code="InvalidDisplayName")
    return name.strip()


def check_email(email: str) -> str:
    if email and not EMAIL_PATTERN.fullmatch(email):
        raise errors.Invalid(
            f"{email[:60]!r} is not an e-mail address",
            f"{email[:60]!r} 不是有效的邮箱地址",
            code="InvalidEmail",
        )
    return text.refuse_bidi(
        email, field="an e-mail address", field_zh="邮箱地址", code="InvalidEmail"
    )


def check_password(password: str, *, name: str, min_length: int) -> None:
    """The password rule: at least `min_length` characters and not the identity's name."""
    if len(password) < min_length:
        raise errors.Invalid(
            f"password must have at least {min_length} characters",
            f"密码强度不足：请至少使用 {min_length} 个字符",
            code="WeakPassword",
        )
    if len(password) > 256:
        raise errors.Invalid(
            "password must have at most 256 characters",
            "密码最多 256 个字符",
            code="WeakPassword",
        )
    lowered = password.casefold()
    if name and (lowered == name.casefold() or lowered == name.casefold()[::-1]):
        raise errors.Invalid(
            "password must not be the account or user name",
            "密码强度不足：不能与账号别名或用户名相同（或为其倒序）",
            code="WeakPassword",
        )


def passwords_differ() -> errors.Invalid:
    """A form's new password and its repetition differ (the console asks for both)."""
    return errors.Invalid(
        "the two passwords differ; type the same password twice",
        "两次输入的密码不一致；请输入相同的密码",
        code="PasswordMismatch",
    )


def needs_verification(last_activity: datetime | None, now: datetime, *, after: timedelta) -> bool:
    """Guide, 账号安全: after a long time without activity, sign-in is verified again."""
    return last_activity is not None and now - last_activity >= after


def principal_display(identity_type: IdentityType, name: str, alias: str) -> str:
    """How a principal appears in the audit trail and `whoami`."""
    if identity_type is IdentityType.ACCOUNT:
        return alias
    return f"{name}@{alias}"
