"""Projects through the API (both databases): the service role comes first, then names,
conflicts and PassRole (guide error 922019) for RAM users.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from rtcompute.domain import ram
from rtcompute.services import service_role
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    attach,
    authorize_service_role,
    cheap_password_hashing,  # noqa: F401
    create_policy,
    deny,
    expect,
    ok,
    ram_user,
)

PROJECTS = f"{API}/projects"
ZH = "子账号没有passRole权限，请到RAM对该子账号赋权"  # noqa: RUF001


@pytest.fixture
def owner(api: TestClient) -> Owner:
    found = account(api)
    authorize_service_role(api, found)
    return found


def test_project_lifecycle(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    created = ok(api.post(PROJECTS, headers=h, json={"name": "analytics", "description": "d"}), 201)
    assert created["arn"] == f"acs:stream:local:{owner.account_id}:analytics"
    assert (created["region"], created["created_by"], created["description"]) == (
        "local",
        "acme",
        "d",
    )
    again = api.post(PROJECTS, headers=h, json={"name": "analytics"})
    expect(again, 409, "ProjectAlreadyExists")
    ok(api.post(PROJECTS, headers=h, json={"name": "billing"}), 201)
    assert [p["name"] for p in ok(api.get(PROJECTS, headers=h))] == ["analytics", "billing"]
    changed = ok(api.patch(f"{PROJECTS}/analytics", headers=h, json={"description": "new"}))
    assert changed["description"] == "new"
    assert ok(api.get(f"{PROJECTS}/analytics", headers=h))["description"] == "new"
    ok(api.delete(f"{PROJECTS}/analytics", headers=h), 204)
    expect(api.get(f"{PROJECTS}/analytics", headers=h), 404, "ProjectNotFound")
    expect(api.delete(f"{PROJECTS}/analytics", headers=h), 404, "ProjectNotFound")
    expect(api.patch(f"{PROJECTS}/analytics", headers=h, json={"description": "x"}), 404)
    # the name is free again; another account has its own namespace
    ok(api.post(PROJECTS, headers=h, json={"name": "analytics"}), 201)
    other = account(api, "other")
    authorize_service_role(api, other)
    ok(api.post(PROJECTS, headers=other.headers, json={"name": "analytics"}), 201)
    assert [p["name"] for p in ok(api.get(PROJECTS, headers=other.headers))] == ["analytics"]


@pytest.mark.parametrize(
    "name", ["ab", "1abc", "a-b-c", "a" * 65, "with space", "a/b", "a:b", "_abc", "", "项目"]
)
def test_project_names(api: TestClient, owner: Owner, name: str) -> None:
    response = api.post(PROJECTS, headers=owner.headers, json={"name": name})
    assert response.status_code in (400, 422), response.text
    assert ok(api.get(PROJECTS, headers=owner.headers)) == []


def test_valid_project_names(api: TestClient, owner: Owner) -> None:
    for name in ("abc", "A" + "b" * 63, "stream_01"):
        ok(api.post(PROJECTS, headers=owner.headers, json={"name": name}), 201)


def test_without_the_service_role_every_project_call_points_to_authorization(
    api: TestClient,
) -> None:
    owner = account(api, "fresh")
    for response in (
        api.get(PROJECTS, headers=owner.headers),
        api.post(PROJECTS, headers=owner.headers, json={"name": "analytics"}),
        api.get(f"{PROJECTS}/analytics", headers=owner.headers),
        api.patch(f"{PROJECTS}/analytics", headers=owner.headers, json={"description": ""}),
        api.delete(f"{PROJECTS}/analytics", headers=owner.headers),
    ):
        message = expect(response, 403, "ServiceRoleNotAuthorized")["message"]
        assert service_role.AUTHORIZATION_PAGE in message and ram.SERVICE_ROLE in message


def test_pass_role_for_ram_users(api: TestClient, owner: Owner) -> None:
    create_policy(api, owner, "Stream", allow("stream:*", "acs:stream:*:*:projectname"))
    dev = ram_user(api, owner, "dev", custom=["Stream"])
    refused = expect(api.post(PROJECTS, headers=dev, json={"name": "projectname"}), 403, "922019")
    assert "ram:PassRole" in refused["message"]
    zh = api.post(
        PROJECTS, headers={**dev, "Accept-Language": "zh-CN,en;q=0.5"}, json={"name": "projectname"}
    )
    assert expect(zh, 403, "922019")["message"] == ZH
    # PassRole on another role does not count; a Deny beats an Allow
    create_policy(api, owner, "PassOther", allow("ram:PassRole", "acs:ram:*:*:role/Other"))
    attach(api, owner, "users/dev", "PassOther")
    expect(api.post(PROJECTS, headers=dev, json={"name": "projectname"}), 403, "922019")
    create_policy(api, owner, "PassAll", allow("ram:PassRole", "acs:ram:*:*:*"))
    create_policy(api, owner, "NoPass", deny("ram:PassRole"))
    attach(api, owner, "users/dev", "PassAll")
    attach(api, owner, "users/dev", "NoPass")
    expect(api.post(PROJECTS, headers=dev, json={"name": "projectname"}), 403, "922019")
    ok(api.delete(f"{API}/ram/users/dev/policies/Custom/NoPass", headers=owner.headers), 204)
    made = ok(api.post(PROJECTS, headers=dev, json={"name": "projectname"}), 201)
    assert made["created_by"] == "dev@acme"
    # PassRole does not widen the stream policy
    refused = expect(api.post(PROJECTS, headers=dev, json={"name": "other"}), 403, "Forbidden.RAM")
    assert "stream:CreateProject" in refused["message"]
    # the account itself needs no PassRole
    ok(api.post(PROJECTS, headers=owner.headers, json={"name": "other"}), 201)


def test_a_ram_user_lists_only_what_it_may_see(api: TestClient, owner: Owner) -> None:
    for name in ("alpha", "beta", "gamma"):
        ok(api.post(PROJECTS, headers=owner.headers, json={"name": name}), 201)
    create_policy(
        api, owner, "Two", allow("stream:*", ["acs:stream:*:*:alpha", "acs:stream:*:*:gamma"])
    )
    dev = ram_user(api, owner, "dev", custom=["Two"])
    assert [p["name"] for p in ok(api.get(PROJECTS, headers=dev))] == ["alpha", "gamma"]
    expect(api.get(f"{PROJECTS}/beta", headers=dev), 403, "Forbidden.RAM")
    nobody = ram_user(api, owner, "nobody")
    message = expect(api.get(PROJECTS, headers=nobody), 403, "Forbidden.RAM")["message"]
    assert "stream:ListProjects" in message
