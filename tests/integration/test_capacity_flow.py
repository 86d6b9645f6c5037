"""The guide's capacity flows end to end through the API (both databases).

Shared mode (开通服务和创建项目): buy CU, pay, the red badge shows 1, create the project from
the order, the badge goes back to 0. Exclusive mode (独享模式集群配置): buy a cluster,
authorize the service role, the operator's zone, the tenant's network, subnet and bucket,
create the cluster in the guide's steps, and let the real cluster reconciler (local
provider: real node processes) bring it to running; a project inside it; scale out, pay,
running again with the new slaves; release.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from rtcompute.reconcilers import clusters as cluster_reconciler
from rtcompute.runtime.providers import local
from rtcompute.services.kernel import accounts
from rtcompute.services.kernel import platform as platform_module
from tests import waiting
from tests.conftest import login
from tests.integration.test_cluster_reconciler import kill_all_under, port_window
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    authorize_service_role,
    expect,
    ok,
)

OPERATOR_PASSWORD = "operator-pass-42"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "bootstrap_password": OPERATOR_PASSWORD,
        "local_provider": {**port_window(), "start_timeout_seconds": 30.0},
    }


@pytest.fixture
def operator(api: TestClient, platform: platform_module.Platform) -> dict[str, str]:
    """The bootstrap operator (it runs before any other account exists)."""
    assert accounts.bootstrap(platform) is not None
    return login(api, "operator", OPERATOR_PASSWORD)


@pytest.fixture
def reconciler(
    platform: platform_module.Platform,
) -> Iterator[cluster_reconciler.ClusterReconciler]:
    """The cluster reconciler of `rtc up`; whatever it started is killed afterwards."""
    yield cluster_reconciler.ClusterReconciler(platform, local.LocalProvider(platform.settings))
    kill_all_under(platform.settings.data_dir)


def badge(api: TestClient, owner: Owner) -> dict[str, int]:
    counts: dict[str, int] = ok(api.get(f"{API}/orders/counts", headers=owner.headers))
    return counts


def buy(api: TestClient, owner: Owner, **purchase: Any) -> dict[str, Any]:
    """Place and pay an order, checking the amount the purchase page showed."""
    body = {"agree_to_terms": True} | purchase
    order = ok(api.post(f"{API}/orders", headers=owner.headers, json=body), 201)
    paid: dict[str, Any] = ok(api.post(f"{API}/orders/{order['id']}/pay", headers=owner.headers))
    assert paid["amount"] == order["amount"] and paid["state"] == "paid"
    return paid


def test_shared_mode_flow(api: TestClient) -> None:
    owner = account(api)
    h = owner.headers
    authorize_service_role(api, owner)
    assert badge(api, owner) == {"shared": 0, "exclusive": 0}
    estimate = ok(api.get(f"{API}/sizing/cu", headers=h, params={"qps": 30_000}))
    order = buy(api, owner, mode="shared", cu=estimate["high"], months=1)
    assert (order["cu"], order["amount"]) == (3, "600.00")
    assert badge(api, owner) == {"shared": 1, "exclusive": 0}
    body = {"name": "projectname", "description": "the guide's project", "order_id": order["id"]}
    project = ok(api.post(f"{API}/projects", headers=h, json=body), 201)
    assert (project["mode"], project["cu"], project["state"]) == ("shared", 3, "running")
    assert badge(api, owner) == {"shared": 0, "exclusive": 0}
    assert [p["name"] for p in ok(api.get(f"{API}/projects", headers=h))] == ["projectname"]
    assert ok(api.get(f"{API}/orders/{order['id']}", headers=h))["state"] == "consumed"


def reconcile_to(
    api: TestClient,
    owner: Owner,
    reconciler: cluster_reconciler.ClusterReconciler,
    state: str,
    seconds: float = 40.0,
) -> dict[str, Any]:
    """Run reconciler passes (what `rtc up` does every second) until the cluster is `state`."""

    def reached() -> dict[str, Any] | None:
        reconciler.reconcile_once()
        response = api.get(f"{API}/clusters/cluster1", headers=owner.headers)
        found: dict[str, Any] = response.json()
        if response.status_code == 200 and found["state"] == state:
            return found
        if response.status_code == 404 and state == "released":
            return {"state": "released"}
        assert found.get("state") != "failed", found
        return None

    return waiting.wait_for(f"cluster1 {state}", reached, seconds, every=0.2)


@pytest.mark.slow
def test_exclusive_mode_flow(
    api: TestClient,
    operator: dict[str, str],
    reconciler: cluster_reconciler.ClusterReconciler,
) -> None:
    owner = account(api)
    h = owner.headers
    # the purchase page's calculator, then the order it suggests
    quote = ok(api.get(f"{API}/sizing/quote", headers=h, params={"cu": 6}))
    shape = {k: quote[k] for k in ("master_type", "master_count", "slave_type", "slave_count")}
    order = buy(api, owner, mode="exclusive", months=1, **shape)
    assert order["amount"] == quote["month"]
    assert badge(api, owner) == {"shared": 0, "exclusive": 1}

    # step 3 needs the service role first (独享模式角色授权)
    placement = {"bucket": "acme-udfs", "network": "vpc1", "subnet": "vsw1", "zone": "zone-a"}
    cluster = {"order_id": order["id"], "name": "cluster1", "description": "d", **placement}
    expect(api.post(f"{API}/clusters", headers=h, json=cluster), 403, "ServiceRoleNotAuthorized")
    authorize_service_role(api, owner)
    # no zone to choose until the operator registers one (the guide's "no zone" case)
    expect(api.post(f"{API}/clusters", headers=h, json=cluster), 404)
    capacity = {quote["master_type"]: 0, quote["slave_type"]: 0}
    capacity[quote["master_type"]] += 4
    capacity[quote["slave_type"]] += 4  # room for the masters, the slaves and two more
    zone = {"name": "zone-a", "capacity": capacity}
    ok(api.post(f"{API}/zones", headers=operator, json=zone), 201)
    ok(api.post(f"{API}/networks", headers=h, json={"name": "vpc1", "cidr": "10.1.0.0/16"}), 201)
    subnet = {"name": "vsw1", "cidr": "10.1.0.0/24", "zone": "zone-a"}
    ok(api.post(f"{API}/networks/vpc1/subnets", headers=h, json=subnet), 201)
    ok(api.post(f"{API}/buckets", headers=h, json={"name": "acme-udfs"}), 201)

    made = ok(api.post(f"{API}/clusters", headers=h, json=cluster), 201)
    assert made["state"] == "starting"
    assert badge(api, owner) == {"shared": 0, "exclusive": 0}
    detail = reconcile_to(api, owner, reconciler, "running")
    assert detail["message"] == ""
    assert all(n["state"] == "running" and n["port_base"] for n in detail["nodes"])
    assert all(
        c["state"] == "running" and c["pid"] for n in detail["nodes"] for c in n["components"]
    )

    # a project inside the cluster, within its usable CU
    usable = detail["usable_cu"]
    project = {"name": "projectname", "cluster": "cluster1", "cu": usable}
    ok(api.post(f"{API}/projects", headers=h, json=project), 201)
    more = api.patch(f"{API}/projects/projectname", headers=h, json={"cu": usable + 1})
    expect(more, 409, "QuotaExceeded.ClusterCU")

    # scale out by two slaves: an order, paid, then the reconciler starts them
    slaves = detail["slave_count"] + 2
    scale = ok(
        api.post(f"{API}/clusters/cluster1/scale", headers=h, json={"slave_count": slaves}), 201
    )
    assert scale["purpose"] == "scale_out"
    ok(api.post(f"{API}/orders/{scale['id']}/pay", headers=h))
    assert ok(api.get(f"{API}/clusters/cluster1", headers=h))["state"] == "scaling_out"
    detail = reconcile_to(api, owner, reconciler, "running")
    assert detail["slave_count"] == slaves and detail["usable_cu"] > usable
    assert sum(n["role"] == "slave" and n["state"] == "running" for n in detail["nodes"]) == slaves
    assert sum(n["role"] == "master" for n in detail["nodes"]) == quote["master_count"]
    grown = {"cu": detail["usable_cu"]}
    assert ok(api.patch(f"{API}/projects/projectname", headers=h, json=grown))["cu"] == grown["cu"]

    # release: projects first, then the cluster; its nodes give their room back
    ok(api.delete(f"{API}/projects/projectname", headers=h), 204)
    assert ok(api.delete(f"{API}/clusters/cluster1", headers=h))["state"] == "releasing"
    reconcile_to(api, owner, reconciler, "released")
    zones = ok(api.get(f"{API}/zones", headers=h))
    assert zones[0]["remaining"] == zones[0]["capacity"]
