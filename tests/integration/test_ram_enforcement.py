"""Enforcement through the API (both databases): a RAM user sees what its policies allow and
nothing else, with the request's context in the conditions; denials are 403 `Forbidden.RAM`
naming action and resource, and audited.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
from starlette.testclient import TestClient

from rtcompute.domain import identities, policies, resources
from rtcompute.services.iam import authz
from rtcompute.services.iam import users as ram_users
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from tests.conftest import PASSWORD, FakeClock
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    attach,
    authorize_service_role,
    create_group,
    create_policy,
    deny,
    expect,
    ok,
    ram_user,
    shared_project,
)

USERS = f"{API}/ram/users"
GROUPS = f"{API}/ram/groups"


@pytest.fixture
def owner(api: TestClient) -> Owner:
    return account(api)


def refused(response: object, action: str, resource: str) -> str:
    """A RAM denial: 403 Forbidden.RAM naming the action and the resource."""
    message: str = expect(response, 403, "Forbidden.RAM")["message"]
    assert action in message and resource in message, message
    return message


def client_from(api: TestClient, host: str, base_url: str = "http://testserver") -> TestClient:
    """Another client of the same app, seen coming from `host`."""
    return TestClient(
        api.app, base_url=base_url, client=(host, 50000), raise_server_exceptions=False
    )


@pytest.fixture
def other_clients(api: TestClient) -> Iterator[dict[str, TestClient]]:
    clients = {
        "lan": client_from(api, "10.1.2.3"),
        "outside": client_from(api, "203.0.113.9"),
        "v6": client_from(api, "2001:db8::1"),
        "https": client_from(api, "testclient", "https://testserver"),
    }
    yield clients
    for client in clients.values():
        client.close()


# ---------------------------------------------------------------- what policies allow


def test_test_client_host_is_not_an_address(api: TestClient, owner: Owner) -> None:
    """Starlette's TestClient reports `testclient` as the client host: no IP range holds it."""
    ok(api.post(USERS, headers=owner.headers, json={"name": "probe"}), 201)
    events = ok(api.get(f"{API}/audit-events", headers=owner.headers))["events"]
    assert events[0]["source_ip"] == "testclient"


def test_direct_attachment_allows_that_and_nothing_else(api: TestClient, owner: Owner) -> None:
    create_policy(api, owner, "ListUsers", allow("ram:ListUsers", "acs:ram:*:*:user/*"))
    dev = ram_user(api, owner, "dev", custom=["ListUsers"])
    assert ok(api.get(USERS, headers=dev))["total"] == 1
    refused(api.get(GROUPS, headers=dev), "ram:ListGroups", f"acs:ram::{owner.account_id}:group/*")
    refused(
        api.get(f"{USERS}/dev", headers=dev), "ram:GetUser", f"acs:ram::{owner.account_id}:user/dev"
    )
    refused(api.post(USERS, headers=dev, json={"name": "x"}), "ram:CreateUser", "user/*")
    # its own identity: whoami and sign-out need no policy
    assert ok(api.get(f"{API}/me", headers=dev))["name"] == "dev"


def test_resource_patterns_scope_a_policy(api: TestClient, owner: Owner) -> None:
    create_policy(api, owner, "DevUsers", allow(["ram:GetUser"], "acs:ram:*:*:user/dev*"))
    me = ram_user(api, owner, "dev1", custom=["DevUsers"])
    ok(api.post(USERS, headers=owner.headers, json={"name": "alice"}), 201)
    assert ok(api.get(f"{USERS}/dev1", headers=me))["name"] == "dev1"
    refused(api.get(f"{USERS}/alice", headers=me), "ram:GetUser", "user/alice")
    # a name that does not exist is still checked first: no probing for names
    refused(api.get(f"{USERS}/zed", headers=me), "ram:GetUser", "user/zed")
    expect(api.get(f"{USERS}/devnull", headers=me), 404, "EntityNotExist.User")


def test_policies_through_a_group(api: TestClient, owner: Owner) -> None:
    dev = ram_user(api, owner, "dev")
    refused(api.get(USERS, headers=dev), "ram:ListUsers", "user/*")
    create_group(api, owner, "readers", members=["dev"])
    attach(api, owner, "groups/readers", "RAMReadOnlyAccess", "System")
    assert ok(api.get(USERS, headers=dev))["total"] == 1
    assert ok(api.get(GROUPS, headers=dev))["total"] == 1
    refused(api.post(GROUPS, headers=dev, json={"name": "g"}), "ram:CreateGroup", "group/*")


def test_deny_in_one_policy_beats_allow_in_another(api: TestClient, owner: Owner) -> None:
    create_policy(api, owner, "Admin", allow("ram:*"))
    create_policy(
        api,
        owner,
        "KeepAdmins",
        allow("ram:GetUser"),
        deny(["ram:DeleteUser", "ram:UpdateUser"], "acs:ram:*:*:user/admin*"),
    )
    dev = ram_user(api, owner, "dev", custom=["Admin"])
    ok(api.post(USERS, headers=owner.headers, json={"name": "admin1"}), 201)
    ok(api.post(USERS, headers=owner.headers, json={"name": "temp"}), 201)
    create_group(api, owner, "guarded", members=["dev"])
    attach(api, owner, "groups/guarded", "KeepAdmins")  # the deny comes through the group
    message = refused(api.delete(f"{USERS}/admin1", headers=dev), "ram:DeleteUser", "user/admin1")
    assert "explicitly denied by policy KeepAdmins statement 1" in message
    refused(api.patch(f"{USERS}/admin1", headers=dev, json={}), "ram:UpdateUser", "user/admin1")
    ok(api.delete(f"{USERS}/temp", headers=dev), 204)
    # an explicit deny on a list route refuses the list, it does not filter it
    create_policy(api, owner, "NoList", deny("ram:ListUsers"))
    attach(api, owner, "users/dev", "NoList")
    assert "explicitly denied" in refused(api.get(USERS, headers=dev), "ram:ListUsers", "user/*")


def test_system_policy_stream_read_only(api: TestClient, owner: Owner) -> None:
    authorize_service_role(api, owner)
    shared_project(api, owner, "analytics")
    reader = ram_user(api, owner, "reader", system=["StreamReadOnlyAccess"])
    assert [p["name"] for p in ok(api.get(f"{API}/projects", headers=reader))] == ["analytics"]
    assert ok(api.get(f"{API}/projects/analytics", headers=reader))["name"] == "analytics"
    project = f"acs:stream:local:{owner.account_id}:"
    refused(
        api.post(f"{API}/projects", headers=reader, json={"name": "mine"}),
        "stream:CreateProject",
        project + "mine",
    )
    refused(
        api.patch(f"{API}/projects/analytics", headers=reader, json={"description": "x"}),
        "stream:UpdateProject",
        project + "analytics",
    )
    refused(
        api.delete(f"{API}/projects/analytics", headers=reader),
        "stream:DeleteProject",
        project + "analytics",
    )
    refused(api.get(USERS, headers=reader), "ram:ListUsers", "user/*")


def test_system_policies_ram_read_only_and_full(api: TestClient, owner: Owner) -> None:
    reader = ram_user(api, owner, "reader", system=["RAMReadOnlyAccess"])
    admin = ram_user(api, owner, "admin", system=["RAMFullAccess"])
    for path in (USERS, f"{USERS}/admin", GROUPS, f"{API}/ram/policies", f"{API}/ram/roles"):
        ok(api.get(path, headers=reader))
    ok(api.get(f"{API}/ram/overview", headers=reader))
    ok(api.get(f"{API}/ram/policies/System/RAMFullAccess/attachments", headers=reader))
    refused(api.post(USERS, headers=reader, json={"name": "x"}), "ram:CreateUser", "user/*")
    refused(api.delete(f"{USERS}/admin", headers=reader), "ram:DeleteUser", "user/admin")
    refused(
        api.put(f"{USERS}/reader/policies/System/RAMFullAccess", headers=reader),
        "ram:AttachPolicyToUser",
        "user/reader",
    )
    ok(api.post(USERS, headers=admin, json={"name": "x"}), 201)
    ok(api.post(GROUPS, headers=admin, json={"name": "g"}), 201)
    ok(api.put(f"{GROUPS}/g/users/x", headers=admin), 204)
    ok(api.put(f"{USERS}/x/policies/System/StreamReadOnlyAccess", headers=admin), 204)
    ok(api.delete(f"{USERS}/x", headers=admin), 204)
    # RAM rights are not stream rights
    authorize_service_role(api, owner)
    refused(
        api.get(f"{API}/projects", headers=admin),
        "stream:ListProjects",
        f"acs:stream:local:{owner.account_id}:*",
    )


def test_self_service_needs_no_policy(api: TestClient, owner: Owner) -> None:
    ok(api.post(USERS, headers=owner.headers, json={"name": "dev", "password": PASSWORD}), 201)
    signed = api.post(
        f"{API}/sessions", json={"account": owner.alias, "user": "dev", "password": PASSWORD}
    )
    dev = {"Authorization": f"Bearer {ok(signed, 201)['token']}"}
    ok(api.get(f"{API}/me", headers=dev))
    ok(api.post(f"{API}/me/mfa", headers=dev))
    changed = {"old_password": PASSWORD, "new_password": "battery-staple-7"}
    ok(api.put(f"{API}/me/password", headers=dev, json=changed))
    own = f"acs:ram::{owner.account_id}:user/dev"
    refused(api.get(f"{API}/access-keys", headers=dev), "ram:ListAccessKeys", own)
    ok(api.delete(f"{API}/sessions/current", headers=dev))


# ---------------------------------------------------------------- conditions


def test_source_ip_condition(
    api: TestClient, owner: Owner, other_clients: dict[str, TestClient]
) -> None:
    create_policy(
        api,
        owner,
        "FromLan",
        allow("ram:ListUsers", IpAddress={"acs:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}),
        deny("ram:GetUser", NotIpAddress={"acs:SourceIp": "10.0.0.0/8"}),
        allow("ram:GetUser"),
    )
    dev = ram_user(api, owner, "dev", custom=["FromLan"])
    assert ok(other_clients["lan"].get(USERS, headers=dev))["total"] == 1
    assert ok(other_clients["v6"].get(USERS, headers=dev))["total"] == 1
    refused(other_clients["outside"].get(USERS, headers=dev), "ram:ListUsers", "user/*")
    refused(api.get(USERS, headers=dev), "ram:ListUsers", "user/*")  # "testclient"
    ok(other_clients["lan"].get(f"{USERS}/dev", headers=dev))
    # the deny holds whenever the source is not in the range, an unreadable one included
    for client in (other_clients["outside"], other_clients["v6"], api):
        message = refused(client.get(f"{USERS}/dev", headers=dev), "ram:GetUser", "user/dev")
        assert "explicitly denied by policy FromLan statement 1" in message


def test_secure_transport_condition(
    api: TestClient, owner: Owner, other_clients: dict[str, TestClient]
) -> None:
    create_policy(
        api,
        owner,
        "TlsOnly",
        allow("ram:*"),
        deny("ram:*", Bool={"acs:SecureTransport": "false"}),
    )
    dev = ram_user(api, owner, "dev", custom=["TlsOnly"])
    message = refused(api.get(USERS, headers=dev), "ram:ListUsers", "user/*")
    assert "explicitly denied by policy TlsOnly statement 1" in message
    assert ok(other_clients["https"].get(USERS, headers=dev))["total"] == 1


def test_mfa_present_condition(api: TestClient, owner: Owner, clock: FakeClock) -> None:
    create_policy(api, owner, "WithMfa", allow("ram:*", Bool={"acs:MFAPresent": "true"}))
    key = ram_user(api, owner, "dev", custom=["WithMfa"], password=PASSWORD)
    refused(api.get(USERS, headers=key), "ram:ListUsers", "user/*")
    sign_in = {"account": owner.alias, "user": "dev", "password": PASSWORD}
    plain = {
        "Authorization": f"Bearer {ok(api.post(f'{API}/sessions', json=sign_in), 201)['token']}"
    }
    refused(api.get(USERS, headers=plain), "ram:ListUsers", "user/*")
    secret = ok(api.post(f"{API}/me/mfa", headers=plain))["secret"]
    totp = pyotp.TOTP(secret)
    ok(api.put(f"{API}/me/mfa", headers=plain, json={"enabled": True, "code": totp.at(clock.now)}))
    clock.advance(seconds=totp.interval)
    with_code = {**sign_in, "code": totp.at(clock.now)}
    mfa = {
        "Authorization": f"Bearer {ok(api.post(f'{API}/sessions', json=with_code), 201)['token']}"
    }
    assert ok(api.get(f"{API}/me", headers=mfa))["mfa_present"] is True
    assert ok(api.get(USERS, headers=mfa))["total"] == 1
    refused(api.get(USERS, headers=plain), "ram:ListUsers", "user/*")


def test_current_time_condition_is_never_served_stale(
    api: TestClient, owner: Owner, clock: FakeClock
) -> None:
    until = clock.now.replace(microsecond=0).isoformat()
    create_policy(
        api, owner, "UntilNow", allow("ram:ListUsers", DateLessThan={"acs:CurrentTime": until})
    )
    dev = ram_user(api, owner, "dev", custom=["UntilNow"])
    refused(api.get(USERS, headers=dev), "ram:ListUsers", "user/*")
    clock.advance(seconds=-60)
    assert ok(api.get(USERS, headers=dev))["total"] == 1
    assert ok(api.get(USERS, headers=dev))["total"] == 1
    clock.advance(seconds=120)
    refused(api.get(USERS, headers=dev), "ram:ListUsers", "user/*")


# ---------------------------------------------------------------- the account boundary


def test_a_user_never_reaches_another_accounts_resources(
    api: TestClient, owner: Owner, platform: platform_module.Platform
) -> None:
    other = account(api, "other")
    ok(api.post(USERS, headers=other.headers, json={"name": "theirs"}), 201)
    authorize_service_role(api, other)
    shared_project(api, other, "secret")
    create_policy(api, owner, "Everything", allow("*", "*"), allow("stream:*", "acs:stream:*:*:*"))
    dev = ram_user(api, owner, "dev", custom=["Everything"], system=["AdministratorAccess"])
    assert [u["name"] for u in ok(api.get(USERS, headers=dev))["users"]] == ["dev"]
    expect(api.get(f"{USERS}/theirs", headers=dev), 404, "EntityNotExist.User")
    expect(api.delete(f"{USERS}/theirs", headers=dev), 404, "EntityNotExist.User")
    authorize_service_role(api, owner)
    assert ok(api.get(f"{API}/projects", headers=dev)) == []
    expect(api.get(f"{API}/projects/secret", headers=dev), 404, "ProjectNotFound")
    # the decision itself refuses another account's names, whatever a policy says
    principal = principals.Principal(
        identity_id=ram_users.user_id(platform, owner.account_id, "dev"),
        account_id=owner.account_id,
        account_alias=owner.alias,
        identity_type=identities.IdentityType.RAM_USER,
        name="dev",
        is_operator=False,
        auth_method="access_key",
        credential_id="",
    )
    context = policies.request_context("10.0.0.1", platform.now(), True, True)
    for resource in (
        resources.project("local", other.account_id, "secret"),
        resources.ram_user(other.account_id, "theirs"),
        resources.account_root(other.account_id),
        "acs:stream:*:*:*",
        "acs:ram::*:user/theirs",
    ):
        verdict = authz.decide(platform, principal, "stream:DescribeProject", resource, context)
        assert verdict.decision is policies.Decision.IMPLICIT_DENY, resource
    own = resources.project("local", owner.account_id, "mine")
    assert authz.decide(platform, principal, "stream:DescribeProject", own, context).decision is (
        policies.Decision.ALLOW
    )
    # and the simulator agrees
    simulated = ok(
        api.post(
            f"{API}/ram/simulate",
            headers=owner.headers,
            json={
                "principal": "user/dev",
                "action": "stream:DescribeProject",
                "resource": resources.project("local", other.account_id, "secret"),
            },
        )
    )
    assert simulated["decision"] == "ImplicitDeny"


# ---------------------------------------------------------------- denials are audited


def test_denials_are_403_and_audited(api: TestClient, owner: Owner) -> None:
    dev = ram_user(api, owner, "dev")
    user_resource = f"acs:ram::{owner.account_id}:user/*"
    refused(api.post(USERS, headers=dev, json={"name": "x"}), "ram:CreateUser", user_resource)
    refused(api.get(USERS, headers=dev), "ram:ListUsers", user_resource)
    refused(
        api.delete(f"{API}/ram/policies/Custom/Nope", headers=dev),
        "ram:DeletePolicy",
        f"acs:ram::{owner.account_id}:policy/Nope",
    )
    events = ok(
        api.get(f"{API}/audit-events", headers=owner.headers, params={"outcome": "denied"})
    )["events"]
    seen = {(e["action"], e["resource"], e["principal"], e["error_code"]) for e in events}
    assert ("ram:CreateUser", user_resource, "dev@acme", "Forbidden.RAM") in seen
    assert ("ram:ListUsers", user_resource, "dev@acme", "Forbidden.RAM") in seen
    assert (
        "ram:DeletePolicy",
        f"acs:ram::{owner.account_id}:policy/Nope",
        "dev@acme",
        "Forbidden.RAM",
    ) in seen
    # an allowed read is not in the trail; an allowed write is, as a success
    attach(api, owner, "users/dev", "RAMFullAccess", "System")
    ok(api.get(USERS, headers=dev))
    ok(api.post(USERS, headers=dev, json={"name": "x"}), 201)
    events = ok(api.get(f"{API}/audit-events", headers=owner.headers))["events"]
    mine = [(e["action"], e["outcome"]) for e in events if e["principal"] == "dev@acme"]
    assert mine[0] == ("ram:CreateUser", "success")
    assert ("ram:ListUsers", "success") not in mine
