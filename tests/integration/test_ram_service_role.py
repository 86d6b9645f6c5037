"""The service role (guide: 共享模式角色授权 and 独享模式角色授权) through the API and the
service (both databases): authorize, re-initialize, and readiness for exclusive clusters.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from rtcompute import errors
from rtcompute.domain import policies, ram
from rtcompute.services.iam import service_role
from rtcompute.services.kernel import platform as platform_module
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    attach,
    authorize_service_role,
    create_policy,
    detach,
    document,
    expect,
    ok,
    paid_order,
    ram_user,
    shared_project,
)

SERVICE_ROLE = f"{API}/ram/service-role"
ROLE_POLICY = f"{API}/ram/policies/Custom/{ram.SERVICE_ROLE_POLICY}"


@pytest.fixture
def owner(api: TestClient) -> Owner:
    return account(api)


def status(api: TestClient, owner: Owner) -> dict[str, Any]:
    found: dict[str, Any] = ok(api.get(SERVICE_ROLE, headers=owner.headers))
    return found


def guide_statements() -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = json.loads(ram.SERVICE_ROLE_POLICY_DOCUMENT)["Statement"]
    return statements


def without(*actions: str) -> str:
    """The guide's policy with some actions taken out (a statement left empty goes)."""
    kept = []
    for statement in guide_statements():
        listed = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        remaining = [a for a in listed if a not in actions]
        if remaining:
            kept.append({**statement, "Action": remaining})
    return json.dumps({"Version": "1", "Statement": kept})


def replace_policy(api: TestClient, owner: Owner, text: str) -> None:
    body = {"document": text, "set_as_default": True}
    ok(api.post(f"{ROLE_POLICY}/versions", headers=owner.headers, json=body), 201)


def projects_refused(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    order = paid_order(api, owner)["id"]
    for response in (
        api.get(f"{API}/projects", headers=h),
        api.post(f"{API}/projects", headers=h, json={"name": "analytics", "order_id": order}),
        api.get(f"{API}/projects/analytics", headers=h),
        api.patch(f"{API}/projects/analytics", headers=h, json={"description": "d"}),
        api.delete(f"{API}/projects/analytics", headers=h),
    ):
        body = expect(response, 403, "ServiceRoleNotAuthorized")
        assert "service role page" in body["message"]
        assert "/console" not in body["message"] and "rtc " not in body["message"]
    assert ok(api.get(f"{API}/orders/{order}", headers=h))["state"] == "paid"


def test_before_authorization(api: TestClient, owner: Owner) -> None:
    current = status(api, owner)
    assert current["authorized"] is False
    assert current["policy_attached"] is False
    assert (current["role"], current["policy"]) == ("StreamDefaultRole", "StreamRolePolicy")
    assert current["policy_document"] == ram.SERVICE_ROLE_POLICY_DOCUMENT
    assert current["authorization_page"] == service_role.AUTHORIZATION_PAGE
    assert current["missing_for_cluster_creation"] == list(
        ram.exclusive_role_actions(creating=True)
    )
    assert current["missing_for_clusters"] == list(ram.exclusive_role_actions(creating=False))
    projects_refused(api, owner)


def test_authorize_is_idempotent(api: TestClient, owner: Owner) -> None:
    first = authorize_service_role(api, owner)
    assert first["policy_attached"] is True
    assert (first["missing_for_cluster_creation"], first["missing_for_clusters"]) == ([], [])
    second = authorize_service_role(api, owner)
    assert second == first
    roles = ok(api.get(f"{API}/ram/roles", headers=owner.headers))["roles"]
    assert [r["name"] for r in roles] == [ram.SERVICE_ROLE]
    trust = policies.parse_trust(roles[0]["trust_policy"])
    assert trust.trusts(service=ram.SERVICE_PRINCIPAL)
    assert not trust.trusts(account_id=owner.account_id)
    custom = ok(
        api.get(f"{API}/ram/policies", headers=owner.headers, params={"policy_type": "Custom"})
    )
    assert [p["name"] for p in custom["policies"]] == [ram.SERVICE_ROLE_POLICY]
    assert custom["policies"][0]["document"] == ram.SERVICE_ROLE_POLICY_DOCUMENT
    versions = ok(api.get(f"{ROLE_POLICY}/versions", headers=owner.headers))
    assert [v["version_id"] for v in versions] == ["v1"]
    attached = ok(api.get(f"{API}/ram/roles/{ram.SERVICE_ROLE}/policies", headers=owner.headers))
    assert [(a["policy_type"], a["policy_name"]) for a in attached] == [
        ("Custom", ram.SERVICE_ROLE_POLICY)
    ]
    shared_project(api, owner, "analytics")


def test_authorize_repairs_a_detached_policy(api: TestClient, owner: Owner) -> None:
    authorize_service_role(api, owner)
    detach(api, owner, f"roles/{ram.SERVICE_ROLE}", ram.SERVICE_ROLE_POLICY)
    broken = status(api, owner)
    assert broken["policy_attached"] is False
    assert broken["missing_for_clusters"] == list(ram.exclusive_role_actions(creating=False))
    assert authorize_service_role(api, owner)["policy_attached"] is True
    assert status(api, owner)["missing_for_clusters"] == []


def test_reinitialize_removes_role_and_policy(api: TestClient, owner: Owner) -> None:
    authorize_service_role(api, owner)
    replace_policy(api, owner, without("ecs:CreateNetworkInterface"))
    shared_project(api, owner, "analytics")
    reset = ok(api.delete(SERVICE_ROLE, headers=owner.headers))
    assert reset["authorized"] is False and reset["policy_attached"] is False
    expect(
        api.get(f"{API}/ram/roles/{ram.SERVICE_ROLE}", headers=owner.headers),
        404,
        "EntityNotExist.Role",
    )
    expect(api.get(ROLE_POLICY, headers=owner.headers), 404, "EntityNotExist.Policy")
    projects_refused(api, owner)
    # authorizing again brings the pristine policy back, and the projects with it
    again = authorize_service_role(api, owner)
    assert again["policy_document"] == ram.SERVICE_ROLE_POLICY_DOCUMENT
    assert again["missing_for_clusters"] == []
    assert [p["name"] for p in ok(api.get(f"{API}/projects", headers=owner.headers))] == [
        "analytics"
    ]
    # re-initializing twice is harmless
    ok(api.delete(SERVICE_ROLE, headers=owner.headers))
    assert ok(api.delete(SERVICE_ROLE, headers=owner.headers))["authorized"] is False


def test_reinitialize_keeps_the_policy_where_else_it_is_attached(
    api: TestClient, owner: Owner
) -> None:
    authorize_service_role(api, owner)
    ram_user(api, owner, "dev", custom=[ram.SERVICE_ROLE_POLICY])
    ok(api.delete(SERVICE_ROLE, headers=owner.headers))
    entities = ok(api.get(f"{ROLE_POLICY}/attachments", headers=owner.headers))
    assert [(e["kind"], e["name"]) for e in entities] == [("User", "dev")]


def test_a_role_that_does_not_trust_the_service_is_not_authorization(
    api: TestClient, owner: Owner
) -> None:
    ok(api.post(f"{API}/ram/roles", headers=owner.headers, json={"name": ram.SERVICE_ROLE}), 201)
    assert status(api, owner)["authorized"] is False
    projects_refused(api, owner)
    # "Agree" says why it cannot, and writes nothing
    refused = expect(api.post(SERVICE_ROLE, headers=owner.headers), 409, "EntityAlreadyExists.Role")
    assert "re-initialize" in refused["message"]
    assert (
        ok(api.get(f"{API}/ram/policies", headers=owner.headers, params={"policy_type": "Custom"}))[
            "total"
        ]
        == 0
    )
    trust = ram.service_trust_policy()
    changed = {"trust_policy": trust}
    ok(api.patch(f"{API}/ram/roles/{ram.SERVICE_ROLE}", headers=owner.headers, json=changed))
    assert status(api, owner)["authorized"] is True
    shared_project(api, owner, "analytics")


def test_exclusive_readiness_names_what_is_missing(
    api: TestClient, owner: Owner, platform: platform_module.Platform
) -> None:
    authorize_service_role(api, owner)
    service_role.check_exclusive(platform, owner.account_id, creating=True)
    replace_policy(api, owner, without("ecs:CreateNetworkInterface"))
    current = status(api, owner)
    assert current["missing_for_clusters"] == ["ecs:CreateNetworkInterface"]
    assert current["missing_for_cluster_creation"] == ["ecs:CreateNetworkInterface"]
    assert '"ecs:CreateNetworkInterface"' not in current["policy_document"]
    for creating in (True, False):
        with pytest.raises(errors.Forbidden) as caught:
            service_role.check_exclusive(platform, owner.account_id, creating=creating)
        assert caught.value.code == "ServiceRoleMissingAction"
        assert "ecs:CreateNetworkInterface" in caught.value.message

    # guide: the two security-group actions may go once the cluster exists
    replace_policy(api, owner, without(*ram.NETWORK_ACTIONS_AT_CREATION))
    current = status(api, owner)
    assert current["missing_for_clusters"] == []
    assert current["missing_for_cluster_creation"] == list(ram.NETWORK_ACTIONS_AT_CREATION)
    service_role.check_exclusive(platform, owner.account_id, creating=False)
    with pytest.raises(errors.Forbidden) as caught:
        service_role.check_exclusive(platform, owner.account_id, creating=True)
    assert "ecs:CreateSecurityGroup" in caught.value.message
    assert "ecs:AuthorizeSecurityGroup" in caught.value.message

    # replaced by another policy attached to the role: the same check
    replace_policy(api, owner, ram.SERVICE_ROLE_POLICY_DOCUMENT)
    detach(api, owner, f"roles/{ram.SERVICE_ROLE}", ram.SERVICE_ROLE_POLICY)
    create_policy(
        api, owner, "Replacement", *json.loads(without("ecs:CreateNetworkInterface"))["Statement"]
    )
    attach(api, owner, f"roles/{ram.SERVICE_ROLE}", "Replacement")
    current = status(api, owner)
    assert (current["policy_attached"], current["missing_for_clusters"]) == (
        False,
        ["ecs:CreateNetworkInterface"],
    )
    detach(api, owner, f"roles/{ram.SERVICE_ROLE}", "Replacement")
    attach(api, owner, f"roles/{ram.SERVICE_ROLE}", ram.SERVICE_ROLE_POLICY)

    # object storage is needed too, and a Deny anywhere on the role counts
    replace_policy(
        api,
        owner,
        document(
            *guide_statements(), {"Effect": "Deny", "Action": "oss:PutObject", "Resource": "*"}
        ),
    )
    assert status(api, owner)["missing_for_clusters"] == ["oss:PutObject"]
    create_policy(api, owner, "NoVpc", {"Effect": "Deny", "Action": "vpc:*", "Resource": "*"})
    attach(api, owner, f"roles/{ram.SERVICE_ROLE}", "NoVpc")
    assert status(api, owner)["missing_for_clusters"] == [
        "vpc:DescribeVpcs",
        "vpc:DescribeVSwitches",
        "oss:PutObject",
    ]

    ok(api.delete(SERVICE_ROLE, headers=owner.headers))
    with pytest.raises(errors.Forbidden) as caught:
        service_role.check_exclusive(platform, owner.account_id, creating=False)
    assert caught.value.code == "ServiceRoleNotAuthorized"


def test_another_accounts_role_is_not_this_accounts(api: TestClient, owner: Owner) -> None:
    other = account(api, "other")
    authorize_service_role(api, other)
    assert status(api, owner)["authorized"] is False
    projects_refused(api, owner)


def test_ram_users_need_rights_on_the_service_role(api: TestClient, owner: Owner) -> None:
    dev = ram_user(api, owner, "dev")
    role = f"acs:ram::{owner.account_id}:role/{ram.SERVICE_ROLE}"
    for response, action in (
        (api.get(SERVICE_ROLE, headers=dev), "ram:GetRole"),
        (api.post(SERVICE_ROLE, headers=dev), "ram:CreateRole"),
        (api.delete(SERVICE_ROLE, headers=dev), "ram:DeleteRole"),
    ):
        message = expect(response, 403, "Forbidden.RAM")["message"]
        assert action in message and role in message
    create_policy(
        api,
        owner,
        "ServiceRole",
        allow(["ram:GetRole", "ram:CreateRole"], f"acs:ram:*:*:role/{ram.SERVICE_ROLE}"),
    )
    attach(api, owner, "users/dev", "ServiceRole")
    assert ok(api.post(SERVICE_ROLE, headers=dev))["authorized"] is True
    assert ok(api.get(SERVICE_ROLE, headers=dev))["authorized"] is True
    expect(api.delete(SERVICE_ROLE, headers=dev), 403, "Forbidden.RAM")
