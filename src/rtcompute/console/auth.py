"""Console cookies and CSRF: the session cookie, the pre-sign-in double-submit cookie.

The session token lives in an HttpOnly cookie (SameSite=Lax, Secure over https), so page
scripts never see it. Signed in, every state-changing request must echo the session's own
CSRF token (form field or `X-CSRF-Token` header, which htmx sends from `hx-headers` on
<body>). Before sign-in there is no session, so the login and sign-up forms use a random
double-submit cookie (SameSite=Strict) that must equal the form field.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from fastapi import Request, Response

from rtcompute import errors

SESSION_COOKIE = "rtc_session"
CSRF_COOKIE = "rtc_csrf"
ACCOUNT_COOKIE = "rtc_account"  # the last account alias, to send an expired session to its login
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
YEAR_SECONDS = 365 * 24 * 3600


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def set_session(response: Response, request: Request, token: str, alias: str) -> None:
    """No max-age: the server enforces the idle and absolute lifetimes of the session."""
    secure = is_https(request)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/"
    )
    response.set_cookie(
        ACCOUNT_COOKIE,
        alias,
        max_age=YEAR_SECONDS,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    response.delete_cookie(CSRF_COOKIE, path="/")


def clear_session(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request)
    )


def login_path(request: Request) -> str:
    """The sign-in page of the account last signed in from this browser, else /login."""
    alias = request.cookies.get(ACCOUNT_COOKIE)
    return f"/login/{quote(alias, safe='')}" if alias else "/login"


def presession_token(request: Request) -> str:
    """The double-submit token of this browser: the cookie's value, or a new one."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    return existing if 32 <= len(existing) <= 128 else secrets.token_urlsafe(32)


def set_presession_token(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="strict", secure=is_https(request), path="/"
    )


def tokens_match(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return secrets.compare_digest(expected.encode(), given.encode())


async def submitted_token(request: Request) -> str | None:
    """The CSRF token the request carries: the header first, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    value = (await request.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def csrf_failed() -> errors.Forbidden:
    return errors.Forbidden(
        "the form is stale or was not sent by this console; reload the page and retry",
        "表单已过期或并非由本控制台提交；请刷新页面后重试",
        code="CsrfFailed",
    )


async def check_session_csrf(request: Request, expected: str) -> None:
    if not tokens_match(expected, await submitted_token(request)):
        raise csrf_failed()


async def check_presession_csrf(request: Request) -> None:
    if not tokens_match(request.cookies.get(CSRF_COOKIE), await submitted_token(request)):
        raise csrf_failed()
