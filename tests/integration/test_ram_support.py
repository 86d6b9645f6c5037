"""Helpers shared by the RAM API tests (`test_ram_*.py`); no tests of its own.

RAM users sign in here with an access key made by the account, so a test can make many users
cheaply; sign-in with a password has its own tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from rtcompute.domain import clusters as cluster_rules
from rtcompute.services.capacity import clusters
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store.tables import capacity as capacity_tables
from tests.conftest import PASSWORD, RecordingNotifier, login, signup

API = "/api/v1"
ERROR_KEYS = {"code", "message", "request_id"}


@dataclass(frozen=True)
class Owner:
    """An account, signed in as itself."""

    alias: str
    account_id: str
    headers: dict[str, str]


def statement(
    effect: str, action: str | list[str], resource: str | list[str] = "*", **condition: Any
) -> dict[str, Any]:
    found: dict[str, Any] = {"Effect": effect, "Action": action, "Resource": resource}
    if condition:
        found["Condition"] = condition
    return found


def allow(
    action: str | list[str], resource: str | list[str] = "*", **condition: Any
) -> dict[str, Any]:
    return statement("Allow", action, resource, **condition)


def deny(
    action: str | list[str], resource: str | list[str] = "*", **condition: Any
) -> dict[str, Any]:
    return statement("Deny", action, resource, **condition)


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def account(api: TestClient, alias: str = "acme") -> Owner:
    created = signup(api, alias)
    return Owner(alias, str(created["id"]), login(api, alias))


def expect(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The error body of a refused call, checked: status, code, and the three keys."""
    assert response.status_code == status, response.text[:600]
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS, body
    if code is not None:
        assert body["code"] == code, body
    return body


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text[:600]
    return response.json() if response.content else None


def create_policy(api: TestClient, owner: Owner, name: str, *statements: dict[str, Any]) -> None:
    body = {"name": name, "document": document(*statements)}
    ok(api.post(f"{API}/ram/policies", headers=owner.headers, json=body), 201)


def attach(
    api: TestClient, owner: Owner, holder: str, policy: str, policy_type: str = "Custom"
) -> None:
    """Attach a policy to `users/NAME`, `groups/NAME` or `roles/NAME`."""
    ok(api.put(f"{API}/ram/{holder}/policies/{policy_type}/{policy}", headers=owner.headers), 204)


def detach(
    api: TestClient, owner: Owner, holder: str, policy: str, policy_type: str = "Custom"
) -> None:
    ok(
        api.delete(f"{API}/ram/{holder}/policies/{policy_type}/{policy}", headers=owner.headers),
        204,
    )


def create_group(api: TestClient, owner: Owner, name: str, members: Iterable[str] = ()) -> None:
    ok(api.post(f"{API}/ram/groups", headers=owner.headers, json={"name": name}), 201)
    for member in members:
        ok(api.put(f"{API}/ram/groups/{name}/users/{member}", headers=owner.headers), 204)


def ram_user(
    api: TestClient,
    owner: Owner,
    name: str,
    *,
    system: Iterable[str] = (),
    custom: Iterable[str] = (),
    **fields: Any,
) -> dict[str, str]:
    """A RAM user with the given policies attached directly; its access-key headers."""
    ok(api.post(f"{API}/ram/users", headers=owner.headers, json={"name": name, **fields}), 201)
    for policy in system:
        attach(api, owner, f"users/{name}", policy, "System")
    for policy in custom:
        attach(api, owner, f"users/{name}", policy)
    return user_key(api, owner, name)


def user_key(api: TestClient, owner: Owner, name: str) -> dict[str, str]:
    key = ok(api.post(f"{API}/ram/users/{name}/access-keys", headers=owner.headers), 201)
    return {"Authorization": f"Bearer {key['id']}:{key['secret']}"}


def authorize_service_role(api: TestClient, owner: Owner) -> dict[str, Any]:
    status: dict[str, Any] = ok(api.post(f"{API}/ram/service-role", headers=owner.headers))
    assert status["authorized"] is True
    return status


def paid_order(api: TestClient, owner: Owner, **purchase: Any) -> dict[str, Any]:
    """Place and pay an order (auto payment): shared CU unless `mode` says otherwise."""
    body = {"mode": "shared", "cu": 2, "months": 1, "agree_to_terms": True} | purchase
    order = ok(api.post(f"{API}/orders", headers=owner.headers, json=body), 201)
    paid: dict[str, Any] = ok(api.post(f"{API}/orders/{order['id']}/pay", headers=owner.headers))
    assert paid["state"] == "paid"
    return paid


def shared_project(
    api: TestClient, owner: Owner, name: str, *, cu: int = 2, description: str = ""
) -> dict[str, Any]:
    """Buy shared CU and make a project of it, the guide's shared-mode flow."""
    order = paid_order(api, owner, cu=cu)
    body = {"name": name, "order_id": order["id"], "description": description}
    created: dict[str, Any] = ok(api.post(f"{API}/projects", headers=owner.headers, json=body), 201)
    return created


def sign_in_again(api: TestClient, owner: Owner, notifier: RecordingNotifier) -> Owner:
    """A new session after the clock jumped (weeks of inactivity ask for the mailed code)."""
    body = {"account": owner.alias, "password": PASSWORD}
    response = api.post(f"{API}/sessions", json=body)
    if response.status_code == 401 and response.json()["code"] == "VerificationRequired":
        response = api.post(f"{API}/sessions", json=body | {"code": notifier.last_code()})
    token = ok(response, 201)["token"]
    return Owner(owner.alias, owner.account_id, {"Authorization": f"Bearer {token}"})


def cluster_running(platform: platform_module.Platform, name: str) -> None:
    """The cluster reconciler's part: the cluster's nodes came up."""
    with db.transaction(platform.sessions) as session:
        cluster = session.scalars(
            select(capacity_tables.Cluster).where(capacity_tables.Cluster.name == name)
        ).one()
        clusters.move(session, platform, cluster, cluster_rules.RUNNING)
