"""Hostile and malformed input to the console: never a 5xx, never a bad row (both databases).

Every console route that takes text from a form, a query string or a path is fed NUL
characters, very long strings, quotes, SQL and script fragments and non-ASCII text. A value
no database can store is refused with a 4xx error page (sign-in answers it like any other
wrong credentials); nothing that carries a NUL or control character is written. Ends with
property-based tests (hypothesis) of the sign-in and sign-up forms and the audit filters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.testclient import TestClient

from rtcompute.services.kernel import accounts
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from tests.conftest import PASSWORD
from tests.integration import test_bad_input as api_bad_input
from tests.integration.test_console import (
    CSRF_HEADER,
    form_token,
    htmx,
    signin_via_form,
    signup_via_form,
    trail_of,
)

# the API's odd strings, less lone surrogates (an HTTP client cannot even encode them in a
# form or a URL), plus DEL, which the console refuses as a control character
ODD_STRINGS = [
    value
    for value in api_bad_input.ODD_STRINGS
    if all(not 0xD800 <= ord(c) <= 0xDFFF for c in value)
] + ["\x7f"]
NUL_STRINGS = ["a\x00b", "\x00", "acme\x00"]
IDS = [f"{n}:{value[:12]!r}" for n, value in enumerate(ODD_STRINGS)]


def q(value: str) -> str:
    """Percent-encode a value for a URL; lone surrogates travel as their UTF-8-ish bytes."""
    return quote(value, safe="", errors="surrogatepass")


def form_body(data: dict[str, str]) -> str:
    """A urlencoded body built by hand, so lone surrogates can be sent (httpx refuses them)."""
    return "&".join(f"{q(name)}={q(value)}" for name, value in data.items())


def post_form(api: TestClient, path: str, data: dict[str, str], **kwargs: Any) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **kwargs.pop("headers", {})}
    return api.post(path, content=form_body(data), headers=headers, **kwargs)


def assert_page_4xx(response: Any, status: int | None = None) -> None:
    """A 4xx the console renders as HTML (an error page or the form with its error)."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if status is not None:
        assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html"), response.headers
    assert "Traceback" not in response.text


def unstorable_or_control(value: str | None) -> bool:
    return value is not None and (
        "\x00" in value or any(unicodedata.category(c) in ("Cc", "Cs") for c in value)
    )


def bad_rows(platform: platform_module.Platform) -> list[tuple[str, str, str]]:
    with db.transaction(platform.sessions) as session:
        rows = session.execute(select(tables.Account)).scalars()
        return [
            (row.alias, row.display_name, row.email or "")
            for row in rows
            if any(unstorable_or_control(v) for v in (row.alias, row.display_name, row.email))
        ]


def account_count(platform: platform_module.Platform) -> int:
    with db.transaction(platform.sessions) as session:
        return session.scalar(select(func.count()).select_from(tables.Account)) or 0


@pytest.fixture
def acme(api: TestClient) -> str:
    """An account signed in through the console; returns the page's CSRF token."""
    signup_via_form(api, "acme")
    return signin_via_form(api, "acme")


# ---------------------------------------------------------------- audit page tokens and filters


@pytest.mark.parametrize(
    "token",
    ["²", "٣", "99999999999999999999", "9" * 19, "-5", "0", "abc", "1.5", "1e3", " 7x", "\x00"],
)
def test_audit_page_token_not_handed_out_is_400(api: TestClient, acme: str, token: str) -> None:
    response = api.get(f"/console/audit?page_token={q(token)}")
    assert_page_4xx(response, 400)
    assert "InvalidPageToken" in response.text


# audit_events.id is 64-bit on both databases (migration 0003): every token up to
# text.MAX_PAGE_TOKEN must reach the query without an "integer out of range" (a 500)
INT4_MAX = 2**31 - 1


@pytest.mark.parametrize("token", ["", " ", "5", str(INT4_MAX), str(INT4_MAX + 1), str(2**63 - 1)])
def test_audit_page_token_we_could_hand_out_is_fine(api: TestClient, acme: str, token: str) -> None:
    assert api.get(f"/console/audit?page_token={q(token)}").status_code == 200


@pytest.mark.parametrize("value", ODD_STRINGS, ids=IDS)
def test_odd_audit_filters(api: TestClient, acme: str, value: str) -> None:
    for name in ("action", "principal", "outcome", "page_token", "lang", "other"):
        response = api.get(f"/console/audit?{name}={q(value)}")
        assert response.status_code < 500, (name, response.text[:300])
        if response.status_code >= 400:
            assert_page_4xx(response)
        if "\x00" in value and name in ("action", "principal", "outcome", "page_token"):
            assert_page_4xx(response)


def test_audit_filter_with_a_nul_is_refused_in_chinese_too(api: TestClient, acme: str) -> None:
    response = api.get("/console/audit?action=a%00b", headers={"Accept-Language": "zh-CN"})
    assert_page_4xx(response)
    assert "InvalidParameter" in response.text
    assert "参数" in response.text


# ---------------------------------------------------------------- sign-in


@pytest.mark.parametrize("value", ODD_STRINGS, ids=IDS)
def test_odd_alias_in_the_sign_in_path(
    api: TestClient, platform: platform_module.Platform, value: str
) -> None:
    signup_via_form(api, "acme")
    token = form_token(api, "/login/acme")
    page = api.get(f"/login/{q(value)}")
    assert page.status_code < 500, page.text[:300]
    response = post_form(
        api, f"/login/{q(value)}", {"csrf_token": token, "password": PASSWORD, "user": ""}
    )
    if value.strip() == "" or "/" in value:  # another path, or a sign-in page of no account
        assert response.status_code < 500
        assert "rtc_session" not in api.cookies
        return
    assert_page_4xx(response, 401)
    assert "user name or password is wrong" in response.text
    assert "rtc_session" not in api.cookies


@pytest.mark.parametrize("value", ODD_STRINGS, ids=IDS)
def test_odd_user_and_code_in_the_sign_in_form(
    api: TestClient, platform: platform_module.Platform, value: str
) -> None:
    signup_via_form(api, "acme")
    token = form_token(api, "/login/acme")
    base = {"csrf_token": token, "password": PASSWORD}
    as_user = post_form(api, "/login/acme", {**base, "user": value}, follow_redirects=False)
    if len(value) > 200:
        assert_page_4xx(as_user)  # longer than any user name: refused by the form's limit
    elif value.strip():
        assert_page_4xx(as_user, 401)
        assert "user name or password is wrong" in as_user.text
    else:
        assert as_user.status_code == 303  # blank user name: the account identity
        api.cookies.delete("rtc_session")
    with_code = post_form(api, "/login/acme", {**base, "password": "wrong-wrong-1", "code": value})
    assert with_code.status_code < 500, with_code.text[:300]
    assert_page_4xx(with_code)
    assert "rtc_session" not in api.cookies


def test_nul_sign_in_is_audited_with_a_storable_name(
    api: TestClient, platform: platform_module.Platform
) -> None:
    signup_via_form(api, "acme")
    token = form_token(api, "/login/acme")
    response = post_form(
        api, "/login/acme", {"csrf_token": token, "user": "bob\x00", "password": PASSWORD}
    )
    assert_page_4xx(response, 401)
    response = post_form(
        api, f"/login/{q('acme' + chr(0))}", {"csrf_token": token, "password": "x"}
    )
    assert_page_4xx(response, 401)
    failed = [(e.principal, e.error_code) for e in trail_of(platform, "rtc:SignIn", "failed")]
    assert sorted(failed) == [
        ("acme\ufffd", "InvalidCredentials"),
        ("bob\ufffd@acme", "InvalidCredentials"),
    ]


@pytest.mark.parametrize("value", ODD_STRINGS, ids=IDS)
def test_odd_alias_in_the_login_start_query(api: TestClient, value: str) -> None:
    response = api.get(f"/login?alias={q(value)}", follow_redirects=False)
    assert response.status_code < 500, response.text[:300]
    if "\x00" in value or "\r" in value:
        assert_page_4xx(response)


# ---------------------------------------------------------------- sign-up


@pytest.mark.parametrize("value", ODD_STRINGS, ids=IDS)
def test_odd_strings_in_the_sign_up_form(
    api: TestClient, platform: platform_module.Platform, value: str
) -> None:
    token = form_token(api, "/signup")
    created = 0
    for n, field in enumerate(("alias", "display_name", "email", "password", "password_again")):
        data = {
            "csrf_token": token,
            "alias": f"newco{n}",
            "password": PASSWORD,
            "password_again": PASSWORD,
            field: value,
        }
        if field == "password":
            data["password_again"] = value
        response = post_form(api, "/signup", data, follow_redirects=False)
        if response.status_code == 303:  # a harmless display name, e-mail or password is fine
            assert field not in ("alias", "password_again")
            created += 1
        else:
            assert_page_4xx(response)
        if "\x00" in value:
            assert response.status_code != 303, field
    assert account_count(platform) == created
    assert bad_rows(platform) == []


def test_sign_up_refusals_keep_the_form(api: TestClient) -> None:
    token = form_token(api, "/signup")
    base = {"csrf_token": token, "password": PASSWORD, "password_again": PASSWORD}
    response = post_form(api, "/signup", {**base, "alias": "x'; DROP TABLE accounts; --"})
    assert_page_4xx(response, 400)
    assert 'name="alias"' in response.text
    assert "x&#39;; drop table accounts; --" in response.text  # echoed (lower-cased), escaped
    script = post_form(api, "/signup", {**base, "alias": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in script.text
    assert "&lt;script&gt;" in script.text


# ---------------------------------------------------------------- the operator's accounts page


@pytest.mark.parametrize("settings_overrides", [{"bootstrap_password": PASSWORD}])
@pytest.mark.parametrize("value", ODD_STRINGS, ids=IDS)
def test_odd_strings_in_the_accounts_form(
    api: TestClient, platform: platform_module.Platform, value: str
) -> None:
    assert accounts.bootstrap(platform) is not None
    signin_via_form(api, platform.settings.bootstrap_account)
    token = form_token(api, "/console/accounts")
    before = account_count(platform)
    created = 0
    for n, field in enumerate(("alias", "display_name", "email", "password")):
        data = {"csrf_token": token, "alias": f"tenant-{n}", "password": "tenant-pass-1"}
        response = post_form(api, "/console/accounts", {**data, field: value})
        if response.status_code == 201:
            assert field != "alias"
            created += 1
        else:
            assert_page_4xx(response)
        if "\x00" in value:
            assert response.status_code != 201, field
    assert account_count(platform) == before + created
    assert bad_rows(platform) == []


# ---------------------------------------------------------------- access keys and settings


@pytest.mark.parametrize("value", [*ODD_STRINGS, "RTCAK" + "A" * 19, "RTCAK%00AAA"], ids=str)
def test_odd_access_key_ids(api: TestClient, acme: str, value: str) -> None:
    path = f"/console/access-keys/{q(value)}"
    for response in (
        api.post(f"{path}/status", data={"status": "Active"}, headers=htmx(acme)),
        api.delete(path, headers=htmx(acme)),
        api.post(f"{path}/status", data={"status": "Active", "csrf_token": acme}),
    ):
        assert_page_4xx(response)


@pytest.mark.parametrize("value", ODD_STRINGS, ids=IDS)
def test_odd_strings_in_the_settings_forms(api: TestClient, acme: str, value: str) -> None:
    base = {"csrf_token": acme}
    password = {"old_password": PASSWORD, "new_password": value, "new_password_again": value}
    for path, data in (
        ("/console/settings/password", {**password, "old_password": value}),
        ("/console/settings/mfa", {"code": value, "enabled": "true"}),
        ("/console/settings/mfa", {"code": "123456", "enabled": value}),
    ):
        response = post_form(api, path, {**base, **data})
        assert_page_4xx(response)
    changed = post_form(api, "/console/settings/password", {**base, **password})
    assert changed.status_code < 500, changed.text[:300]
    if "\x00" in value:
        assert_page_4xx(changed)


@pytest.mark.parametrize("value", ODD_STRINGS, ids=IDS)
def test_odd_language_choice(api: TestClient, value: str) -> None:
    response = api.get(f"/login/acme?lang={q(value)}")
    assert response.status_code == 200, response.text[:300]
    assert "Sign in to acme" in response.text


# ---------------------------------------------------------------- property-based


ODD_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=60, max_size=300),
    # control characters and lone surrogates, which st.text() leaves out by default
    st.text(alphabet=st.characters(categories=["Cs", "Cc", "Ll"]), max_size=12),
    st.builds(
        lambda a, bad, b: a + bad + b,
        st.text(max_size=6),
        st.sampled_from(["\x00", "\ud800", "\udfff", "\x7f", "\x1b", "\u2028", "\x85"]),
        st.text(max_size=6),
    ),
)
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def presession(api: TestClient) -> Iterator[str]:
    yield form_token(api, "/signup")


@PROPERTY
@given(alias=ODD_TEXT, user=ODD_TEXT, password=ODD_TEXT, code=ODD_TEXT)
def test_property_sign_in_form(
    api: TestClient, presession: str, alias: str, user: str, password: str, code: str
) -> None:
    data = {"csrf_token": presession, "user": user, "password": password[:7], "code": code}
    response = post_form(api, f"/login/{q(alias)}", data, follow_redirects=False)
    assert response.status_code < 500, response.text[:500]
    assert response.status_code != 303  # no such account: nobody gets in


@PROPERTY
@given(
    field=st.sampled_from(["alias", "display_name", "email", "password"]),
    value=ODD_TEXT,
    suffix=st.integers(0, 10**6),
)
def test_property_sign_up_form(
    api: TestClient,
    platform: platform_module.Platform,
    presession: str,
    field: str,
    value: str,
    suffix: int,
) -> None:
    data = {
        "csrf_token": presession,
        "alias": f"prop-{suffix}",
        "password": PASSWORD,
        "display_name": "",
        "email": "",
        field: value,
    }
    data["password_again"] = data["password"]
    response = post_form(api, "/signup", data, follow_redirects=False)
    assert response.status_code < 500, response.text[:500]
    assert bad_rows(platform) == []


@PROPERTY
@given(
    params=st.dictionaries(
        st.sampled_from(["action", "principal", "outcome", "page_token", "lang"]),
        st.one_of(ODD_TEXT, st.integers(max_value=2**63 - 1).map(str)),
        max_size=4,
    )
)
def test_property_audit_filters(api: TestClient, acme: str, params: dict[str, str]) -> None:
    query = "&".join(f"{name}={q(value)}" for name, value in params.items())
    response = api.get(f"/console/audit?{query}")
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert_page_4xx(response)


def test_console_page_carries_the_csrf_header(api: TestClient, acme: str) -> None:
    """The fixture above signs in through the form; the page keeps the htmx CSRF header."""
    assert CSRF_HEADER.search(api.get("/console").text)
