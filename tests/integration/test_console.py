"""The web console over the real app and database: forms, cookies, CSRF, keys, audit, i18n."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.testclient import TestClient

from rtcompute.api import app as app_module
from rtcompute.console import guard
from rtcompute.console import routes as console_routes
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from tests.conftest import PASSWORD, FakeClock, login

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
CSRF_HEADER = re.compile(r'"X-CSRF-Token": "([^"]+)"')
SECRET = re.compile(r"data-secret>([^<]+)<")
KEY_ID = re.compile(r"<code>(RTCAK[A-Z0-9]+)</code>")


def form_token(api: TestClient, path: str) -> str:
    response = api.get(path)
    assert response.status_code == 200, response.text
    match = CSRF_FIELD.search(response.text)
    assert match, "the form carries no CSRF token"
    return match.group(1)


def signup_via_form(api: TestClient, alias: str) -> None:
    token = form_token(api, "/signup")
    response = api.post(
        "/signup",
        data={
            "csrf_token": token,
            "alias": alias,
            "password": PASSWORD,
            "password_again": PASSWORD,
            "email": f"ops@{alias}.example",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/login/{alias}?created=true"


def signin_via_form(api: TestClient, alias: str, user: str = "") -> str:
    """Sign in through the form; return the page's CSRF token for htmx calls."""
    token = form_token(api, f"/login/{alias}")
    response = api.post(
        f"/login/{alias}",
        data={"csrf_token": token, "user": user, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console"
    page = api.get("/console")
    assert page.status_code == 200
    match = CSRF_HEADER.search(page.text)
    assert match
    return match.group(1)


def trail_of(platform: platform_module.Platform, action: str, outcome: str) -> list[Any]:
    """Audit rows across accounts (failed sign-ins belong to no account yet)."""
    with db.transaction(platform.sessions) as session:
        rows = session.execute(
            select(tables.AuditEvent).where(
                tables.AuditEvent.action == action, tables.AuditEvent.outcome == outcome
            )
        )
        return list(rows.scalars())


def htmx(token: str | None) -> dict[str, str]:
    headers = {"HX-Request": "true"}
    if token is not None:
        headers["X-CSRF-Token"] = token
    return headers


def key_count(api: TestClient, alias: str) -> int:
    headers = login(api, alias)
    response = api.get("/api/v1/access-keys", headers=headers)
    assert response.status_code == 200
    return len(response.json())


def test_signup_signin_and_cookie_flags(api: TestClient) -> None:
    signup_via_form(api, "acme")
    assert "Your account is ready" in api.get("/login/acme?created=true").text
    token = form_token(api, "/login/acme")
    response = api.post(
        "/login/acme",
        data={"csrf_token": token, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("rtc_session=")
    )
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/" in flags
    assert "secure" not in flags  # plain http in tests; https sets it
    overview_page = api.get("/console")
    assert overview_page.status_code == 200
    assert "acme" in overview_page.text
    assert api.get("/", follow_redirects=False).headers["location"] == "/console"


def test_wrong_password_rerenders_the_form_and_is_audited(
    api: TestClient, platform: platform_module.Platform
) -> None:
    signup_via_form(api, "acme")
    token = form_token(api, "/login/acme")
    response = api.post("/login/acme", data={"csrf_token": token, "password": "nope-nope-1"})
    assert response.status_code == 401
    assert "user name or password is wrong" in response.text
    assert "rtc_session" not in api.cookies
    failed = trail_of(platform, "rtc:SignIn", "failed")
    assert [(e.principal, e.error_code) for e in failed] == [("acme", "InvalidCredentials")]


def test_login_start_goes_to_the_account_page(api: TestClient) -> None:
    assert api.get("/", follow_redirects=False).headers["location"] == "/login"
    response = api.get("/login?alias=Acme", follow_redirects=False)
    assert response.headers["location"] == "/login/acme"


def test_csrf_missing_or_wrong_is_refused_and_nothing_is_written(api: TestClient) -> None:
    signup_via_form(api, "acme")
    signin_via_form(api, "acme")
    for headers in (htmx(None), htmx("not-the-token")):
        response = api.post("/console/access-keys", headers=headers)
        assert response.status_code == 403
        assert "CsrfFailed" in response.text
    plain = api.post("/console/access-keys", data={"csrf_token": "forged"})
    assert plain.status_code == 403
    assert "CsrfFailed" in plain.text
    assert key_count(api, "acme") == 0


def test_csrf_before_sign_in_uses_the_double_submit_cookie(api: TestClient) -> None:
    signup_via_form(api, "acme")
    form_token(api, "/login/acme")
    response = api.post("/login/acme", data={"csrf_token": "x" * 43, "password": PASSWORD})
    assert response.status_code == 403
    assert "CsrfFailed" in response.text
    api.cookies.clear()
    response = api.post(
        "/signup", data={"alias": "evil", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert response.status_code == 403
    assert "rtc_session" not in api.cookies


def test_access_key_secret_is_shown_once(api: TestClient) -> None:
    signup_via_form(api, "acme")
    token = signin_via_form(api, "acme")
    created = api.post("/console/access-keys", headers=htmx(token))
    assert created.status_code == 200, created.text
    secret = SECRET.search(created.text)
    assert secret, created.text
    key_id = KEY_ID.search(created.text)
    assert key_id
    assert 'hx-swap-oob="outerHTML"' in created.text
    listing = api.get("/console/access-keys")
    assert key_id.group(1) in listing.text
    assert secret.group(1) not in listing.text
    assert "data-secret" not in listing.text
    # the key works with the secret the fragment showed
    bearer = {"Authorization": f"Bearer {key_id.group(1)}:{secret.group(1)}"}
    assert api.get("/api/v1/me", headers=bearer).status_code == 200


def test_disable_enable_delete_access_key(api: TestClient) -> None:
    signup_via_form(api, "acme")
    token = signin_via_form(api, "acme")
    created = api.post("/console/access-keys", headers=htmx(token)).text
    key_id = KEY_ID.search(created)
    assert key_id
    path = f"/console/access-keys/{key_id.group(1)}"
    disabled = api.post(f"{path}/status", data={"status": "Inactive"}, headers=htmx(token))
    assert disabled.status_code == 200
    assert 'class="status inactive"' in disabled.text
    enabled = api.post(f"{path}/status", data={"status": "Active"}, headers=htmx(token))
    assert 'class="status active"' in enabled.text
    assert api.delete(path, headers=htmx(None)).status_code == 403
    deleted = api.delete(path, headers=htmx(token))
    assert deleted.status_code == 200
    assert key_id.group(1) not in deleted.text
    missing = api.delete(path, headers=htmx(token))
    assert missing.status_code == 404
    assert missing.headers["HX-Retarget"] == "#flash"
    assert key_count(api, "acme") == 0


def test_audit_page_lists_events_with_filters(api: TestClient) -> None:
    signup_via_form(api, "acme")
    token = signin_via_form(api, "acme")
    api.post("/console/access-keys", headers=htmx(token))
    api.post("/console/access-keys", headers=htmx("wrong"))
    page = api.get("/console/audit")
    assert page.status_code == 200
    assert "ram:CreateAccessKey" in page.text
    assert "rtc:SignIn" in page.text
    failed = api.get("/console/audit?action=ram:CreateAccessKey&outcome=failed").text
    assert "CsrfFailed" in failed
    assert "rtc:SignIn" not in failed
    assert api.get("/console/audit?outcome=bogus").status_code == 400


def test_audit_next_page_link(api: TestClient) -> None:
    signup_via_form(api, "acme")
    token = signin_via_form(api, "acme")
    for _ in range(26):
        api.post("/console/access-keys", headers=htmx("wrong"))
        api.post("/console/access-keys", headers=htmx("wrong"))
    first = api.get("/console/audit?action=ram:CreateAccessKey").text
    link = re.search(r'href="([^"]+)" rel="next"', first)
    assert link, "no next-page link with 52 events"
    href = link.group(1).replace("&amp;", "&")
    assert "action=ram%3ACreateAccessKey" in href
    second = api.get(href)
    assert second.status_code == 200
    assert second.text.count("CsrfFailed") == 2
    del token


def test_chinese_page_from_accept_language_and_switch(api: TestClient) -> None:
    page = api.get("/login/acme", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录 acme" in page.text
    assert 'lang="zh-CN"' in page.text
    english = api.get("/login/acme?lang=en", headers={"Accept-Language": "zh-CN"})
    assert "Sign in to acme" in english.text
    assert "rtc_lang=en" in english.headers["set-cookie"]
    assert "Sign in to acme" in api.get("/login/acme", headers={"Accept-Language": "zh-CN"}).text
    signup_via_form(api, "acme")
    signin_via_form(api, "acme")
    chinese = api.get("/console?lang=zh_CN")
    assert "独享模式集群" in chinese.text
    assert "操作审计" in chinese.text


def test_chinese_error_messages_on_sign_up(api: TestClient) -> None:
    chinese = {"Accept-Language": "zh-CN"}
    token = form_token(api, "/signup")
    base = {"csrf_token": token, "alias": "acme", "password": "short", "password_again": "short"}
    weak = api.post("/signup", data=base, headers=chinese)
    assert weak.status_code == 400
    assert "请至少使用 8 个字符" in weak.text
    assert "too weak" not in weak.text and "at least" not in weak.text
    bad_alias = {**base, "alias": "-Bad_Alias", "password": PASSWORD, "password_again": PASSWORD}
    refused = api.post("/signup", data=bad_alias, headers=chinese)
    assert refused.status_code == 400
    assert "账号别名无效" in refused.text
    assert "is not valid" not in refused.text
    english = api.post("/signup", data=base)
    assert "at least 8 characters" in english.text


def test_chinese_sign_in_shows_the_services_sentences_alone(
    api: TestClient, clock: FakeClock
) -> None:
    """The sign-in refusals are the services' own sentences in Chinese, no English beside."""
    chinese = {"Accept-Language": "zh-CN"}
    signup_via_form(api, "acme")
    token = form_token(api, "/login/acme")
    wrong = api.post(
        "/login/acme", data={"csrf_token": token, "password": "wrong-password"}, headers=chinese
    )
    assert wrong.status_code == 401
    assert (
        "账号、用户名或密码错误，或此地址的登录失败次数过多（请等待 15 分钟后再试）" in wrong.text
    )
    assert "is wrong" not in wrong.text
    clock.advance(days=31)
    asked = api.post(
        "/login/acme", data={"csrf_token": token, "password": PASSWORD}, headers=chinese
    )
    assert asked.status_code == 401
    assert "验证码已写入本平台的服务器日志。请向平台运维人员索取" in asked.text
    assert "inactive" not in asked.text and "server log" not in asked.text
    english = api.post("/login/acme", data={"csrf_token": token, "password": PASSWORD})
    assert "the code was written to the server log of this installation" in english.text


def test_ram_user_login_is_refused_without_users(
    api: TestClient, platform: platform_module.Platform
) -> None:
    """No RAM users exist yet: a user name fails, the account identity (empty name) works."""
    signup_via_form(api, "acme")
    token = form_token(api, "/login/acme")
    response = api.post(
        "/login/acme", data={"csrf_token": token, "user": "alice", "password": PASSWORD}
    )
    assert response.status_code == 401
    assert 'value="alice"' in response.text
    assert [e.principal for e in trail_of(platform, "rtc:SignIn", "failed")] == ["alice@acme"]
    signin_via_form(api, "acme", user="")
    assert "acme" in api.get("/console").text
    assert "rtc:SignIn" in api.get("/console/audit?action=rtc:SignIn").text


def test_sign_out_ends_the_session(api: TestClient) -> None:
    signup_via_form(api, "acme")
    token = signin_via_form(api, "acme")
    old_cookie = api.cookies.get("rtc_session")
    assert old_cookie
    response = api.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login/acme"
    assert "rtc_session" not in api.cookies
    api.cookies.set("rtc_session", old_cookie)
    again = api.get("/console", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == "/login/acme"
    refused = api.post("/console/access-keys", headers=htmx(token))
    assert refused.status_code == 401
    assert refused.headers["HX-Redirect"] == "/login/acme"


def test_settings_change_password(api: TestClient) -> None:
    signup_via_form(api, "acme")
    token = signin_via_form(api, "acme")
    assert api.get("/console/settings").status_code == 200
    new = "battery-staple-77"
    data = {"csrf_token": token, "old_password": PASSWORD, "new_password": new}
    mismatch = api.post("/console/settings/password", data={**data, "new_password_again": "x"})
    assert mismatch.status_code == 400
    changed = api.post("/console/settings/password", data={**data, "new_password_again": new})
    assert changed.status_code == 200, changed.text
    assert "Password changed" in changed.text
    login(api, "acme", new)
    begun = api.post("/console/settings/mfa/begin", data={"csrf_token": token})
    assert "otpauth://" in begun.text


def test_nav_sections_all_reachable(api: TestClient) -> None:
    signup_via_form(api, "acme")
    signin_via_form(api, "acme")
    page = api.get("/console").text
    for href in re.findall(r'<li><a href="(/console[^"]*)"', page):
        assert api.get(href).status_code == 200, href
    for label in ("Orders", "Shared projects", "Exclusive clusters", "Kubernetes clusters", "RAM"):
        assert label in page


def test_signed_out_pages_redirect_to_login(api: TestClient) -> None:
    response = api.get("/console/access-keys", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


@pytest.mark.parametrize("settings_overrides", [{"auth": {"public_signup": False}}])
def test_signup_disabled_message(api: TestClient) -> None:
    page = api.get("/signup")
    assert "Public sign-up is turned off" in page.text
    assert 'name="alias"' not in page.text
    token = form_token(api, "/login/acme")  # the same double-submit cookie serves every form
    response = api.post(
        "/signup",
        data={
            "csrf_token": token,
            "alias": "acme",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert response.status_code == 403
    assert "Public sign-up is turned off" in response.text


def console_routes_of(routes: list[Any], *, inside_console: bool = False) -> list[APIRoute]:
    """Routes mounted outside the API: the console's routers, and any route added to the app
    directly (FastAPI nests included routers; the API's own routers are checked by its tests).
    """
    found: list[APIRoute] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            if inside_console or any(inner is r for r in console_routes.ROUTERS):
                found.extend(console_routes_of(list(inner.routes), inside_console=True))
        elif isinstance(route, APIRoute) and (
            inside_console
            or not (route.path.startswith("/api/") or route.path in app_module.UNDECLARED_OK)
        ):
            found.append(route)
    return found


def test_every_console_route_declares_an_action_or_is_public(api: TestClient) -> None:
    for declaration in console_routes.DECLARED:
        assert declaration.public or declaration.action, declaration
    mounted = console_routes_of(list(api.app.routes))  # type: ignore[attr-defined]
    assert len(mounted) >= 15
    declared = {(d.path, method) for d in console_routes.DECLARED for method in d.methods}
    for route in mounted:
        declaration = guard.declaration_of(route)
        assert declaration is not None, f"{route.methods} {route.path} declares nothing"
        for method in route.methods:
            assert (route.path, method) in declared
    writes = [d for d in console_routes.DECLARED if d.methods & {"POST", "DELETE"}]
    assert {d.action for d in writes if not d.public} >= {
        "ram:CreateAccessKey",
        "ram:UpdateAccessKey",
        "ram:DeleteAccessKey",
        "ram:ChangePassword",
        "ram:CreateVirtualMFADevice",
        "ram:BindMFADevice",
        "rtc:SignOut",
    }
    assert {d.action for d in writes if d.public} == {"rtc:SignIn", "rtc:SignUp"}


def test_a_route_without_declaration_is_refused() -> None:
    router = APIRouter()

    @router.get("/console/forgotten")
    def forgotten() -> None: ...

    with pytest.raises(TypeError, match="declares no action"):
        guard.declarations(router.routes)
