"""The credential cache as the API uses it: changes here apply at once, others within 2 s."""

from __future__ import annotations

from sqlalchemy import update
from starlette.testclient import TestClient

from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from tests.conftest import FakeClock, login, signup


def make_key(api: TestClient) -> tuple[dict[str, str], dict[str, str]]:
    signup(api, "acme")
    session = login(api, "acme")
    key = api.post("/api/v1/access-keys", headers=session).json()
    return session, {"Authorization": f"Bearer {key['id']}:{key['secret']}"}


def test_disable_through_this_process_applies_at_once(api: TestClient) -> None:
    session, with_key = make_key(api)
    assert api.get("/api/v1/me", headers=with_key).status_code == 200  # now cached
    key_id = api.get("/api/v1/access-keys", headers=session).json()[0]["id"]
    api.patch(f"/api/v1/access-keys/{key_id}", headers=session, json={"status": "Inactive"})
    assert api.get("/api/v1/me", headers=with_key).json()["code"] == "AccessKeyDisabled"


def test_change_by_another_process_applies_within_the_ttl(
    api: TestClient, platform: platform_module.Platform, clock: FakeClock
) -> None:
    _, with_key = make_key(api)
    assert api.get("/api/v1/me", headers=with_key).status_code == 200
    # another `rtc up` on the same database disables the key: this process does not know
    with db.transaction(platform.sessions) as session:
        session.execute(update(tables.AccessKey).values(status="Inactive"))
    assert api.get("/api/v1/me", headers=with_key).status_code == 200
    clock.advance(seconds=platform.settings.auth.credential_cache_seconds)
    assert api.get("/api/v1/me", headers=with_key).json()["code"] == "AccessKeyDisabled"


def test_sign_out_and_password_change_drop_cached_sessions(api: TestClient) -> None:
    signup(api, "acme")
    first = login(api, "acme")
    second = login(api, "acme")
    assert api.get("/api/v1/me", headers=first).status_code == 200
    assert api.get("/api/v1/me", headers=second).status_code == 200
    changed = api.put(
        "/api/v1/me/password",
        headers=second,
        json={"old_password": "correct-horse-9", "new_password": "battery-staple-7"},
    )
    assert changed.status_code == 200
    assert api.get("/api/v1/me", headers=first).json()["code"] == "SessionExpired"
    assert api.get("/api/v1/me", headers=second).status_code == 200
    assert api.delete("/api/v1/sessions/current", headers=second).status_code == 200
    assert api.get("/api/v1/me", headers=second).json()["code"] == "SessionExpired"


def test_failed_sign_in_is_in_the_accounts_own_trail(api: TestClient) -> None:
    signup(api, "acme")
    refused = api.post("/api/v1/sessions", json={"account": "acme", "password": "wrong-one-1"})
    assert refused.status_code == 401
    events = api.get(
        "/api/v1/audit-events", headers=login(api, "acme"), params={"outcome": "failed"}
    ).json()["events"]
    assert [(e["action"], e["principal"], e["error_code"]) for e in events] == [
        ("rtc:SignIn", "acme", "InvalidCredentials")
    ]
