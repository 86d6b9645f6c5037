"""The guide's sub-account flow through the API (账号管理 + 共享模式角色授权), both databases."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from tests.conftest import PASSWORD, login, signup

STREAM_STATEMENT = {
    "Action": "stream:*",
    "Resource": "acs:stream:*:*:projectname",
    "Effect": "Allow",
}
PASS_ROLE_STATEMENT = {"Action": "ram:PassRole", "Resource": "acs:ram:*:*:*", "Effect": "Allow"}


def document(*statements: dict[str, str]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)}, indent=2)


def test_guide_flow(api: TestClient) -> None:
    signup(api, "acme")
    owner = login(api, "acme")
    # before authorization, project operations point to the authorization page
    refused = api.get("/api/v1/projects", headers=owner)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "ServiceRoleNotAuthorized"
    assert "/console/ram/service-role" in refused.json()["message"]
    agreed = api.post("/api/v1/ram/service-role", headers=owner)
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["authorized"] is True
    assert agreed.json()["missing_for_cluster_creation"] == []
    assert api.post("/api/v1/projects", headers=owner, json={"name": "other"}).status_code == 201

    user = {"name": "dev", "password": PASSWORD, "console_enabled": True}
    assert api.post("/api/v1/ram/users", headers=owner, json=user).status_code == 201
    policy = {"name": "StreamProject", "document": document(STREAM_STATEMENT)}
    assert api.post("/api/v1/ram/policies", headers=owner, json=policy).status_code == 201
    attach = "/api/v1/ram/users/dev/policies/Custom/StreamProject"
    assert api.put(attach, headers=owner).status_code == 204

    dev = login(api, "acme", user="dev")
    denied = api.post("/api/v1/projects", headers=dev, json={"name": "projectname"})
    assert denied.status_code == 403, denied.text
    assert denied.json()["code"] == "922019"
    zh = api.post(
        "/api/v1/projects",
        headers={**dev, "Accept-Language": "zh-CN"},
        json={"name": "projectname"},
    )
    assert zh.json()["message"] == "子账号没有passRole权限，请到RAM对该子账号赋权"  # noqa: RUF001

    version = {"document": document(STREAM_STATEMENT, PASS_ROLE_STATEMENT), "set_as_default": True}
    created = api.post(
        "/api/v1/ram/policies/Custom/StreamProject/versions", headers=owner, json=version
    )
    assert created.status_code == 201, created.text
    made = api.post("/api/v1/projects", headers=dev, json={"name": "projectname"})
    assert made.status_code == 201, made.text
    assert api.get("/api/v1/projects/projectname", headers=dev).status_code == 200
    other = api.get("/api/v1/projects/other", headers=dev)
    assert other.status_code == 403
    assert other.json()["code"] == "Forbidden.RAM"
    assert "stream:DescribeProject" in other.json()["message"]
    listed = api.get("/api/v1/projects", headers=dev)
    assert [p["name"] for p in listed.json()] == ["projectname"]
    assert sorted(p["name"] for p in api.get("/api/v1/projects", headers=owner).json()) == [
        "other",
        "projectname",
    ]
