"""The audit trail over HTTP: what is recorded, filters, paging and who may read it (both DBs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from rtcompute.services.kernel import accounts, audit, principals
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from tests.conftest import PASSWORD, FakeClock, login, signup
from tests.integration.test_console import signin_via_form

OPERATOR_PASSWORD = "operator-pass-42"
EVENTS = "/api/v1/audit-events"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"bootstrap_password": OPERATOR_PASSWORD}


@pytest.fixture
def operator(api: TestClient, platform: platform_module.Platform) -> dict[str, str]:
    assert accounts.bootstrap(platform) is not None
    return login(api, "operator", OPERATOR_PASSWORD)


def events(api: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = api.get(EVENTS, headers=headers, params={"page_size": 200, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_page_token"] is None
    found: list[dict[str, Any]] = response.json()["events"]
    return found


def count_events(platform: platform_module.Platform) -> int:
    with db.transaction(platform.sessions) as session:
        return session.scalar(select(func.count()).select_from(tables.AuditEvent)) or 0


def test_state_changes_are_recorded_with_who_what_where(api: TestClient, clock: FakeClock) -> None:
    created = signup(api, "acme")
    account_id = created["id"]
    sign_in = api.post(
        "/api/v1/sessions",
        json={"account": "acme", "password": PASSWORD},
        headers={"X-Request-Id": "signin-req-1"},
    )
    headers = {"Authorization": f"Bearer {sign_in.json()['token']}"}
    clock.advance(minutes=1)
    key = api.post("/api/v1/access-keys", headers=headers)
    assert key.status_code == 201

    trail = events(api, headers)
    by_action = {event["action"]: event for event in trail}
    assert [e["action"] for e in trail] == ["ram:CreateAccessKey", "rtc:SignIn", "rtc:SignUp"]

    signed_up = by_action["rtc:SignUp"]
    assert signed_up["account_id"] == account_id
    assert signed_up["principal"] == "acme"
    assert signed_up["resource"] == f"acs:ram::{account_id}:root"
    assert signed_up["outcome"] == "success"

    signed_in = by_action["rtc:SignIn"]
    assert signed_in["request_id"] == "signin-req-1"
    assert signed_in["source_ip"] == "testclient"
    assert signed_in["identity_type"] == "account"
    assert signed_in["principal"] == "acme"

    created_key = by_action["ram:CreateAccessKey"]
    assert created_key["outcome"] == "success"
    assert created_key["error_code"] == ""
    assert created_key["request_id"] == key.headers["x-request-id"]
    assert created_key["resource"] == f"acs:ram::{account_id}:root"
    occurred = datetime.fromisoformat(created_key["occurred_at"])
    assert occurred == clock.now
    assert datetime.fromisoformat(signed_in["occurred_at"]) == clock.now - timedelta(minutes=1)


def test_reads_are_not_recorded(api: TestClient, platform: platform_module.Platform) -> None:
    signup(api, "acme")
    headers = login(api, "acme")
    before = count_events(platform)
    for path in ("/api/v1/me", "/api/v1/access-keys", EVENTS, "/healthz"):
        assert api.get(path, headers=headers).status_code == 200
    api.get("/api/v1/me")  # unauthenticated read
    assert count_events(platform) == before
    # a refused read is a denial, and every denial is audited
    assert api.get("/api/v1/accounts", headers=headers).status_code == 403
    assert count_events(platform) == before + 1


def test_failures_and_denials_are_recorded(
    api: TestClient, operator: dict[str, str], platform: platform_module.Platform
) -> None:
    created = signup(api, "acme")
    headers = login(api, "acme")
    wrong = api.post("/api/v1/sessions", json={"account": "acme", "password": "wrong-password"})
    assert wrong.status_code == 401
    denied = api.post(
        "/api/v1/accounts", headers=headers, json={"alias": "sneaky", "password": PASSWORD}
    )
    assert denied.status_code == 403
    missing = api.delete("/api/v1/access-keys/RTCAK0000000000000000000", headers=headers)
    assert missing.status_code == 404
    anonymous = api.post("/api/v1/access-keys")
    assert anonymous.status_code == 401

    trail = events(api, operator, all_accounts="true")
    failed_sign_in = next(
        e for e in trail if e["action"] == "rtc:SignIn" and e["outcome"] == "failed"
    )
    assert failed_sign_in["principal"] == "acme"
    assert failed_sign_in["error_code"] == "InvalidCredentials"
    assert failed_sign_in["request_id"] == wrong.headers["x-request-id"]
    assert failed_sign_in["source_ip"] == "testclient"

    create_denied = next(e for e in trail if e["action"] == "rtc:CreateAccount")
    assert create_denied["outcome"] == "denied"
    assert create_denied["error_code"] == "Forbidden.RAM"
    assert create_denied["account_id"] == created["id"]
    assert create_denied["principal"] == "acme"

    not_found = next(e for e in trail if e["action"] == "ram:DeleteAccessKey")
    assert not_found["outcome"] == "failed"
    assert not_found["error_code"] == "AccessKeyNotFound"

    unauthenticated = next(e for e in trail if e["request_id"] == anonymous.headers["x-request-id"])
    assert unauthenticated["action"] == "ram:CreateAccessKey"
    assert unauthenticated["outcome"] == "failed"
    assert unauthenticated["error_code"] == "MissingCredentials"
    assert unauthenticated["account_id"] is None

    # the account sees its own denied attempt in its own trail
    own = events(api, headers, outcome="denied")
    assert [e["action"] for e in own] == ["rtc:CreateAccount"]


def test_signup_refused_when_disabled_is_denied(
    api: TestClient, operator: dict[str, str], platform: platform_module.Platform
) -> None:
    del platform
    signup(api, "acme")
    assert (
        api.post("/api/v1/signup", json={"alias": "acme", "password": PASSWORD}).status_code == 409
    )
    trail = events(api, operator, all_accounts="true", action="rtc:SignUp")
    outcomes = sorted(e["outcome"] for e in trail)
    assert outcomes == ["failed", "success"]
    refused = next(e for e in trail if e["outcome"] == "failed")
    assert refused["error_code"] == "AccountAliasExists"
    assert refused["principal"] == "acme"


def test_filters(api: TestClient, clock: FakeClock) -> None:
    signup(api, "acme")
    headers = login(api, "acme")
    start = clock.now
    clock.advance(hours=1)
    key = api.post("/api/v1/access-keys", headers=headers).json()
    clock.advance(hours=1)
    middle = clock.now
    api.patch(f"/api/v1/access-keys/{key['id']}", headers=headers, json={"status": "Inactive"})
    clock.advance(hours=1)
    api.patch(f"/api/v1/access-keys/{key['id']}", headers=headers, json={"status": "Nope"})

    actions = [e["action"] for e in events(api, headers, action="ram:UpdateAccessKey")]
    assert actions == ["ram:UpdateAccessKey", "ram:UpdateAccessKey"]
    assert [e["outcome"] for e in events(api, headers, outcome="failed")] == ["failed"]
    assert len(events(api, headers, outcome="success")) == 4
    assert {e["principal"] for e in events(api, headers, principal="acme")} == {"acme"}
    assert events(api, headers, principal="someone-else") == []
    assert events(api, headers, action="rtc:NoSuchAction") == []

    # since is inclusive, until exclusive; any offset names the same instant
    plus_two = timezone(timedelta(hours=2))
    since = middle.astimezone(plus_two).isoformat()
    recent = events(api, headers, since=since)
    assert [e["action"] for e in recent] == ["ram:UpdateAccessKey", "ram:UpdateAccessKey"]
    until = middle.astimezone(timezone(timedelta(hours=-5))).isoformat()
    older = events(api, headers, until=until)
    assert [e["action"] for e in older] == ["ram:CreateAccessKey", "rtc:SignIn", "rtc:SignUp"]
    window = events(
        api,
        headers,
        since=(start + timedelta(minutes=30)).isoformat(),
        until=middle.isoformat().replace("+00:00", "Z"),
    )
    assert [e["action"] for e in window] == ["ram:CreateAccessKey"]

    naive = api.get(EVENTS, headers=headers, params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 400
    assert naive.json()["code"] == "InvalidParameter"
    bad_outcome = api.get(EVENTS, headers=headers, params={"outcome": "maybe"})
    assert bad_outcome.status_code == 422


def test_paging(api: TestClient) -> None:
    signup(api, "acme")
    headers = login(api, "acme")
    key = api.post("/api/v1/access-keys", headers=headers).json()
    for status in ("Inactive", "Active", "Inactive", "Active"):
        api.patch(f"/api/v1/access-keys/{key['id']}", headers=headers, json={"status": status})
    everything = events(api, headers)
    assert len(everything) == 7  # sign-up, sign-in, create, 4 updates
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True)

    pages: list[list[int]] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"page_size": 3}
        if token is not None:
            params["page_token"] = token
        response = api.get(EVENTS, headers=headers, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append([e["id"] for e in page["events"]])
        token = page["next_page_token"]
        if token is None:
            break
        assert len(pages) < 10
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for p in pages for i in p] == ids

    # an exact fit has no dangling empty page
    fit = api.get(EVENTS, headers=headers, params={"page_size": 7}).json()
    assert len(fit["events"]) == 7
    assert fit["next_page_token"] is None


def test_accounts_see_only_their_own_events(api: TestClient, operator: dict[str, str]) -> None:
    acme = signup(api, "acme")
    beta = signup(api, "beta")
    acme_headers = login(api, "acme")
    beta_headers = login(api, "beta")
    api.post("/api/v1/access-keys", headers=acme_headers)

    beta_events = events(api, beta_headers)
    assert beta_events
    assert {e["account_id"] for e in beta_events} == {beta["id"]}
    assert events(api, beta_headers, principal="acme") == []
    assert events(api, beta_headers, action="ram:CreateAccessKey") == []

    refused = api.get(EVENTS, headers=beta_headers, params={"all_accounts": "true"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "Forbidden.RAM"

    everyone = events(api, operator, all_accounts="true")
    assert {acme["id"], beta["id"]} <= {e["account_id"] for e in everyone}
    own = events(api, operator)
    assert acme["id"] not in {e["account_id"] for e in own}
    assert all(e["principal"] == "operator" for e in own)


def test_operator_ram_users_never_read_other_accounts(
    api: TestClient, operator: dict[str, str]
) -> None:
    signup(api, "acme")
    api.post("/api/v1/access-keys", headers=login(api, "acme"))
    user = {"name": "auditor", "password": PASSWORD, "console_enabled": True}
    assert api.post("/api/v1/ram/users", headers=operator, json=user).status_code == 201
    attach = "/api/v1/ram/users/auditor/policies/System/AdministratorAccess"
    assert api.put(attach, headers=operator).status_code == 204
    auditor = login(api, "operator", PASSWORD, user="auditor")

    refused = api.get(EVENTS, headers=auditor, params={"all_accounts": "true"})
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "Forbidden.RAM"
    own = events(api, auditor)  # the operator account's own trail stays readable
    assert own
    assert {e["account_id"] for e in own} == {e["account_id"] for e in events(api, operator)}


@pytest.mark.parametrize(
    "target",
    ["victim%00", "victim%00%00x", "%ED%B2%80v", "back%5Cslash%00"],
)
def test_denied_attempts_are_audited_whatever_bytes_they_carry(
    api: TestClient, platform: platform_module.Platform, target: str
) -> None:
    """A NUL (PostgreSQL cannot store one) or an undecodable byte in the path is escaped in
    the event, never a reason to drop it: a caller cannot hide a denied attempt."""
    signup(api, "acme")
    owner = login(api, "acme")
    created = api.post(
        "/api/v1/ram/users",
        headers=owner,
        json={"name": "nobody", "password": PASSWORD, "console_enabled": True},
    )
    assert created.status_code == 201, created.text
    nobody = login(api, "acme", user="nobody")
    refused = api.delete(f"/api/v1/ram/users/{target}", headers=nobody)
    assert refused.status_code == 403, refused.text
    trail = events(api, owner, outcome="denied")
    attempt = next(e for e in trail if e["request_id"] == refused.headers["x-request-id"])
    assert attempt["action"] == "ram:DeleteUser"
    assert attempt["principal"].startswith("nobody")
    assert "\x00" not in attempt["resource"]
    if "%00" in target:
        assert "\\x00" in attempt["resource"], attempt["resource"]


def trail_event(outcome: str = "success", error_code: str = "") -> audit.Event:
    return audit.Event(
        action="ram:CreateUser",
        resource="acs:ram::1:user/u",
        outcome=outcome,
        principal=None,
        context=principals.RequestContext(
            source_ip="127.0.0.1", secure_transport=False, request_id="trail-1"
        ),
        error_code=error_code,
    )


def trail_rows(platform: platform_module.Platform) -> list[tuple[str, str]]:
    with db.transaction(platform.sessions) as session:
        rows = session.scalars(
            select(tables.AuditEvent).where(tables.AuditEvent.request_id == "trail-1")
        )
        return [(row.outcome, row.error_code) for row in rows]


def test_a_change_made_keeps_success_when_a_later_step_fails(
    platform: platform_module.Platform,
) -> None:
    """The change committed with its event; the answer was a 503 of a later read: the
    event still says the change was made, with the answer's code."""
    trail = audit.Trail(platform, trail_event)
    with db.on_write(trail), db.transaction(platform.sessions) as session:
        session.add(tables.Lease(name="change", holder="x", expires_at=clock_now()))
    assert trail.written is not None
    assert trail.finish(trail_event("failed", "ServiceUnavailable.Database")) is None
    assert trail_rows(platform) == [("success", "ServiceUnavailable.Database")]


def test_a_commit_whose_acknowledgement_was_lost_is_not_written_twice(
    platform: platform_module.Platform,
) -> None:
    trail = audit.Trail(platform, trail_event)
    with db.transaction(platform.sessions) as session:  # committed; `committed()` never told
        trail.before_commit(session)
    assert trail.written is None
    assert trail.finish(trail_event("failed", "ServiceUnavailable.Database")) is None
    assert trail_rows(platform) == [("success", "ServiceUnavailable.Database")]


def clock_now() -> datetime:
    return datetime(2026, 3, 1, tzinfo=UTC)


def test_attempts_refused_before_their_route_ran_are_audited(
    api: TestClient, platform: platform_module.Platform
) -> None:
    """A body that is not JSON, not UTF-8 or too large is refused before the route's own
    dependencies run: the event names the action the route declares all the same."""
    signup(api, "acme")
    owner = login(api, "acme")
    sent = {
        "not-json": api.post(
            "/api/v1/ram/users",
            headers={**owner, "Content-Type": "application/json", "X-Request-Id": "pre-1"},
            content=b'{"name": ',
        ),
        "not-utf8": api.post(
            "/api/v1/sessions",
            headers={"Content-Type": "application/json", "X-Request-Id": "pre-2"},
            content=b'{"account": "\xff\xfe"}',
        ),
        "too-large": api.post(
            "/api/v1/ram/users",
            headers={**owner, "Content-Type": "application/json", "X-Request-Id": "pre-3"},
            content=b'{"name": "' + b"x" * (platform.settings.max_body_bytes + 10) + b'"}',
        ),
    }
    assert [r.status_code for r in sent.values()] == [400, 400, 413], [
        r.text for r in sent.values()
    ]
    with db.transaction(platform.sessions) as session:
        rows = {
            row.request_id: (row.action, row.outcome, row.error_code)
            for row in session.scalars(
                select(tables.AuditEvent).where(tables.AuditEvent.request_id.like("pre-%"))
            )
        }
    assert rows == {
        "pre-1": ("ram:CreateUser", "failed", "MalformedJSON"),
        "pre-2": ("rtc:SignIn", "failed", rows["pre-2"][2]),
        "pre-3": ("ram:CreateUser", "failed", "PayloadTooLarge"),
    }
    assert rows["pre-2"][2] in ("MalformedJSON", "BadRequest")


def test_a_console_read_refused_is_audited_as_through_the_api(
    api: TestClient, platform: platform_module.Platform
) -> None:
    signup(api, "acme")
    owner = login(api, "acme")
    created = api.post(
        "/api/v1/ram/users",
        headers=owner,
        json={"name": "viewer", "password": PASSWORD, "console_enabled": True},
    )
    assert created.status_code == 201, created.text
    signin_via_form(api, "acme", user="viewer")
    page = api.get("/console/ram/users", headers={"X-Request-Id": "console-denied-1"})
    assert page.status_code == 403
    trail = events(api, owner, outcome="denied")
    attempt = next(e for e in trail if e["request_id"] == "console-denied-1")
    assert (attempt["action"], attempt["principal"]) == ("ram:ListUsers", "viewer@acme")
