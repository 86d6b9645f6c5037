"""RAM users, groups, policies and versions, roles and attachments through the API (both
databases): the lifecycle, the vendor's error codes, and every limit of issue 3 §1.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from starlette.testclient import TestClient

from rtcompute.domain import identities, policies, ram
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from tests.conftest import PASSWORD
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    attach,
    create_group,
    create_policy,
    document,
    expect,
    ok,
    ram_user,
    user_key,
)

USERS = f"{API}/ram/users"
GROUPS = f"{API}/ram/groups"
POLICIES = f"{API}/ram/policies"
ROLES = f"{API}/ram/roles"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def owner(api: TestClient) -> Owner:
    return account(api)


def count(platform: platform_module.Platform, table: type[tables.Base], **where: object) -> int:
    with db.transaction(platform.sessions) as session:
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(getattr(table, column) == value)
        return session.scalar(query) or 0


# ---------------------------------------------------------------- users


def test_user_lifecycle(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    created = ok(
        api.post(USERS, headers=h, json={"name": "dev", "display_name": "Dev", "comment": "c"}),
        201,
    )
    assert created["arn"] == f"acs:ram::{owner.account_id}:user/dev"
    assert (created["has_password"], created["console_enabled"]) == (False, False)
    expect(api.post(USERS, headers=h, json={"name": "dev"}), 409, "EntityAlreadyExists.User")
    assert ok(api.get(f"{USERS}/dev", headers=h))["display_name"] == "Dev"
    ok(api.post(USERS, headers=h, json={"name": "alice"}), 201)
    page = ok(api.get(USERS, headers=h, params={"limit": 1, "offset": 1}))
    assert (page["total"], [u["name"] for u in page["users"]]) == (2, ["dev"])

    # console access needs a password, on creation and later
    refused = api.patch(f"{USERS}/dev", headers=h, json={"console_enabled": True})
    expect(refused, 400, "InvalidParameter.Password")
    body = {"name": "carol", "console_enabled": True}
    expect(api.post(USERS, headers=h, json=body), 400, "InvalidParameter.Password")
    ok(api.put(f"{USERS}/dev/password", headers=h, json={"password": PASSWORD}), 204)
    changed = ok(api.patch(f"{USERS}/dev", headers=h, json={"console_enabled": True}))
    assert (changed["has_password"], changed["console_enabled"]) == (True, True)

    renamed = ok(api.patch(f"{USERS}/dev", headers=h, json={"new_name": "developer"}))
    assert renamed["name"] == "developer"
    expect(api.get(f"{USERS}/dev", headers=h), 404, "EntityNotExist.User")
    taken = api.patch(f"{USERS}/developer", headers=h, json={"new_name": "alice"})
    expect(taken, 409, "EntityAlreadyExists.User")
    ok(api.delete(f"{USERS}/developer", headers=h), 204)
    expect(api.delete(f"{USERS}/developer", headers=h), 404, "EntityNotExist.User")
    expect(api.patch(f"{USERS}/nobody", headers=h, json={}), 404, "EntityNotExist.User")
    assert ok(api.get(USERS, headers=h))["total"] == 1


def test_the_account_itself_is_no_ram_user(api: TestClient, owner: Owner) -> None:
    expect(api.get(f"{USERS}/{owner.alias}", headers=owner.headers), 404, "EntityNotExist.User")
    refused = api.delete(f"{USERS}/{owner.alias}", headers=owner.headers)
    expect(refused, 404, "EntityNotExist.User")
    assert ok(api.get(f"{API}/me", headers=owner.headers))["name"] == owner.alias


@pytest.mark.parametrize("kind", ["users", "groups", "roles", "policies"])
def test_names_over_128_characters_are_refused(api: TestClient, owner: Owner, kind: str) -> None:
    body: dict[str, str] = (
        {"document": document(allow("stream:List*"))} if kind == "policies" else {}
    )
    longest = "n" * ram.MAX_NAME
    ok(api.post(f"{API}/ram/{kind}", headers=owner.headers, json={**body, "name": longest}), 201)
    too_long = {**body, "name": "n" * (ram.MAX_NAME + 1)}
    refused = expect(api.post(f"{API}/ram/{kind}", headers=owner.headers, json=too_long), 400)
    assert "128" in refused["message"]
    bad = api.post(f"{API}/ram/{kind}", headers=owner.headers, json={**body, "name": "a b"})
    assert expect(bad, 400)["code"].startswith("InvalidParameter.")


def test_ram_user_signs_in_at_the_account_login(api: TestClient, owner: Owner) -> None:
    body = {"name": "dev", "password": PASSWORD, "console_enabled": True}
    ok(api.post(USERS, headers=owner.headers, json=body), 201)
    signed_in = api.post(
        f"{API}/sessions", json={"account": owner.alias, "user": "dev", "password": PASSWORD}
    )
    token = ok(signed_in, 201)["token"]
    me = ok(api.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"}))
    assert (me["identity_type"], me["name"], me["principal"]) == (
        identities.IdentityType.RAM_USER.value,
        "dev",
        "dev@acme",
    )
    wrong = {"account": owner.alias, "user": "dev", "password": "wrong-horse-1"}
    expect(api.post(f"{API}/sessions", json=wrong), 401, "InvalidCredentials")
    other = account(api, "other")
    elsewhere = {"account": other.alias, "user": "dev", "password": PASSWORD}
    expect(api.post(f"{API}/sessions", json=elsewhere), 401, "InvalidCredentials")
    # a user without a password cannot sign in with one
    ok(api.post(USERS, headers=owner.headers, json={"name": "robot"}), 201)
    robot = {"account": owner.alias, "user": "robot", "password": PASSWORD}
    expect(api.post(f"{API}/sessions", json=robot), 401, "InvalidCredentials")


def console_sign_in(api: TestClient, alias: str, user: str) -> int:
    page = api.get(f"/login/{alias}")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = api.post(
        f"/login/{alias}",
        data={"csrf_token": token, "user": user, "password": PASSWORD},
        follow_redirects=False,
    )
    return response.status_code


def test_console_access_off_blocks_console_sessions(api: TestClient, owner: Owner) -> None:
    body = {"name": "dev", "password": PASSWORD, "console_enabled": False}
    ok(api.post(USERS, headers=owner.headers, json=body), 201)
    assert console_sign_in(api, owner.alias, "dev") == 403
    assert "rtc_session" not in api.cookies
    ok(api.patch(f"{USERS}/dev", headers=owner.headers, json={"console_enabled": True}))
    assert console_sign_in(api, owner.alias, "dev") == 303
    assert api.get("/console", follow_redirects=False).status_code == 200
    # turned off again: the open console session ends too
    ok(api.patch(f"{USERS}/dev", headers=owner.headers, json={"console_enabled": False}))
    assert api.get("/console", follow_redirects=False).status_code in (303, 401)
    assert console_sign_in(api, owner.alias, "dev") == 403


def test_user_access_keys_at_most_two(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    ok(api.post(USERS, headers=h, json={"name": "dev"}), 201)
    first = user_key(api, owner, "dev")
    user_key(api, owner, "dev")
    refused = expect(api.post(f"{USERS}/dev/access-keys", headers=h), 409, "AccessKeyLimitExceeded")
    assert "2" in refused["message"]
    keys = ok(api.get(f"{USERS}/dev/access-keys", headers=h))
    assert len(keys) == 2
    key_id = first["Authorization"].split()[1].split(":")[0]
    assert key_id in {k["id"] for k in keys}
    disabled = api.patch(
        f"{USERS}/dev/access-keys/{key_id}", headers=h, json={"status": "Inactive"}
    )
    assert ok(disabled)["status"] == "Inactive"
    ok(api.delete(f"{USERS}/dev/access-keys/{key_id}", headers=h), 204)
    assert len(ok(api.get(f"{USERS}/dev/access-keys", headers=h))) == 1
    user_key(api, owner, "dev")
    # the account's own key is not the user's, nor another user's
    own = ok(api.post(f"{API}/access-keys", headers=h), 201)["id"]
    expect(api.delete(f"{USERS}/dev/access-keys/{own}", headers=h), 404, "AccessKeyNotFound")
    ok(api.post(USERS, headers=h, json={"name": "alice"}), 201)
    theirs = ok(api.get(f"{USERS}/dev/access-keys", headers=h))[0]["id"]
    refused = api.delete(f"{USERS}/alice/access-keys/{theirs}", headers=h)
    expect(refused, 404, "AccessKeyNotFound")
    expect(api.post(f"{USERS}/nobody/access-keys", headers=h), 404, "EntityNotExist.User")
    expect(api.get(f"{API}/me", headers=first), 401, "InvalidAccessKey")


def test_deleting_a_user_removes_memberships_attachments_and_keys(
    api: TestClient, owner: Owner, platform: platform_module.Platform
) -> None:
    create_policy(api, owner, "Reader", allow("ram:List*"))
    key = ram_user(api, owner, "dev", system=["StreamReadOnlyAccess"], custom=["Reader"])
    create_group(api, owner, "ops", members=["dev"])
    ok(api.put(f"{USERS}/dev/password", headers=owner.headers, json={"password": PASSWORD}), 204)
    session = api.post(
        f"{API}/sessions", json={"account": owner.alias, "user": "dev", "password": PASSWORD}
    )
    token = {"Authorization": f"Bearer {ok(session, 201)['token']}"}
    assert ok(api.get(USERS, headers=key))["total"] == 1

    ok(api.delete(f"{USERS}/dev", headers=owner.headers), 204)
    expect(api.get(f"{API}/me", headers=key), 401)
    expect(api.get(f"{API}/me", headers=token), 401)
    assert count(platform, tables.GroupMember) == 0
    assert count(platform, tables.PolicyAttachment) == 0
    assert count(platform, tables.Identity, identity_type="ram_user") == 0
    assert count(platform, tables.AccessKey) == 0
    assert count(platform, tables.Session) == 1  # the owner's
    # a new user of the same name inherits nothing
    ok(api.post(USERS, headers=owner.headers, json={"name": "dev"}), 201)
    assert ok(api.get(f"{USERS}/dev/groups", headers=owner.headers)) == []
    assert ok(api.get(f"{USERS}/dev/policies", headers=owner.headers)) == []
    assert ok(api.get(f"{USERS}/dev/access-keys", headers=owner.headers)) == []
    assert ok(api.get(f"{GROUPS}/ops/users", headers=owner.headers)) == []
    # the policy is free again
    ok(api.delete(f"{POLICIES}/Custom/Reader", headers=owner.headers), 204)


def test_set_password_ends_the_users_sessions_and_unbind_mfa(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    ok(api.post(USERS, headers=h, json={"name": "dev", "password": PASSWORD}), 201)
    signed = api.post(
        f"{API}/sessions", json={"account": owner.alias, "user": "dev", "password": PASSWORD}
    )
    token = {"Authorization": f"Bearer {ok(signed, 201)['token']}"}
    ok(api.get(f"{API}/me", headers=token))
    expect(api.put(f"{USERS}/dev/password", headers=h, json={"password": "short"}), 400)
    ok(api.put(f"{USERS}/dev/password", headers=h, json={"password": "battery-staple-7"}), 204)
    expect(api.get(f"{API}/me", headers=token), 401, "SessionExpired")
    again = {"account": owner.alias, "user": "dev", "password": "battery-staple-7"}
    ok(api.post(f"{API}/sessions", json=again), 201)
    ok(api.delete(f"{USERS}/dev/mfa", headers=h), 204)
    expect(api.put(f"{USERS}/nobody/password", headers=h, json={"password": PASSWORD}), 404)


# ---------------------------------------------------------------- groups


def test_group_lifecycle_and_members(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    ok(api.post(USERS, headers=h, json={"name": "dev"}), 201)
    group = ok(api.post(GROUPS, headers=h, json={"name": "ops", "comment": "on call"}), 201)
    assert group["arn"] == f"acs:ram::{owner.account_id}:group/ops"
    expect(api.post(GROUPS, headers=h, json={"name": "ops"}), 409, "EntityAlreadyExists.Group")
    expect(api.get(f"{GROUPS}/nope", headers=h), 404, "EntityNotExist.Group")
    ok(api.put(f"{GROUPS}/ops/users/dev", headers=h), 204)
    ok(api.put(f"{GROUPS}/ops/users/dev", headers=h), 204)  # again: a no-op
    expect(api.put(f"{GROUPS}/ops/users/nobody", headers=h), 404, "EntityNotExist.User")
    expect(api.put(f"{GROUPS}/nope/users/dev", headers=h), 404, "EntityNotExist.Group")
    assert [u["name"] for u in ok(api.get(f"{GROUPS}/ops/users", headers=h))] == ["dev"]
    assert [g["name"] for g in ok(api.get(f"{USERS}/dev/groups", headers=h))] == ["ops"]
    renamed = ok(api.patch(f"{GROUPS}/ops", headers=h, json={"new_name": "sre"}))
    assert renamed["name"] == "sre"
    assert [g["name"] for g in ok(api.get(f"{USERS}/dev/groups", headers=h))] == ["sre"]
    ok(api.post(GROUPS, headers=h, json={"name": "dba"}), 201)
    taken = api.patch(f"{GROUPS}/dba", headers=h, json={"new_name": "sre"})
    expect(taken, 409, "EntityAlreadyExists.Group")
    ok(api.delete(f"{GROUPS}/sre/users/dev", headers=h), 204)
    expect(api.delete(f"{GROUPS}/sre/users/dev", headers=h), 404, "EntityNotExist.User.Group")
    assert ok(api.get(GROUPS, headers=h))["total"] == 2
    ok(api.delete(f"{GROUPS}/sre", headers=h), 204)
    expect(api.delete(f"{GROUPS}/sre", headers=h), 404, "EntityNotExist.Group")


def test_a_user_joins_at_most_ten_groups(api: TestClient, owner: Owner) -> None:
    assert ram.MAX_GROUPS_PER_USER == 10
    ok(api.post(USERS, headers=owner.headers, json={"name": "dev"}), 201)
    for n in range(ram.MAX_GROUPS_PER_USER + 1):
        create_group(api, owner, f"g{n}")
    for n in range(ram.MAX_GROUPS_PER_USER):
        ok(api.put(f"{GROUPS}/g{n}/users/dev", headers=owner.headers), 204)
    refused = api.put(f"{GROUPS}/g10/users/dev", headers=owner.headers)
    body = expect(refused, 409, "LimitExceeded.GroupsPerUser")
    assert "at most 10 groups per user" in body["message"]
    assert ok(api.get(f"{GROUPS}/g10/users", headers=owner.headers)) == []
    ok(api.put(f"{GROUPS}/g0/users/dev", headers=owner.headers), 204)  # already in: no-op
    ok(api.delete(f"{GROUPS}/g0/users/dev", headers=owner.headers), 204)
    ok(api.put(f"{GROUPS}/g10/users/dev", headers=owner.headers), 204)


def test_deleting_a_group_removes_memberships_and_attachments(
    api: TestClient, owner: Owner, platform: platform_module.Platform
) -> None:
    create_policy(api, owner, "Reader", allow("ram:List*"))
    ok(api.post(USERS, headers=owner.headers, json={"name": "dev"}), 201)
    create_group(api, owner, "ops", members=["dev"])
    attach(api, owner, "groups/ops", "Reader")
    refused = expect(api.delete(f"{POLICIES}/Custom/Reader", headers=owner.headers), 409)
    assert refused["code"] == "DeleteConflict.Policy.Attachment"
    ok(api.delete(f"{GROUPS}/ops", headers=owner.headers), 204)
    assert count(platform, tables.GroupMember) == 0
    assert count(platform, tables.PolicyAttachment) == 0
    assert ok(api.get(f"{USERS}/dev/groups", headers=owner.headers)) == []
    ok(api.delete(f"{POLICIES}/Custom/Reader", headers=owner.headers), 204)


# ---------------------------------------------------------------- policies and versions


def test_custom_policy_lifecycle(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    text = document(allow("stream:*", "acs:stream:*:*:projectname"))
    created = ok(api.post(POLICIES, headers=h, json={"name": "P", "document": text}), 201)
    assert (created["policy_type"], created["default_version"], created["document"]) == (
        "Custom",
        "v1",
        text,
    )
    again = api.post(POLICIES, headers=h, json={"name": "P", "document": text})
    expect(again, 409, "EntityAlreadyExists.Policy")
    system_name = {"name": "AdministratorAccess", "document": text}
    expect(api.post(POLICIES, headers=h, json=system_name), 409, "EntityAlreadyExists.Policy")
    assert ok(api.get(f"{POLICIES}/Custom/P", headers=h))["document"] == text
    expect(api.get(f"{POLICIES}/Custom/Nope", headers=h), 404, "EntityNotExist.Policy")
    expect(api.get(f"{POLICIES}/System/Nope", headers=h), 404, "EntityNotExist.Policy")
    expect(api.get(f"{POLICIES}/Custom/AdministratorAccess", headers=h), 404)
    system = ok(api.get(f"{POLICIES}/System/StreamReadOnlyAccess", headers=h))
    assert "stream:Describe*" in system["document"]
    listed = ok(api.get(POLICIES, headers=h))
    assert listed["total"] == len(ram.SYSTEM_POLICIES) + 1
    assert listed["policies"][-1]["name"] == "P"
    custom = ok(api.get(POLICIES, headers=h, params={"policy_type": "Custom"}))
    assert [p["name"] for p in custom["policies"]] == ["P"]
    only_system = ok(api.get(POLICIES, headers=h, params={"policy_type": "System"}))
    assert sorted(p["name"] for p in only_system["policies"]) == sorted(ram.SYSTEM_POLICIES)
    ok(api.delete(f"{POLICIES}/Custom/P", headers=h), 204)
    expect(api.delete(f"{POLICIES}/Custom/P", headers=h), 404, "EntityNotExist.Policy")
    expect(api.delete(f"{POLICIES}/System/AdministratorAccess", headers=h), 405)


def test_policy_documents_are_validated_naming_statement_and_element(
    api: TestClient, owner: Owner, platform: platform_module.Platform
) -> None:
    bad = json.dumps(
        {"Version": "1", "Statement": [allow("stream:*"), {"Effect": "Allow", "Action": "x:y"}]}
    )
    refused = expect(
        api.post(POLICIES, headers=owner.headers, json={"name": "P", "document": bad}),
        400,
        "InvalidPolicyDocument",
    )
    assert "Statement[1].Resource" in refused["message"]
    checked = ok(api.post(f"{POLICIES}/validate", headers=owner.headers, json={"document": bad}))
    assert checked["valid"] is False
    assert {"statement": 1, "element": "Resource"}.items() <= checked["problems"][0].items()
    fine = {"document": document(allow("stream:*"))}
    assert ok(api.post(f"{POLICIES}/validate", headers=owner.headers, json=fine))["valid"]
    trust = {"document": document(allow("stream:*")), "kind": "trust"}
    assert not ok(api.post(f"{POLICIES}/validate", headers=owner.headers, json=trust))["valid"]
    assert count(platform, tables.RamPolicy) == 0


def padded(length: int) -> str:
    """A valid document of exactly `length` characters (padding in a resource name)."""
    base = document(allow("stream:List*", "acs:stream:*:*:"))
    pad = length - len(base)
    assert pad >= 0
    padded_text = document(allow("stream:List*", "acs:stream:*:*:" + "p" * pad))
    assert len(padded_text) == length
    return padded_text


def test_documents_over_6144_characters_are_refused(
    api: TestClient, owner: Owner, platform: platform_module.Platform
) -> None:
    assert policies.MAX_DOCUMENT_CHARS == 6_144
    h = owner.headers
    ok(api.post(POLICIES, headers=h, json={"name": "Max", "document": padded(6_144)}), 201)
    refused = api.post(POLICIES, headers=h, json={"name": "Over", "document": padded(6_145)})
    assert "6144" in expect(refused, 400, "InvalidPolicyDocument")["message"]
    version = {"document": padded(6_145)}
    refused = api.post(f"{POLICIES}/Custom/Max/versions", headers=h, json=version)
    assert "6144" in expect(refused, 400, "InvalidPolicyDocument")["message"]
    assert count(platform, tables.RamPolicy) == 1
    assert count(platform, tables.RamPolicyVersion) == 1


def test_versions_at_most_five_and_the_default_stays(api: TestClient, owner: Owner) -> None:
    assert ram.MAX_POLICY_VERSIONS == 5
    h = owner.headers
    create_policy(api, owner, "P", allow("stream:List*"))
    url = f"{POLICIES}/Custom/P"
    for n in range(2, 6):
        made = ok(
            api.post(f"{url}/versions", headers=h, json={"document": document(allow(f"s{n}:x"))}),
            201,
        )
        assert (made["version_id"], made["is_default"]) == (f"v{n}", False)
    sixth = api.post(f"{url}/versions", headers=h, json={"document": document(allow("s6:x"))})
    assert (
        "at most 5 versions per policy"
        in expect(sixth, 409, "LimitExceeded.VersionsPerPolicy")["message"]
    )
    listed = ok(api.get(f"{url}/versions", headers=h))
    assert [(v["version_id"], v["is_default"]) for v in listed] == [
        ("v1", True),
        ("v2", False),
        ("v3", False),
        ("v4", False),
        ("v5", False),
    ]
    refused = api.delete(f"{url}/versions/v1", headers=h)
    assert "default" in expect(refused, 409, "DeleteConflict.PolicyVersion.Default")["message"]
    expect(api.delete(f"{url}/versions/v9", headers=h), 404, "EntityNotExist.PolicyVersion")
    unknown = api.put(f"{url}/default-version", headers=h, json={"version_id": "v9"})
    expect(unknown, 404, "EntityNotExist.PolicyVersion")
    ok(api.put(f"{url}/default-version", headers=h, json={"version_id": "v3"}), 204)
    shown = ok(api.get(url, headers=h))
    assert (shown["default_version"], shown["document"]) == ("v3", document(allow("s3:x")))
    ok(api.delete(f"{url}/versions/v1", headers=h), 204)
    made = ok(
        api.post(
            f"{url}/versions",
            headers=h,
            json={"document": document(allow("s6:x")), "set_as_default": True},
        ),
        201,
    )
    assert (made["version_id"], made["is_default"]) == ("v6", True)
    assert ok(api.get(url, headers=h))["default_version"] == "v6"
    system = ok(api.get(f"{POLICIES}/System/RAMFullAccess/versions", headers=h))
    assert [(v["version_id"], v["is_default"]) for v in system] == [("v1", True)]
    expect(
        api.post(
            f"{POLICIES}/Custom/Nope/versions", headers=h, json={"document": document(allow("a:b"))}
        ),
        404,
        "EntityNotExist.Policy",
    )


def test_versions_are_listed_by_number(api: TestClient, owner: Owner) -> None:
    """The fake clock stands still: every version has the same creation time."""
    h = owner.headers
    create_policy(api, owner, "P", allow("stream:List*"))
    url = f"{POLICIES}/Custom/P/versions"

    def add(count: int) -> None:
        for _ in range(count):
            ok(api.post(url, headers=h, json={"document": document(allow("a:b"))}), 201)

    def remove(*versions: int) -> None:
        for number in versions:
            ok(api.delete(f"{url}/v{number}", headers=h), 204)

    add(4)
    remove(2, 3, 4)
    add(3)
    remove(5, 6, 7)
    add(2)
    assert [v["version_id"] for v in ok(api.get(url, headers=h))] == ["v1", "v8", "v9", "v10"]


def test_deleting_an_attached_policy_is_refused_naming_why(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    create_policy(api, owner, "P", allow("stream:List*"))
    ok(api.post(USERS, headers=h, json={"name": "dev"}), 201)
    ok(api.post(ROLES, headers=h, json={"name": "runner"}), 201)
    attach(api, owner, "users/dev", "P")
    attach(api, owner, "roles/runner", "P")
    refused = expect(api.delete(f"{POLICIES}/Custom/P", headers=h), 409)
    assert refused["code"] == "DeleteConflict.Policy.Attachment"
    assert "attached" in refused["message"]
    assert "dev" in refused["message"] and "runner" in refused["message"]
    entities = ok(api.get(f"{POLICIES}/Custom/P/attachments", headers=h))
    assert sorted((e["kind"], e["name"]) for e in entities) == [("Role", "runner"), ("User", "dev")]
    ok(api.delete(f"{USERS}/dev/policies/Custom/P", headers=h), 204)
    ok(api.delete(f"{ROLES}/runner/policies/Custom/P", headers=h), 204)
    ok(api.delete(f"{POLICIES}/Custom/P", headers=h), 204)


# ---------------------------------------------------------------- roles


def test_role_lifecycle(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    role = ok(api.post(ROLES, headers=h, json={"name": "runner", "description": "jobs"}), 201)
    assert role["arn"] == f"acs:ram::{owner.account_id}:role/runner"
    assert f"acs:ram::{owner.account_id}:root" in role["trust_policy"]
    expect(api.post(ROLES, headers=h, json={"name": "runner"}), 409, "EntityAlreadyExists.Role")
    not_trust = {"name": "bad", "trust_policy": document(allow("stream:*"))}
    expect(api.post(ROLES, headers=h, json=not_trust), 400, "InvalidPolicyDocument")
    trust = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": ["stream.rtcompute.io"]},
                }
            ],
        }
    )
    changed = ok(api.patch(f"{ROLES}/runner", headers=h, json={"trust_policy": trust}))
    assert changed["trust_policy"] == trust
    expect(api.patch(f"{ROLES}/runner", headers=h, json={"trust_policy": "{"}), 400)
    assert ok(api.get(f"{ROLES}/runner", headers=h))["trust_policy"] == trust
    attach(api, owner, "roles/runner", "StreamFullAccess", "System")
    listed = ok(api.get(f"{ROLES}/runner/policies", headers=h))
    assert [(a["policy_type"], a["policy_name"]) for a in listed] == [
        ("System", "StreamFullAccess")
    ]
    assert ok(api.get(ROLES, headers=h))["total"] == 1
    ok(api.delete(f"{ROLES}/runner", headers=h), 204)
    expect(api.get(f"{ROLES}/runner", headers=h), 404, "EntityNotExist.Role")
    expect(api.delete(f"{ROLES}/runner", headers=h), 404, "EntityNotExist.Role")
    ok(api.post(ROLES, headers=h, json={"name": "runner"}), 201)
    assert ok(api.get(f"{ROLES}/runner/policies", headers=h)) == []


# ---------------------------------------------------------------- attachments


@pytest.mark.parametrize("holder", ["users", "groups", "roles"])
def test_attachment_errors(api: TestClient, owner: Owner, holder: str) -> None:
    h = owner.headers
    kind = {"users": "User", "groups": "Group", "roles": "Role"}[holder]
    ok(api.post(f"{API}/ram/{holder}", headers=h, json={"name": "x"}), 201)
    create_policy(api, owner, "P", allow("stream:List*"))
    base = f"{API}/ram/{holder}/x/policies"
    expect(api.put(f"{base}/Custom/Nope", headers=h), 404, "EntityNotExist.Policy")
    expect(api.put(f"{base}/System/Nope", headers=h), 404, "EntityNotExist.Policy")
    missing = f"{API}/ram/{holder}/nobody/policies/Custom/P"
    expect(api.put(missing, headers=h), 404, f"EntityNotExist.{kind}")
    ok(api.put(f"{base}/Custom/P", headers=h), 204)
    expect(api.put(f"{base}/Custom/P", headers=h), 409, f"EntityAlreadyExists.{kind}.Policy")
    ok(api.put(f"{base}/System/StreamFullAccess", headers=h), 204)
    listed = ok(api.get(base, headers=h))
    assert sorted((a["policy_type"], a["policy_name"]) for a in listed) == [
        ("Custom", "P"),
        ("System", "StreamFullAccess"),
    ]
    ok(api.delete(f"{base}/Custom/P", headers=h), 204)
    expect(api.delete(f"{base}/Custom/P", headers=h), 404, f"EntityNotExist.{kind}.Policy")
    expect(api.put(f"{base}/Other/P", headers=h), 422)


def test_ten_custom_policies_per_holder(api: TestClient, owner: Owner) -> None:
    assert ram.MAX_CUSTOM_ATTACHMENTS == 10
    ok(api.post(USERS, headers=owner.headers, json={"name": "dev"}), 201)
    for n in range(ram.MAX_CUSTOM_ATTACHMENTS + 1):
        create_policy(api, owner, f"P{n}", allow(f"s{n}:x"))
    for n in range(ram.MAX_CUSTOM_ATTACHMENTS):
        attach(api, owner, "users/dev", f"P{n}")
    refused = api.put(f"{USERS}/dev/policies/Custom/P10", headers=owner.headers)
    body = expect(refused, 409, "LimitExceeded.CustomPoliciesAttachedPerUser")
    assert "at most 10 custom policies attached per user" in body["message"]
    # system policies count apart
    attach(api, owner, "users/dev", "StreamFullAccess", "System")


def test_system_attachments_per_holder_limit(
    api: TestClient, owner: Owner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The vendor's 20 cannot be reached with the shipped system policies: a smaller limit."""
    monkeypatch.setattr(ram, "MAX_SYSTEM_ATTACHMENTS", 2)
    ok(api.post(GROUPS, headers=owner.headers, json={"name": "ops"}), 201)
    attach(api, owner, "groups/ops", "StreamFullAccess", "System")
    attach(api, owner, "groups/ops", "RAMFullAccess", "System")
    refused = api.put(f"{GROUPS}/ops/policies/System/AdministratorAccess", headers=owner.headers)
    body = expect(refused, 409, "LimitExceeded.SystemPoliciesAttachedPerGroup")
    assert "at most 2 system policies attached per group" in body["message"]


def test_limits_are_the_vendors() -> None:
    assert (ram.MAX_USERS, ram.MAX_GROUPS, ram.MAX_ROLES) == (5_000, 300, 1_000)
    assert (ram.MAX_SYSTEM_ATTACHMENTS, ram.MAX_CUSTOM_ATTACHMENTS) == (20, 10)
    assert (ram.MAX_CUSTOM_POLICIES, ram.MAX_POLICY_VERSIONS) == (1_500, 5)
    assert (ram.MAX_GROUPS_PER_USER, ram.MAX_NAME, policies.MAX_DOCUMENT_CHARS) == (10, 128, 6_144)


def bulk(
    platform: platform_module.Platform, table: type[tables.Base], rows: list[dict[str, object]]
) -> None:
    with db.transaction(platform.sessions) as session:
        session.execute(insert(table), rows)


def test_account_wide_limits(
    api: TestClient, owner: Owner, platform: platform_module.Platform
) -> None:
    """Filled to the vendor's limits in bulk; the next one through the API is refused."""
    aid = owner.account_id
    common = {"account_id": aid, "created_at": NOW}
    bulk(
        platform,
        tables.Identity,
        [
            {**common, "identity_type": "ram_user", "name": f"u{n}", "console_enabled": False}
            for n in range(ram.MAX_USERS)
        ],
    )
    bulk(platform, tables.RamGroup, [{**common, "name": f"g{n}"} for n in range(ram.MAX_GROUPS)])
    bulk(
        platform,
        tables.RamRole,
        [
            {
                **common,
                "name": f"r{n}",
                "trust_policy": ram.account_trust_policy(aid),
                "updated_at": NOW,
            }
            for n in range(ram.MAX_ROLES)
        ],
    )
    bulk(
        platform,
        tables.RamPolicy,
        [
            {
                **common,
                "name": f"p{n}",
                "default_version": "v1",
                "next_version": 2,
                "updated_at": NOW,
            }
            for n in range(ram.MAX_CUSTOM_POLICIES)
        ],
    )
    h = owner.headers
    cases = [
        (USERS, {"name": "one-more"}, "LimitExceeded.RamUsersPerAccount", "5000 RAM users"),
        (GROUPS, {"name": "one-more"}, "LimitExceeded.GroupsPerAccount", "300 groups"),
        (ROLES, {"name": "one-more"}, "LimitExceeded.RolesPerAccount", "1000 roles"),
        (
            POLICIES,
            {"name": "one-more", "document": document(allow("a:b"))},
            "LimitExceeded.CustomPoliciesPerAccount",
            "1500 custom policies",
        ),
    ]
    for url, body, code, words in cases:
        refused = expect(api.post(url, headers=h, json=body), 409, code)
        assert f"at most {words} per account" in refused["message"], refused
    overview = ok(api.get(f"{API}/ram/overview", headers=h))
    assert (overview["users"], overview["groups"], overview["roles"]) == (5_000, 300, 1_000)
    assert overview["custom_policies"] == 1_500
    assert overview["limits"]["users"] == 5_000
    # room again after one goes
    ok(api.delete(f"{USERS}/u0", headers=h), 204)
    ok(api.post(USERS, headers=h, json={"name": "one-more"}), 201)
    # another account has its own limits
    other = account(api, "other")
    ok(api.post(USERS, headers=other.headers, json={"name": "one-more"}), 201)
