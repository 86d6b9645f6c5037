"""Hostile and malformed input: always a 4xx with the error body, never a 5xx, nothing
half-written. Input that reaches the database runs on both; what is decided before it
(parsing, size caps, methods, request ids: `one_database`) on SQLite only. Ends with
property-based tests (hypothesis).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.testclient import TestClient

from rtcompute.api import app as app_module
from rtcompute.api import deps, gate
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from tests.conftest import PASSWORD, login, signup

ERROR_KEYS = {"code", "message", "request_id"}
MIB = 1024 * 1024


def assert_4xx(response: Any, status: int | None = None, code: str | None = None) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if status is not None:
        assert response.status_code == status, response.text[:500]
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    if code is not None:
        assert body["code"] == code, body


def row_counts(platform: platform_module.Platform) -> dict[str, int]:
    counted = (tables.Account, tables.Identity, tables.Session, tables.AccessKey)
    with db.transaction(platform.sessions) as session:
        return {
            t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
            for t in counted
        }


@pytest.fixture
def headers(api: TestClient) -> dict[str, str]:
    signup(api, "acme")
    return login(api, "acme")


# ---------------------------------------------------------------- bodies


@pytest.mark.one_database
@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{", "MalformedJSON"),
        (b'{"alias": "acme", "password": }', "MalformedJSON"),
        (b"\xff\xfe\x00garbage", "MalformedJSON"),
        (b"", None),
        (b"null", None),
        (b"[]", None),
        (b'"acme"', None),
        (b"12", None),
    ],
)
def test_malformed_bodies(api: TestClient, raw: bytes, code: str | None) -> None:
    response = api.post("/api/v1/signup", content=raw, headers={"Content-Type": "application/json"})
    assert_4xx(response, code=code)


@pytest.mark.one_database
@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"alias": 12, "password": PASSWORD}, "InvalidParameter"),
        ({"alias": ["acme"], "password": PASSWORD}, "InvalidParameter"),
        ({"alias": "acme", "password": None}, "InvalidParameter"),
        ({"alias": "acme", "password": {"$ne": ""}}, "InvalidParameter"),
        ({"alias": "acme", "password": True}, "InvalidParameter"),
        ({"alias": "acme"}, "InvalidParameter"),
        ({"password": PASSWORD}, "InvalidParameter"),
        ({}, "InvalidParameter"),
        ({"alias": "acme", "password": PASSWORD, "is_operator": True}, "InvalidParameter"),
        ({"alias": "acme", "password": PASSWORD, "id": "1"}, "InvalidParameter"),
    ],
)
def test_wrong_types_unknown_and_missing_fields(
    api: TestClient, platform: platform_module.Platform, body: dict[str, Any], code: str
) -> None:
    before = row_counts(platform)
    response = api.post("/api/v1/signup", json=body)
    assert_4xx(response, 422, code)
    assert row_counts(platform) == before


@pytest.mark.one_database
def test_unknown_field_is_named(api: TestClient) -> None:
    response = api.post(
        "/api/v1/signup", json={"alias": "acme", "password": PASSWORD, "is_operator": True}
    )
    assert "is_operator" in response.json()["message"]


@pytest.mark.one_database
def test_form_encoded_body_is_refused(api: TestClient) -> None:
    response = api.post("/api/v1/signup", data={"alias": "acme", "password": PASSWORD})
    assert_4xx(response)


@pytest.mark.one_database
@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        # public routes take a small body from anyone
        ("/api/v1/signup", 413, "PayloadTooLarge"),
        ("/api/v1/sessions", 413, "PayloadTooLarge"),
        # any other route refuses an anonymous caller without reading the body
        ("/api/v1/access-keys", 401, "MissingCredentials"),
        ("/api/v1/nope", 404, "NotFound"),
    ],
)
def test_body_over_one_mib(
    api: TestClient, platform: platform_module.Platform, path: str, status: int, code: str
) -> None:
    before = row_counts(platform)
    payload = json.dumps({"alias": "acme", "password": "x" * (MIB + 10)})
    response = api.post(path, content=payload, headers={"Content-Type": "application/json"})
    assert_4xx(response, status, code)
    assert row_counts(platform) == before


@pytest.mark.one_database
def test_signed_in_body_over_one_mib(api: TestClient, platform: platform_module.Platform) -> None:
    signup(api, "acme")
    headers = {**login(api, "acme"), "Content-Type": "application/json"}
    before = row_counts(platform)
    payload = json.dumps({"comment": "x" * (MIB + 10)})
    response = api.post("/api/v1/access-keys", content=payload, headers=headers)
    assert_4xx(response, 413, "PayloadTooLarge")
    assert "1 MiB" in response.json()["message"]
    assert row_counts(platform) == before


@pytest.mark.one_database
def test_chunked_body_over_one_mib(api: TestClient, platform: platform_module.Platform) -> None:
    before = row_counts(platform)
    chunk = b"x" * (64 * 1024)

    def body() -> Iterator[bytes]:
        yield b'{"alias": "acme", "password": "'
        for _ in range(17):  # 17 x 64 KiB > 1 MiB
            yield chunk
        yield b'"}'

    response = api.post(
        "/api/v1/signup", content=body(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert_4xx(response, 413, "PayloadTooLarge")
    assert row_counts(platform) == before


@pytest.mark.one_database
def test_chunked_body_under_the_limit_is_read(api: TestClient) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"alias": "acme", '
        yield b'"password": "' + PASSWORD.encode() + b'"}'

    response = api.post(
        "/api/v1/signup", content=body(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text


def json_of_size(size: int) -> bytes:
    prefix = b'{"alias": "acme", "password": "'
    suffix = b'"}'
    payload = prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix
    assert len(payload) == size
    return payload


@pytest.mark.one_database
def test_exactly_one_mib_is_allowed_through_the_cap(api: TestClient) -> None:
    signup(api, "acme")
    headers = {**login(api, "acme"), "Content-Type": "application/json"}
    response = api.post("/api/v1/buckets", content=json_of_size(MIB), headers=headers)
    # past the size cap, refused by the schema (unknown and too long fields), not by the cap
    assert_4xx(response, 422, "InvalidParameter")
    over = api.post("/api/v1/buckets", content=json_of_size(MIB + 1), headers=headers)
    assert_4xx(over, 413, "PayloadTooLarge")


@pytest.mark.one_database
def test_anonymous_cap_is_small_and_exact(api: TestClient) -> None:
    """A public route takes at most gate.ANONYMOUS_MAX_BODY from an anonymous caller."""
    cap = gate.ANONYMOUS_MAX_BODY
    json_type = {"Content-Type": "application/json"}
    at_cap = api.post("/api/v1/signup", content=json_of_size(cap), headers=json_type)
    assert_4xx(at_cap, 422, "InvalidParameter")  # the schema's refusal: the cap let it through
    over = api.post("/api/v1/signup", content=json_of_size(cap + 1), headers=json_type)
    assert_4xx(over, 413, "PayloadTooLarge")
    assert "16 KiB" in over.json()["message"]


# ---------------------------------------------------------------- odd strings

ODD_STRINGS = [
    "a'b",
    'a"b',
    "'; DROP TABLE accounts; --",
    "acme' OR '1'='1",
    "<script>alert(1)</script>",
    "a\x00b",
    "\x00",
    "acme\x00",
    "ácmé",
    "账号",
    "\U0001f600",
    "x" * 10_000,
    "../../etc/passwd",
    "%00",
    "{account_id}",
    "\r\nX-Injected: 1",
    " ",
    "\ud800",  # a lone surrogate: valid JSON escape, not encodable as UTF-8
    "a\udfffb",
]


def send_json(api: TestClient, method: str, path: str, body: Any, **kwargs: Any) -> Any:
    """JSON with ASCII escapes, so lone surrogates travel as `\\ud800` (httpx's json= can't)."""
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    return api.request(method, path, content=json.dumps(body), headers=headers, **kwargs)


def q(value: str) -> str:
    return quote(value, safe="", errors="surrogatepass")


@pytest.mark.parametrize("value", ODD_STRINGS, ids=range(len(ODD_STRINGS)))
def test_odd_strings_in_signup(
    api: TestClient, platform: platform_module.Platform, value: str
) -> None:
    before = row_counts(platform)
    created = 0
    for n, extra in enumerate(
        ({"alias": value}, {"display_name": value}, {"email": value}, {"password": value})
    ):
        body = {"alias": f"newco{n}", "password": PASSWORD, **extra}
        response = send_json(api, "POST", "/api/v1/signup", body)
        if response.status_code == 201:  # a harmless display name or password is fine
            assert "alias" not in extra
            account = response.json()
            assert account["alias"] == body["alias"]
            if "display_name" in extra:
                assert account["display_name"] == value.strip()
            created += 1
        else:
            assert_4xx(response)
    after = row_counts(platform)
    assert after["accounts"] == before["accounts"] + created
    assert after["identities"] == before["identities"] + created


@pytest.mark.parametrize("value", ODD_STRINGS, ids=range(len(ODD_STRINGS)))
def test_odd_strings_in_sign_in(api: TestClient, value: str) -> None:
    for body in (
        {"account": value, "password": PASSWORD},
        {"account": "acme", "user": value, "password": PASSWORD},
        {"account": "acme", "password": PASSWORD, "code": value},
    ):
        assert_4xx(send_json(api, "POST", "/api/v1/sessions", body))


@pytest.mark.parametrize("value", ODD_STRINGS, ids=range(len(ODD_STRINGS)))
def test_odd_strings_in_paths_and_queries(
    api: TestClient, headers: dict[str, str], value: str
) -> None:
    quoted = q(value)
    assert_4xx(
        api.patch(f"/api/v1/access-keys/{quoted}", headers=headers, json={"status": "Active"})
    )
    assert_4xx(api.delete(f"/api/v1/access-keys/{quoted}", headers=headers))
    for name in ("action", "principal", "page_token", "since", "until", "outcome", "page_size"):
        response = api.get(f"/api/v1/audit-events?{name}={q(value)}", headers=headers)
        assert response.status_code < 500, (name, response.text[:300])
        if response.status_code >= 400:
            assert_4xx(response)


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": 10**12},
        {"page_size": 201},
        {"page_size": 0},
        {"page_size": -1},
        {"page_size": "ten"},
        {"page_size": "1e3"},
        {"page_token": "-5"},
        {"page_token": "abc"},
        {"page_token": "1.5"},
        {"page_token": "9" * 19},
        {"page_token": "9" * 20},
        {"page_token": "9" * 21},
        {"page_token": "٣"},  # an Arabic-Indic digit: isdigit() but not a page token
        {"page_token": "²"},  # superscript two: isdigit(), int() refuses it
        {"since": "2026-01-01T00:00:00"},
        {"until": "2026-01-01"},
        {"since": "yesterday"},
        {"since": "9999-12-31T23:59:59-14:00"},
        {"since": "0001-01-01T00:00:00+14:00"},
        {"until": "9999-12-31T23:59:59+00:00"},
        {"since": "2026-13-45T99:99:99Z"},
        {"all_accounts": "perhaps"},
        {"outcome": "SUCCESS"},
        {"action": "x" * 129},
    ],
    ids=lambda p: json.dumps(p)[:60],
)
def test_odd_audit_queries(
    api: TestClient, headers: dict[str, str], params: dict[str, Any]
) -> None:
    response = api.get("/api/v1/audit-events", headers=headers, params=params)
    assert response.status_code < 500, response.text[:300]
    if response.status_code != 200:
        assert_4xx(response)


@pytest.mark.parametrize(
    "value",
    ["RTCAK" + "A" * 19, "RTCAK", "x", "RTCAK" + "A" * 200, "..", "%2e%2e", "RTCAK%00AAA"],
)
def test_odd_access_key_ids_are_not_found(
    api: TestClient, headers: dict[str, str], value: str
) -> None:
    response = api.patch(f"/api/v1/access-keys/{value}", headers=headers, json={"status": "Active"})
    assert response.status_code in (404, 405), response.text
    assert_4xx(response)


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer RTCAK:",
        "Bearer :secret",
        "Bearer RTCAKAAAA:secret:with:colons",
        "Bearer rtcs_",
        "Bearer rtcs_' OR 1=1 --",
        "Bearer " + "x" * 8000,
        "Bearer RTCAK" + "A" * 27 + ":s",
        "Bearer RTCAK" + "A" * 100 + ":s",
        "Bearer RTCAK\u00e9:s".encode(),
        b"Bearer RTCAK\xff\xfe:s",
        b"Bearer rtcs_\xc3\xa9",
    ],
)
def test_odd_authorization_headers(api: TestClient, authorization: str | bytes) -> None:
    response = api.get("/api/v1/me", headers={"Authorization": authorization})
    assert_4xx(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_refused_signup_leaves_no_rows(api: TestClient, platform: platform_module.Platform) -> None:
    signup(api, "acme")
    before = row_counts(platform)
    refusals = [
        {"alias": "acme", "password": PASSWORD},  # taken
        {"alias": "newco", "password": "short"},
        {"alias": "newco", "password": PASSWORD, "email": "not-an-email"},
        {"alias": "newco", "password": PASSWORD, "display_name": "tab\there"},
        {"alias": "NewCo", "password": PASSWORD},
    ]
    for body in refusals:
        assert_4xx(api.post("/api/v1/signup", json=body))
    assert row_counts(platform) == before


@pytest.mark.one_database
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/v1/signup"),
        ("GET", "/api/v1/sessions"),
        ("PATCH", "/api/v1/me"),
        ("POST", "/api/v1/audit-events"),
        ("GET", "/api/v1/does-not-exist"),
        ("GET", "/api/v2/me"),
    ],
)
def test_wrong_method_or_path(api: TestClient, method: str, path: str) -> None:
    assert_4xx(api.request(method, path))


# ---------------------------------------------------------------- property-based

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
ODD_TEXT = st.one_of(
    st.text(max_size=80),
    st.sampled_from(ODD_STRINGS),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=60, max_size=300),
    # control characters and lone surrogates, which st.text() leaves out by default
    st.text(alphabet=st.characters(categories=["Cs", "Cc", "Ll"]), max_size=12),
    st.builds(
        lambda a, bad, b: a + bad + b,
        st.text(max_size=6),
        st.sampled_from(["\x00", "\ud800", "\udfff", "\x7f", "\u2028"]),
        st.text(max_size=6),
    ),
)


def field_bodies(valid: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Mostly a valid body with one field made odd; else wrong types, extras, or junk."""
    fields = list(valid)
    values = st.one_of(ODD_TEXT, JSON_VALUES)
    one_odd = st.builds(
        lambda name, value: {**valid, name: value}, st.sampled_from(fields), ODD_TEXT
    )
    known = st.fixed_dictionaries({}, optional={name: values for name in fields})
    extra = st.dictionaries(st.sampled_from([*fields, "extra", "id"]), values, max_size=3)
    mixed = st.builds(lambda a, b: {**a, **b}, known, extra)
    return st.one_of(one_odd, one_odd, one_odd, known, mixed, JSON_VALUES)


PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_no_5xx(response: Any) -> None:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert_4xx(response)


@PROPERTY
@given(
    body=field_bodies(
        {"alias": "newco", "password": "short", "display_name": "New", "email": "a@b.example"}
    )
)
def test_property_signup(api: TestClient, body: Any) -> None:
    if isinstance(body, dict) and isinstance(body.get("password"), str):
        body["password"] = body["password"][:7]  # keep argon2 out of most examples
    assert_no_5xx(send_json(api, "POST", "/api/v1/signup", body))


@PROPERTY
@given(body=field_bodies({"account": "acme", "user": "bob", "password": "pw", "code": "123456"}))
def test_property_sign_in(api: TestClient, body: Any) -> None:
    assert_no_5xx(send_json(api, "POST", "/api/v1/sessions", body))


@PROPERTY
@given(key_id=ODD_TEXT, body=field_bodies({"status": "Active"}))
def test_property_update_access_key(
    api: TestClient, headers: dict[str, str], key_id: str, body: Any
) -> None:
    path = "/api/v1/access-keys/" + q(key_id)
    assert_no_5xx(send_json(api, "PATCH", path, body, headers=headers))


QUERY_NAMES = [
    "action",
    "principal",
    "outcome",
    "since",
    "until",
    "page_size",
    "page_token",
    "all_accounts",
    "other",
]


@PROPERTY
@given(
    params=st.dictionaries(
        st.sampled_from(QUERY_NAMES),
        st.one_of(
            ODD_TEXT,
            st.integers().map(str),
            st.datetimes().map(lambda d: d.isoformat()),
            st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
        ),
        max_size=4,
    )
)
def test_property_audit_query(api: TestClient, headers: dict[str, str], params: Any) -> None:
    query = "&".join(f"{q(name)}={q(value)}" for name, value in params.items())
    assert_no_5xx(api.get(f"/api/v1/audit-events?{query}", headers=headers))


# ---------------------------------------------------------------- error body and request id


@pytest.mark.one_database
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/me", 401),
        ("POST", "/api/v1/signup", 422),
        ("GET", "/api/v1/nowhere", 404),
        ("DELETE", "/api/v1/me", 405),
    ],
)
def test_error_body_is_exactly_code_message_request_id(
    api: TestClient, method: str, path: str, status: int
) -> None:
    response = api.request(method, path, json={} if method == "POST" else None)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert all(isinstance(body[key], str) and body[key] for key in ERROR_KEYS)
    assert body["request_id"] == response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"])


@pytest.mark.one_database
def test_request_id_is_echoed_when_valid(api: TestClient) -> None:
    for sent in ("abc-123", "A.b_c-9", "x" * 64):
        response = api.get("/api/v1/me", headers={"X-Request-Id": sent})
        assert response.headers["x-request-id"] == sent
        assert response.json()["request_id"] == sent
    ok = api.get("/healthz", headers={"X-Request-Id": "health-1"})
    assert ok.headers["x-request-id"] == "health-1"


@pytest.mark.one_database
@pytest.mark.parametrize("sent", ["", "has space", "x" * 65, "semi;colon", "<script>", "é"])
def test_invalid_request_id_is_replaced(api: TestClient, sent: str) -> None:
    response = api.get("/api/v1/me", headers={"X-Request-Id": sent.encode()})
    generated = response.headers["x-request-id"]
    assert generated != sent
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert response.json()["request_id"] == generated


@pytest.mark.one_database
def test_each_request_gets_its_own_id(api: TestClient) -> None:
    ids = {api.get("/api/v1/me").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_unhandled_error_is_500_with_request_id_counted_and_audited(
    platform: platform_module.Platform, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_module.create_app(platform)

    def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route(
        "/api/v1/boom", boom, methods=["POST"], dependencies=[deps.public("test:Boom")]
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/api/v1/boom", headers={"X-Request-Id": "boom-1"})
        assert response.status_code == 500
        assert response.json() == {
            "code": "InternalError",
            "message": "an internal error occurred; quote the request id",
            "request_id": "boom-1",
        }
        assert response.headers["x-request-id"] == "boom-1"
        assert "RuntimeError" not in response.text
        metrics = client.get("/metrics").text
        assert 'method="POST",route="/api/v1/boom",status="500"} 1.0' in metrics
    with db.transaction(platform.sessions) as session:
        event = session.scalars(
            select(tables.AuditEvent).where(tables.AuditEvent.request_id == "boom-1")
        ).one()
    assert (event.action, event.outcome, event.error_code) == (
        "test:Boom",
        "failed",
        "InternalError",
    )
    # the server's log has one line naming the request, with the error's traceback
    failed = [r for r in caplog.records if "boom-1" in r.getMessage()]
    assert len(failed) == 1, [r.getMessage() for r in caplog.records]
    assert "POST /api/v1/boom answered 500 InternalError" in failed[0].getMessage()
    assert failed[0].exc_info is not None and "boom" in str(failed[0].exc_info[1])


@pytest.mark.one_database
def test_every_405_says_every_method_of_its_path(api: TestClient) -> None:
    """`Allow` lists what the path answers, over all its routes (FastAPI makes one route per
    method, and Starlette's own 405 names the first one's only)."""
    by_path: dict[str, set[str]] = {}
    for route in api.app.state.all_routes:  # type: ignore[attr-defined]  # the console's too
        if isinstance(route, APIRoute):
            by_path.setdefault(route.path, set()).update(route.methods)
    checked = 0
    for template, methods in sorted(by_path.items()):
        path = re.sub(r"\{[^}]+\}", "zz-unlikely", template)
        # the concrete path may match another template too (a literal segment): skip those
        matching = {t for t in by_path if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), path)}
        if matching != {template}:
            continue
        wrong = next(m for m in ("PATCH", "PUT", "DELETE", "POST", "GET") if m not in methods)
        response = api.request(wrong, path)
        assert response.status_code == 405, (template, wrong, response.status_code)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed == methods, template
        checked += 1
    assert checked > 100
    static = api.post("/static/console.css")
    assert (static.status_code, static.headers["allow"]) == (405, "GET, HEAD")
