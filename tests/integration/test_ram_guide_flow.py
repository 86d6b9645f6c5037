"""The guide's sub-account flow through the API (账号管理 + 共享模式角色授权), both databases.

The account authorizes the service role and makes the projects (only the main account buys
and creates: 请使用主账号开通服务和创建项目); its RAM user works in the project its policy
names. Error 922019 arises "子账号在操作数据存储的时候": the user's first bucket is refused
until the account adds the guide's PassRole statement to the user's policy.
"""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from tests.conftest import PASSWORD, login, signup
from tests.integration.test_ram_support import (
    Owner,
    shared_project,
)

STREAM_STATEMENT = {
    "Action": "stream:*",
    "Resource": "acs:stream:*:*:projectname",
    "Effect": "Allow",
}
STORAGE_STATEMENT = {"Action": "oss:*", "Resource": "acs:oss:*:*:*", "Effect": "Allow"}
PASS_ROLE_STATEMENT = {"Action": "ram:PassRole", "Resource": "acs:ram:*:*:*", "Effect": "Allow"}


def document(*statements: dict[str, str]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)}, indent=2)


def test_guide_flow(api: TestClient) -> None:
    created = signup(api, "acme")
    owner = login(api, "acme")
    # before authorization, project operations point to the authorization page
    refused = api.get("/api/v1/projects", headers=owner)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "ServiceRoleNotAuthorized"
    assert "service role page" in refused.json()["message"]
    agreed = api.post("/api/v1/ram/service-role", headers=owner)
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["authorized"] is True
    assert agreed.json()["missing_for_cluster_creation"] == []
    acme = Owner("acme", str(created["id"]), owner)
    shared_project(api, acme, "other")
    shared_project(api, acme, "projectname")

    user = {"name": "dev", "password": PASSWORD, "console_enabled": True}
    assert api.post("/api/v1/ram/users", headers=owner, json=user).status_code == 201
    policy = {"name": "StreamProject", "document": document(STREAM_STATEMENT, STORAGE_STATEMENT)}
    assert api.post("/api/v1/ram/policies", headers=owner, json=policy).status_code == 201
    attach = "/api/v1/ram/users/dev/policies/Custom/StreamProject"
    assert api.put(attach, headers=owner).status_code == 204

    dev = login(api, "acme", user="dev")
    assert api.get("/api/v1/projects/projectname", headers=dev).status_code == 200
    denied = api.post("/api/v1/buckets", headers=dev, json={"name": "dev-udfs"})
    assert denied.status_code == 403, denied.text
    assert denied.json()["code"] == "922019"
    zh = api.post(
        "/api/v1/buckets", headers={**dev, "Accept-Language": "zh-CN"}, json={"name": "dev-udfs"}
    )
    assert zh.json()["message"] == "子账号没有passRole权限，请到RAM对该子账号赋权"
    assert api.get("/api/v1/buckets", headers=owner).json() == []

    statements = (STREAM_STATEMENT, STORAGE_STATEMENT, PASS_ROLE_STATEMENT)
    version = {"document": document(*statements), "set_as_default": True}
    created_version = api.post(
        "/api/v1/ram/policies/Custom/StreamProject/versions", headers=owner, json=version
    )
    assert created_version.status_code == 201, created_version.text
    made = api.post("/api/v1/buckets", headers=dev, json={"name": "dev-udfs"})
    assert made.status_code == 201, made.text
    assert made.json()["created_by"] == "dev@acme"
    # PassRole does not widen the stream policy
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
