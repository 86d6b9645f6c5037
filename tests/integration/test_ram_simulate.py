"""The policy simulator through the API (issue 3 §6, both databases): principals, inline
documents, the deciding policy and statement, context keys, and bad input.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import FakeClock
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    attach,
    create_group,
    create_policy,
    deny,
    document,
    expect,
    ok,
    ram_user,
)

SIMULATE = f"{API}/ram/simulate"


@pytest.fixture
def owner(api: TestClient) -> Owner:
    return account(api)


def project(owner: Owner, name: str) -> str:
    return f"acs:stream:local:{owner.account_id}:{name}"


def simulate(api: TestClient, owner: Owner, **body: Any) -> dict[str, Any]:
    result: dict[str, Any] = ok(api.post(SIMULATE, headers=owner.headers, json=body))
    return result


def verdict(result: dict[str, Any]) -> tuple[Any, ...]:
    return (result["decision"], result["policy_name"], result["policy_type"], result["statement"])


def test_a_user_through_its_group(api: TestClient, owner: Owner) -> None:
    create_policy(
        api,
        owner,
        "Projects",
        allow("stream:Describe*", "acs:stream:*:*:other"),
        allow("stream:*", "acs:stream:*:*:projectname"),
    )
    ram_user(api, owner, "dev")
    create_group(api, owner, "devs", members=["dev"])
    attach(api, owner, "groups/devs", "Projects")
    allowed = simulate(
        api,
        owner,
        principal="user/dev",
        action="stream:CreateJob",
        resource=project(owner, "projectname"),
    )
    assert verdict(allowed) == ("Allow", "Projects", "Custom", 1)
    other = simulate(
        api, owner, principal="user/dev", action="stream:CreateJob", resource=project(owner, "x")
    )
    assert verdict(other) == ("ImplicitDeny", None, None, None)
    group = simulate(
        api,
        owner,
        principal="group/devs",
        action="STREAM:describeproject",
        resource=project(owner, "other"),
    )
    assert verdict(group) == ("Allow", "Projects", "Custom", 0)


def test_explicit_deny_names_policy_and_statement(api: TestClient, owner: Owner) -> None:
    create_policy(api, owner, "Broad", allow("stream:*"))
    create_policy(
        api,
        owner,
        "Guard",
        allow("stream:List*"),
        allow("stream:Describe*"),
        deny("stream:Delete*", "acs:stream:*:*:prod*"),
    )
    ram_user(api, owner, "dev", custom=["Broad", "Guard"])
    denied = simulate(
        api,
        owner,
        principal="user/dev",
        action="stream:DeleteProject",
        resource=project(owner, "prod_eu"),
    )
    assert verdict(denied) == ("ExplicitDeny", "Guard", "Custom", 2)
    fine = simulate(
        api,
        owner,
        principal="user/dev",
        action="stream:DeleteProject",
        resource=project(owner, "test"),
    )
    assert verdict(fine) == ("Allow", "Broad", "Custom", 0)


def test_a_role_and_system_policies(api: TestClient, owner: Owner) -> None:
    ok(api.post(f"{API}/ram/roles", headers=owner.headers, json={"name": "runner"}), 201)
    attach(api, owner, "roles/runner", "StreamReadOnlyAccess", "System")
    listed = simulate(
        api,
        owner,
        principal="role/runner",
        action="stream:ListProjects",
        resource=project(owner, "*"),
    )
    assert verdict(listed) == ("Allow", "StreamReadOnlyAccess", "System", 0)
    created = simulate(
        api,
        owner,
        principal="role/runner",
        action="stream:CreateProject",
        resource=project(owner, "x"),
    )
    assert created["decision"] == "ImplicitDeny"


def test_inline_policies(api: TestClient, owner: Owner) -> None:
    documents = [
        document(allow("stream:*", "acs:stream:*:*:projectname")),
        document(allow("ram:PassRole"), deny("stream:DeleteProject")),
    ]
    created = simulate(
        api,
        owner,
        policies=documents,
        action="stream:CreateProject",
        resource=project(owner, "projectname"),
    )
    assert verdict(created) == ("Allow", "policy[0]", "Inline", 0)
    deleted = simulate(
        api,
        owner,
        policies=documents,
        action="stream:DeleteProject",
        resource=project(owner, "projectname"),
    )
    assert verdict(deleted) == ("ExplicitDeny", "policy[1]", "Inline", 1)
    nothing = simulate(
        api, owner, policies=documents, action="oss:GetObject", resource="acs:oss:*:*:b"
    )
    assert nothing["decision"] == "ImplicitDeny"


def test_context_keys(api: TestClient, owner: Owner, clock: FakeClock) -> None:
    documents = [
        document(
            allow("stream:List*", IpAddress={"acs:SourceIp": "10.0.0.0/8"}),
            allow("stream:Get*", StringEquals={"stream:Tag": ["blue", "green"]}),
            deny("stream:Get*", Bool={"acs:MFAPresent": "false"}),
            allow(
                "stream:Describe*",
                DateLessThan={"acs:CurrentTime": clock.now.isoformat()},
            ),
        )
    ]
    base = {"policies": documents, "resource": project(owner, "p")}
    lan = simulate(
        api, owner, **base, action="stream:ListJobs", context={"acs:SourceIp": "10.1.1.1"}
    )
    assert verdict(lan) == ("Allow", "policy[0]", "Inline", 0)
    for context in ({}, {"acs:SourceIp": "192.168.0.1"}, {"ACS:SOURCEIP": "::1"}):
        outside = simulate(api, owner, **base, action="stream:ListJobs", context=context)
        assert outside["decision"] == "ImplicitDeny", context
    # key names are case-insensitive; a list is a multi-valued key
    tagged = simulate(
        api,
        owner,
        **base,
        action="stream:GetJob",
        context={"STREAM:tag": ["red", "green"], "acs:MFAPresent": "true"},
    )
    assert verdict(tagged) == ("Allow", "policy[0]", "Inline", 1)
    no_mfa = simulate(
        api,
        owner,
        **base,
        action="stream:GetJob",
        context={"stream:Tag": "blue", "acs:MFAPresent": "false"},
    )
    assert verdict(no_mfa) == ("ExplicitDeny", "policy[0]", "Inline", 2)
    # acs:CurrentTime defaults to now, and may be given
    now = simulate(api, owner, **base, action="stream:DescribeJob")
    assert now["decision"] == "ImplicitDeny"
    earlier = simulate(
        api,
        owner,
        **base,
        action="stream:DescribeJob",
        context={"acs:CurrentTime": "2020-01-01T08:00:00+08:00"},
    )
    assert verdict(earlier) == ("Allow", "policy[0]", "Inline", 3)
    clock.advance(seconds=-1)
    assert simulate(api, owner, **base, action="stream:DescribeJob")["decision"] == "Allow"


def test_the_simulator_agrees_with_enforcement(api: TestClient, owner: Owner) -> None:
    create_policy(
        api, owner, "Users", allow("ram:ListUsers"), deny("ram:GetUser", "acs:ram:*:*:user/a*")
    )
    dev = ram_user(api, owner, "dev", custom=["Users"])
    ok(api.post(f"{API}/ram/users", headers=owner.headers, json={"name": "alice"}), 201)
    for action, path, resource in (
        ("ram:ListUsers", "/ram/users", "user/*"),
        ("ram:GetUser", "/ram/users/alice", "user/alice"),
        ("ram:GetUser", "/ram/users/dev", "user/dev"),
    ):
        simulated = simulate(
            api,
            owner,
            principal="user/dev",
            action=action,
            resource=f"acs:ram::{owner.account_id}:{resource}",
        )
        status = api.get(f"{API}{path}", headers=dev).status_code
        assert (simulated["decision"] == "Allow") is (status == 200), (action, resource)
    assert (
        simulate(
            api,
            owner,
            principal="user/dev",
            action="ram:GetUser",
            resource=f"acs:ram::{owner.account_id}:user/alice",
        )["decision"]
        == "ExplicitDeny"
    )


def test_simulating_needs_its_own_permission(api: TestClient, owner: Owner) -> None:
    body = {"principal": "user/dev", "action": "ram:ListUsers", "resource": "*"}
    dev = ram_user(api, owner, "dev", system=["RAMReadOnlyAccess"])
    refused = expect(api.post(SIMULATE, headers=dev, json=body), 403, "Forbidden.RAM")
    assert "ram:SimulatePolicy" in refused["message"]
    attach(api, owner, "users/dev", "RAMFullAccess", "System")
    ok(api.post(SIMULATE, headers=dev, json=body))


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        (
            {"principal": "user/dev", "policies": [document(allow("a:b"))]},
            400,
            "InvalidParameter.Simulation",
            "either",
        ),
        ({}, 400, "InvalidParameter.Simulation", "either"),
        ({"principal": "dev"}, 400, "InvalidParameter.Principal", "user/NAME"),
        ({"principal": "user/"}, 400, "InvalidParameter.Principal", "user/NAME"),
        ({"principal": "account/acme"}, 400, "InvalidParameter.Principal", "user/NAME"),
        ({"principal": "user/nobody"}, 404, "EntityNotExist.User", "nobody"),
        ({"principal": "group/nobody"}, 404, "EntityNotExist.Group", "nobody"),
        ({"principal": "role/nobody"}, 404, "EntityNotExist.Role", "nobody"),
        ({"principal": "user/a\x00b"}, 422, "InvalidParameter", "principal"),
        ({"policies": []}, 400, "InvalidParameter.Policies", None),
        (
            {"policies": [document(allow("a:b")), '{"Version": "2", "Statement": []}']},
            400,
            "InvalidPolicyDocument",
            "policy[1]",
        ),
        ({"policies": ["not json"]}, 400, "InvalidPolicyDocument", "policy[0]"),
        ({"policies": [document(allow("a:b"))] * 31}, 422, "InvalidParameter", None),
        ({"policies": [7]}, 422, "InvalidParameter", None),
        (
            {"policies": [document(allow("a:b"))], "context": {f"k{n}": "v" for n in range(51)}},
            400,
            "InvalidParameter.Context",
            "50",
        ),
        (
            {"policies": [document(allow("a:b"))], "context": {"k": "a\x00"}},
            400,
            "InvalidParameter.Context",
            None,
        ),
        (
            {"policies": [document(allow("a:b"))], "context": {"": "v"}},
            400,
            "InvalidParameter.Context",
            None,
        ),
        ({"policies": [document(allow("a:b"))], "context": {"k": 1}}, 422, None, None),
        ({"policies": [document(allow("a:b"))], "action": ""}, 422, "InvalidParameter", None),
        ({"policies": [document(allow("a:b"))], "extra": 1}, 422, "InvalidParameter", "extra"),
    ],
)
def test_bad_input(
    api: TestClient,
    owner: Owner,
    body: dict[str, Any],
    status: int,
    code: str | None,
    words: str | None,
) -> None:
    ok(api.post(f"{API}/ram/users", headers=owner.headers, json={"name": "dev"}), 201)
    full = {"action": "stream:ListProjects", "resource": project(owner, "*"), **body}
    refused = expect(api.post(SIMULATE, headers=owner.headers, json=full), status, code)
    if words is not None:
        assert words in refused["message"], refused
