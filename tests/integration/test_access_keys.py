"""Access keys over HTTP: secret shown once and stored hashed, the limit, Bearer use,
enable/disable/delete, last use, and isolation between accounts (both databases).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select
from starlette.testclient import TestClient

from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from tests.conftest import FakeClock, login, signup


def create_key(api: TestClient, headers: dict[str, str]) -> dict[str, str]:
    response = api.post("/api/v1/access-keys", headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


def key_headers(key: dict[str, str], secret: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['id']}:{secret or key['secret']}"}


def assert_error(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    assert set(response.json()) == {"code", "message", "request_id"}


def test_secret_shown_once_and_stored_hashed(
    api: TestClient, platform: platform_module.Platform
) -> None:
    signup(api, "acme")
    headers = login(api, "acme")
    key = create_key(api, headers)
    assert key["id"].startswith("RTCAK")
    assert key["status"] == "Active"
    assert len(key["secret"]) >= 30
    listed = api.get("/api/v1/access-keys", headers=headers)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()] == [key["id"]]
    assert "secret" not in listed.json()[0]
    assert key["secret"] not in listed.text
    with db.transaction(platform.sessions) as session:
        row = session.scalars(select(tables.AccessKey)).one()
        values = [str(getattr(row, column.key)) for column in tables.AccessKey.__table__.columns]
    assert row.secret_hash == hashlib.sha256(key["secret"].encode()).hexdigest()
    assert not any(key["secret"] in value for value in values)


def test_at_most_two_keys(api: TestClient) -> None:
    signup(api, "acme")
    headers = login(api, "acme")
    first = create_key(api, headers)
    create_key(api, headers)
    assert_error(api.post("/api/v1/access-keys", headers=headers), 409, "AccessKeyLimitExceeded")
    assert len(api.get("/api/v1/access-keys", headers=headers).json()) == 2
    assert api.delete(f"/api/v1/access-keys/{first['id']}", headers=headers).status_code == 204
    create_key(api, headers)  # room again after a delete


def test_key_authenticates_and_follows_its_status(
    api: TestClient, platform: platform_module.Platform, clock: FakeClock
) -> None:
    created = signup(api, "acme")
    headers = login(api, "acme")
    key = create_key(api, headers)
    assert key["last_used_at"] is None

    me = api.get("/api/v1/me", headers=key_headers(key))
    assert me.status_code == 200, me.text
    assert me.json()["account_id"] == created["id"]
    assert me.json()["auth_method"] == "access_key"
    listed = api.get("/api/v1/access-keys", headers=headers).json()
    assert listed[0]["last_used_at"] is not None
    with db.transaction(platform.sessions) as session:
        row = session.get(tables.AccessKey, key["id"])
        assert row is not None
        assert row.last_used_at == clock.now

    clock.advance(minutes=5)
    api.get("/api/v1/me", headers=key_headers(key))
    with db.transaction(platform.sessions) as session:
        row = session.get(tables.AccessKey, key["id"])
        assert row is not None
        assert row.last_used_at == clock.now

    assert_error(
        api.get("/api/v1/me", headers=key_headers(key, "wrong-secret")), 401, "InvalidAccessKey"
    )
    unknown = {"id": "RTCAK" + "Z" * 19, "secret": key["secret"]}
    assert_error(api.get("/api/v1/me", headers=key_headers(unknown)), 401, "InvalidAccessKey")

    off = api.patch(
        f"/api/v1/access-keys/{key['id']}", headers=headers, json={"status": "Inactive"}
    )
    assert off.status_code == 200, off.text
    assert off.json()["status"] == "Inactive"
    assert_error(api.get("/api/v1/me", headers=key_headers(key)), 401, "AccessKeyDisabled")
    # a disabled key's wrong secret does not reveal that the key exists
    assert_error(
        api.get("/api/v1/me", headers=key_headers(key, "wrong-secret")), 401, "InvalidAccessKey"
    )

    on = api.patch(f"/api/v1/access-keys/{key['id']}", headers=headers, json={"status": "Active"})
    assert on.json()["status"] == "Active"
    assert api.get("/api/v1/me", headers=key_headers(key)).status_code == 200

    assert api.delete(f"/api/v1/access-keys/{key['id']}", headers=headers).status_code == 204
    assert_error(api.get("/api/v1/me", headers=key_headers(key)), 401, "InvalidAccessKey")
    assert api.get("/api/v1/access-keys", headers=headers).json() == []


def test_key_can_manage_keys_itself(api: TestClient) -> None:
    signup(api, "acme")
    key = create_key(api, login(api, "acme"))
    second = create_key(api, key_headers(key))
    ids = {item["id"] for item in api.get("/api/v1/access-keys", headers=key_headers(key)).json()}
    assert ids == {key["id"], second["id"]}
    # signing out with a key is harmless and the key keeps working
    assert api.delete("/api/v1/sessions/current", headers=key_headers(key)).status_code == 200
    assert api.get("/api/v1/me", headers=key_headers(key)).status_code == 200


def test_last_used_is_coarse(
    api: TestClient, platform: platform_module.Platform, clock: FakeClock
) -> None:
    signup(api, "acme")
    key = create_key(api, login(api, "acme"))
    api.get("/api/v1/me", headers=key_headers(key))
    first_use = clock.now
    clock.advance(seconds=30)  # inside access_key_touch_seconds: no write
    api.get("/api/v1/me", headers=key_headers(key))
    with db.transaction(platform.sessions) as session:
        row = session.get(tables.AccessKey, key["id"])
        assert row is not None
        assert row.last_used_at == first_use
    clock.advance(seconds=31)
    api.get("/api/v1/me", headers=key_headers(key))
    with db.transaction(platform.sessions) as session:
        row = session.get(tables.AccessKey, key["id"])
        assert row is not None
        assert row.last_used_at == first_use + timedelta(seconds=61)


def test_other_account_cannot_touch_my_key(api: TestClient) -> None:
    signup(api, "acme")
    signup(api, "evil")
    mine = login(api, "acme")
    theirs = login(api, "evil")
    key = create_key(api, mine)
    assert api.get("/api/v1/access-keys", headers=theirs).json() == []
    path = f"/api/v1/access-keys/{key['id']}"
    assert_error(
        api.patch(path, headers=theirs, json={"status": "Inactive"}), 404, "AccessKeyNotFound"
    )
    assert_error(api.delete(path, headers=theirs), 404, "AccessKeyNotFound")
    # with the other account's key as the credential too
    their_key = create_key(api, theirs)
    assert_error(api.delete(path, headers=key_headers(their_key)), 404, "AccessKeyNotFound")
    # still there and still active
    listed = api.get("/api/v1/access-keys", headers=mine).json()
    assert [(item["id"], item["status"]) for item in listed] == [(key["id"], "Active")]
    assert api.get("/api/v1/me", headers=key_headers(key)).status_code == 200


def test_unknown_key_and_bad_status(api: TestClient) -> None:
    signup(api, "acme")
    headers = login(api, "acme")
    key = create_key(api, headers)
    missing = "RTCAK" + "0" * 19
    assert_error(
        api.patch(f"/api/v1/access-keys/{missing}", headers=headers, json={"status": "Active"}),
        404,
        "AccessKeyNotFound",
    )
    assert_error(
        api.delete(f"/api/v1/access-keys/{missing}", headers=headers), 404, "AccessKeyNotFound"
    )
    response = api.patch(
        f"/api/v1/access-keys/{key['id']}", headers=headers, json={"status": "Deleted"}
    )
    assert_error(response, 422, "InvalidParameter")
