"""Exclusive clusters through the API, without processes (both databases).

The guide's creation steps (独享模式集群配置: order -> basic information -> configuration ->
confirm) and each precondition refused with a message that says what to do; creation writes
the desired state only (a starting cluster, pending nodes with their addresses). Where a
test needs a running cluster it sets the state the way the cluster reconciler does once
every component answers (tests/integration/test_cluster_reconciler.py tests that part).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from rtcompute.domain import orders as order_rules
from rtcompute.domain import ram
from rtcompute.reconcilers import clusters as cluster_reconciler
from rtcompute.services.kernel import accounts
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store.tables import capacity as capacity_tables
from tests.conftest import login
from tests.integration.test_ram_service_role import replace_policy, without
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    authorize_service_role,
    create_policy,
    expect,
    ok,
    paid_order,
    ram_user,
    shared_project,
)
from tests.unit.test_cluster_reconciler import FakeProvider

CLUSTERS = f"{API}/clusters"
ORDERS = f"{API}/orders"
OPERATOR_PASSWORD = "operator-pass-42"
# 1 master + 2 slaves of 4c16g: 6 usable CU; 150.00 per core and month
SMALL = {
    "mode": "exclusive",
    "master_type": "4c16g",
    "master_count": 1,
    "slave_type": "4c16g",
    "slave_count": 2,
    "months": 1,
    "agree_to_terms": True,
}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"bootstrap_password": OPERATOR_PASSWORD}


@pytest.fixture
def operator(api: TestClient, platform: platform_module.Platform) -> dict[str, str]:
    """The bootstrap operator (it runs before any other account exists)."""
    assert accounts.bootstrap(platform) is not None
    return login(api, "operator", OPERATOR_PASSWORD)


@dataclass(frozen=True)
class Setup:
    owner: Owner
    operator: dict[str, str]
    placement: dict[str, str]


def add_zone(api: TestClient, operator: dict[str, str], name: str, **capacity: int) -> None:
    ok(api.post(f"{API}/zones", headers=operator, json={"name": name, "capacity": capacity}), 201)


def add_subnet(api: TestClient, owner: Owner, name: str, cidr: str, zone: str) -> None:
    body = {"name": name, "cidr": cidr, "zone": zone}
    ok(api.post(f"{API}/networks/net1/subnets", headers=owner.headers, json=body), 201)


def add_bucket(api: TestClient, owner: Owner, name: str, **fields: str) -> None:
    ok(api.post(f"{API}/buckets", headers=owner.headers, json={"name": name, **fields}), 201)


@pytest.fixture
def setup(api: TestClient, operator: dict[str, str]) -> Setup:
    """An authorized account with a zone (room for 10 nodes of 4c16g and 8c32g), a network,
    a /24 subnet in the zone and a private standard bucket: the guide's step 3."""
    owner = account(api)
    authorize_service_role(api, owner)
    add_zone(api, operator, "zone1", **{"4c16g": 10, "8c32g": 10})
    network = {"name": "net1", "cidr": "10.0.0.0/16"}
    ok(api.post(f"{API}/networks", headers=owner.headers, json=network), 201)
    add_subnet(api, owner, "sub1", "10.0.1.0/24", "zone1")
    add_bucket(api, owner, "acme-udfs")
    placement = {"bucket": "acme-udfs", "network": "net1", "subnet": "sub1", "zone": "zone1"}
    return Setup(owner, operator, placement)


def create(api: TestClient, s: Setup, order_id: str, name: str = "cluster1", **change: str) -> Any:
    body = {"order_id": order_id, "name": name, "description": "d", **s.placement, **change}
    return api.post(CLUSTERS, headers=s.owner.headers, json=body)


def cluster(api: TestClient, owner: Owner, name: str = "cluster1") -> dict[str, Any]:
    found: dict[str, Any] = ok(api.get(f"{CLUSTERS}/{name}", headers=owner.headers))
    return found


def set_state(platform: platform_module.Platform, name: str, state: str) -> None:
    """What the cluster reconciler writes once every component answers (or fails)."""
    with db.transaction(platform.sessions) as session:
        session.execute(
            update(capacity_tables.Cluster)
            .where(capacity_tables.Cluster.name == name)
            .values(state=state)
        )


def running(api: TestClient, platform: platform_module.Platform, s: Setup, **order: Any) -> None:
    made = ok(create(api, s, paid_order(api, s.owner, **SMALL | order)["id"]), 201)
    set_state(platform, made["name"], "running")


def remaining(api: TestClient, owner: Owner) -> dict[str, int]:
    zones = ok(api.get(f"{API}/zones", headers=owner.headers))
    found: dict[str, int] = next(z for z in zones if z["name"] == "zone1")["remaining"]
    return found


def at(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def test_create_a_cluster(api: TestClient, setup: Setup) -> None:
    h = setup.owner.headers
    order = paid_order(api, setup.owner, **SMALL | {"master_count": 3})
    assert ok(api.get(f"{ORDERS}/counts", headers=h))["exclusive"] == 1
    made = ok(create(api, setup, order["id"]), 201)
    assert (made["state"], made["order_id"], made["master_count"], made["slave_count"]) == (
        "starting",
        order["id"],
        3,
        2,
    )
    assert made["arn"] == f"acs:stream:local:{setup.owner.account_id}:cluster/cluster1"
    assert at(made["expires_at"]) == order_rules.add_months(at(made["created_at"]), 1)
    detail = cluster(api, setup.owner)
    assert (detail["usable_cu"], detail["project_cu"]) == (6, 0)
    assert [detail[k] for k in ("bucket", "network", "subnet", "zone")] == [
        "acme-udfs",
        "net1",
        "sub1",
        "zone1",
    ]
    nodes = detail["nodes"]
    assert [(n["name"], n["role"], n["state"]) for n in nodes] == [
        ("master-1", "master", "pending"),
        ("master-2", "master", "pending"),
        ("master-3", "master", "pending"),
        ("slave-1", "slave", "pending"),
        ("slave-2", "slave", "pending"),
    ]
    # a node's files on the server are the operator's business (docs/security.md)
    assert not any("directory" in n for n in nodes)
    addresses = [n["address"] for n in nodes]
    assert len(set(addresses)) == 5 and all(a.startswith("10.0.1.") for a in addresses)
    assert all(n["port_base"] is None and n["components"] == [] for n in nodes)
    consumed = ok(api.get(f"{ORDERS}/{order['id']}", headers=h))
    assert (consumed["state"], consumed["consumed_by"]) == ("consumed", "cluster1")
    assert ok(api.get(f"{ORDERS}/counts", headers=h))["exclusive"] == 0
    assert [c["name"] for c in ok(api.get(CLUSTERS, headers=h))] == ["cluster1"]
    assert remaining(api, setup.owner)["4c16g"] == 5
    subnets = ok(api.get(f"{API}/networks/net1/subnets", headers=h))
    assert subnets[0]["free_addresses"] == subnets[0]["usable_addresses"] - 5
    # the order made one cluster; a second name does not make another
    expect(create(api, setup, order["id"], "cluster2"), 409, "OrderNotUsable")
    taken = create(api, setup, paid_order(api, setup.owner, **SMALL)["id"])
    expect(taken, 409, "ClusterAlreadyExists")
    ok(api.patch(f"{CLUSTERS}/cluster1", headers=h, json={"description": "new"}))
    assert cluster(api, setup.owner)["description"] == "new"
    expect(api.get(f"{CLUSTERS}/missing", headers=h), 404, "ClusterNotFound")
    # a RAM user with only stream:List* sees the cluster and changes nothing
    create_policy(api, setup.owner, "ListOnly", allow("stream:List*"))
    lister = ram_user(api, setup.owner, "lister", custom=["ListOnly"])
    assert [c["name"] for c in ok(api.get(CLUSTERS, headers=lister))] == ["cluster1"]
    for response, action in (
        (api.get(f"{CLUSTERS}/cluster1", headers=lister), "stream:DescribeCluster"),
        (
            api.post(f"{CLUSTERS}/cluster1/scale", headers=lister, json={"slave_count": 3}),
            "stream:ScaleCluster",
        ),
        (api.delete(f"{CLUSTERS}/cluster1", headers=lister), "stream:ReleaseCluster"),
    ):
        assert action in expect(response, 403, "Forbidden.RAM")["message"]
    assert cluster(api, setup.owner)["state"] == "starting"


def refusal(
    api: TestClient, setup: Setup, order_id: str, status: int, code: str, **change: str
) -> str:
    """A refused creation: its message; no cluster, and the order still usable."""
    message: str = expect(create(api, setup, order_id, **change), status, code)["message"]
    assert ok(api.get(CLUSTERS, headers=setup.owner.headers)) == []
    return message


def test_every_precondition_is_refused_with_what_to_do(
    api: TestClient, platform: platform_module.Platform, setup: Setup
) -> None:
    owner, h = setup.owner, setup.owner.headers
    order = paid_order(api, owner, **SMALL)["id"]
    add_bucket(api, owner, "acme-archive", storage_class="archive")
    add_bucket(api, owner, "acme-public", acl="public-read")
    add_zone(api, setup.operator, "zone2", **{"4c16g": 1})
    add_subnet(api, owner, "sub2", "10.0.2.0/24", "zone2")
    add_subnet(api, owner, "tiny", "10.0.3.0/29", "zone1")
    before = remaining(api, owner)

    assert "standard" in refusal(
        api, setup, order, 400, "InvalidParameter.BucketStorageClass", bucket="acme-archive"
    )
    assert "private" in refusal(
        api, setup, order, 400, "InvalidParameter.BucketAcl", bucket="acme-public"
    )
    refusal(api, setup, order, 404, "NoSuchBucket", bucket="missing")
    refusal(api, setup, order, 404, "NetworkNotFound", network="missing")
    refusal(api, setup, order, 404, "SubnetNotFound", subnet="missing")
    refusal(api, setup, order, 404, "ZoneNotFound", zone="missing")
    message = refusal(api, setup, order, 400, "InvalidParameter.Subnet", subnet="sub2")
    assert "zone1" in message
    # a /29 has 4 usable addresses; 1 master + 2 slaves need 3, 3 + 2 need 5
    big = paid_order(api, owner, **SMALL | {"master_count": 3})["id"]
    message = refusal(api, setup, big, 409, "SubnetAddressesExhausted", subnet="tiny")
    assert "4 free addresses but 5 are needed" in message
    # zone2 holds one 4c16g node
    message = refusal(api, setup, order, 409, "ZoneCapacityExceeded", zone="zone2", subnet="sub2")
    assert "1 more 4c16g nodes but 3 are needed" in message

    pending = ok(api.post(ORDERS, headers=h, json=SMALL), 201)["id"]
    refusal(api, setup, pending, 409, "OrderNotUsable")
    shared = paid_order(api, owner)["id"]
    assert "shared" in refusal(api, setup, shared, 400, "InvalidParameter.Order")
    theirs = paid_order(api, account(api, "other"), **SMALL)["id"]
    refusal(api, setup, theirs, 404, "OrderNotFound")
    for name in ("1-bad", "ab", "cluster-1", "_cluster"):
        refusal(api, setup, order, 400, "InvalidParameter.ClusterName", name=name)

    dev = ram_user(api, owner, "dev", system=["StreamFullAccess"])
    body = {"order_id": order, "name": "cluster1", **setup.placement}
    expect(api.post(CLUSTERS, headers=dev, json=body), 403, "Forbidden.MainAccountOnly")

    # the service role lacks the storage actions, then is not authorized at all
    replace_policy(api, owner, without("oss:*"))
    message = refusal(api, setup, order, 403, "ServiceRoleMissingAction")
    assert "oss:GetObject" in message and "独享模式角色授权" in message
    ok(api.delete(f"{API}/ram/service-role", headers=h))
    message = refusal(api, setup, order, 403, "ServiceRoleNotAuthorized")
    assert ram.SERVICE_ROLE in message

    # nothing was placed: the order is still paid, the zone and the subnets untouched
    assert ok(api.get(f"{ORDERS}/{order}", headers=h))["state"] == "paid"
    assert remaining(api, owner) == before
    subnets = ok(api.get(f"{API}/networks/net1/subnets", headers=h))
    assert all(s["free_addresses"] == s["usable_addresses"] for s in subnets)
    authorize_service_role(api, owner)
    ok(create(api, setup, order), 201)


def test_a_trailing_newline_is_no_part_of_a_cluster_name(api: TestClient, setup: Setup) -> None:
    order = paid_order(api, setup.owner, **SMALL)["id"]
    refusal(api, setup, order, 400, "InvalidParameter.ClusterName", name="cluster1\n")


def test_projects_in_a_cluster(
    api: TestClient, platform: platform_module.Platform, setup: Setup
) -> None:
    owner, h = setup.owner, setup.owner.headers
    order = paid_order(api, owner, **SMALL | {"slave_count": 3})["id"]
    ok(create(api, setup, order), 201)  # 9 usable CU
    project = {"name": "alpha", "cluster": "cluster1", "cu": 4}
    refused = api.post(f"{API}/projects", headers=h, json=project)
    assert "running" in expect(refused, 409, "ClusterNotRunning")["message"]
    set_state(platform, "cluster1", "running")
    made = ok(api.post(f"{API}/projects", headers=h, json=project), 201)
    assert (made["mode"], made["cluster"], made["cu"], made["order_id"]) == (
        "exclusive",
        "cluster1",
        4,
        None,
    )
    beta = {"name": "beta", "cluster": "cluster1", "cu": 6}
    message = expect(
        api.post(f"{API}/projects", headers=h, json=beta), 409, "QuotaExceeded.ClusterCU"
    )["message"]
    assert "9 usable CU" in message and "at most 5 CU" in message
    ok(api.post(f"{API}/projects", headers=h, json=beta | {"cu": 5}), 201)
    assert cluster(api, owner)["project_cu"] == 9
    for body, status in (
        ({"name": "gamma", "cluster": "cluster1"}, 400),
        ({"name": "gamma", "cluster": "missing", "cu": 1}, 404),
        ({"name": "alpha", "cluster": "cluster1", "cu": 1}, 409),
    ):
        expect(api.post(f"{API}/projects", headers=h, json=body), status)
    # resize within what the others leave
    grow = api.patch(f"{API}/projects/alpha", headers=h, json={"cu": 5})
    expect(grow, 409, "QuotaExceeded.ClusterCU")
    assert ok(api.patch(f"{API}/projects/alpha", headers=h, json={"cu": 2}))["cu"] == 2
    # a project in a cluster is renewed and scaled with its cluster
    for path, body in (("renew", {"months": 1}), ("scale", {"cu": 3})):
        response = api.post(f"{API}/projects/alpha/{path}", headers=h, json=body)
        assert "cluster" in expect(response, 400, "InvalidParameter.Project")["message"]
    # a shared project's CU changes by order only
    shared_project(api, owner, "pooled")
    expect(
        api.patch(f"{API}/projects/pooled", headers=h, json={"cu": 3}), 400, "InvalidParameter.CU"
    )
    # 2 slaves give 6 CU; the projects hold 7
    message = expect(
        api.post(f"{CLUSTERS}/cluster1/scale", headers=h, json={"slave_count": 2}), 409, "CUInUse"
    )["message"]
    assert "6 CU" in message and "7 CU" in message
    # release waits for the projects
    message = expect(api.delete(f"{CLUSTERS}/cluster1", headers=h), 409, "ClusterHasProjects")[
        "message"
    ]
    assert "alpha" in message and "beta" in message
    ok(api.delete(f"{API}/projects/alpha", headers=h), 204)
    ok(api.delete(f"{API}/projects/beta", headers=h), 204)
    released = ok(api.delete(f"{CLUSTERS}/cluster1", headers=h))
    assert released["state"] == "releasing"
    assert ok(api.get(f"{ORDERS}/{order}", headers=h))["state"] == "released"
    expect(api.delete(f"{CLUSTERS}/cluster1", headers=h), 409, "ClusterStateConflict")
    expect(api.post(f"{API}/projects", headers=h, json=beta), 409, "ClusterNotRunning")


def test_scale_out_and_in(
    api: TestClient, platform: platform_module.Platform, setup: Setup
) -> None:
    owner, h = setup.owner, setup.owner.headers
    running(api, platform, setup)
    scale = f"{CLUSTERS}/cluster1/scale"
    for count, code in ((2, "InvalidParameter.SlaveCount"), (1, "InvalidParameter.Order")):
        expect(api.post(scale, headers=h, json={"slave_count": count}), 400, code)
    # 27 x 3 CU = 81 > 80, the 4c16g master's maximum
    capped = expect(api.post(scale, headers=h, json={"slave_count": 27}), 400)["message"]
    assert "at most 26 slaves" in capped
    out = ok(api.post(scale, headers=h, json={"slave_count": 4}), 201)
    # 2 more 4c16g slaves at 600.00 a month, for the 1 month left
    assert (out["purpose"], out["slave_count"], out["months"], out["amount"]) == (
        "scale_out",
        4,
        1,
        "1200.00",
    )
    assert cluster(api, owner)["state"] == "running"
    dev = ram_user(api, owner, "dev", system=["StreamFullAccess"])
    expect(api.post(f"{ORDERS}/{out['id']}/pay", headers=dev), 403, "Forbidden.MainAccountOnly")
    expect(api.post(scale, headers=dev, json={"slave_count": 5}), 403, "Forbidden.MainAccountOnly")
    assert ok(api.post(f"{ORDERS}/{out['id']}/pay", headers=h))["state"] == "consumed"
    detail = cluster(api, owner)
    assert (detail["state"], detail["slave_count"], detail["master_count"]) == (
        "scaling_out",
        4,
        1,
    )
    assert [(n["name"], n["state"]) for n in detail["nodes"]] == [
        ("master-1", "pending"),
        ("slave-1", "pending"),
        ("slave-2", "pending"),
        ("slave-3", "pending"),
        ("slave-4", "pending"),
    ]
    assert detail["usable_cu"] == 12
    assert len({n["address"] for n in detail["nodes"]}) == 5
    busy = api.post(scale, headers=h, json={"slave_count": 5})
    expect(busy, 409, "ClusterStateConflict")
    set_state(platform, "cluster1", "running")
    scale_in = ok(api.post(scale, headers=h, json={"slave_count": 3}), 201)
    assert (scale_in["purpose"], scale_in["amount_cents"]) == ("scale_in", 0)
    ok(api.post(f"{ORDERS}/{scale_in['id']}/pay", headers=h))
    detail = cluster(api, owner)
    assert (detail["state"], detail["slave_count"]) == ("scaling_in", 3)
    states = {n["name"]: n["state"] for n in detail["nodes"]}
    assert states["slave-4"] == "removing" and states["slave-3"] == "pending"
    assert [n["name"] for n in detail["nodes"] if n["role"] == "master"] == ["master-1"]


def test_a_scale_out_needs_room_when_it_is_paid(
    api: TestClient, platform: platform_module.Platform, setup: Setup
) -> None:
    h = setup.owner.headers
    add_subnet(api, setup.owner, "tiny", "10.0.3.0/29", "zone1")
    made = ok(create(api, setup, paid_order(api, setup.owner, **SMALL)["id"], subnet="tiny"), 201)
    set_state(platform, made["name"], "running")
    out = ok(api.post(f"{CLUSTERS}/cluster1/scale", headers=h, json={"slave_count": 4}), 201)
    # the /29 has 1 address left; the payment is refused whole, nothing changes
    expect(api.post(f"{ORDERS}/{out['id']}/pay", headers=h), 409, "SubnetAddressesExhausted")
    assert ok(api.get(f"{ORDERS}/{out['id']}", headers=h))["state"] == "pending_payment"
    detail = cluster(api, setup.owner)
    assert (detail["state"], detail["slave_count"], len(detail["nodes"])) == ("running", 2, 3)


def test_renew_a_cluster(api: TestClient, platform: platform_module.Platform, setup: Setup) -> None:
    h = setup.owner.headers
    running(api, platform, setup)
    expires = at(cluster(api, setup.owner)["expires_at"])
    renewal = ok(api.post(f"{CLUSTERS}/cluster1/renew", headers=h, json={"months": 2}), 201)
    # (1 master + 2 slaves) x 600.00 x 2 months
    assert (renewal["purpose"], renewal["amount"]) == ("renew", "3600.00")
    ok(api.post(f"{ORDERS}/{renewal['id']}/pay", headers=h))
    assert at(cluster(api, setup.owner)["expires_at"]) == order_rules.add_months(expires, 2)
    payg = paid_order(api, setup.owner, **SMALL | {"billing": "payg", "months": 0})
    ok(create(api, setup, payg["id"], "metered"), 201)
    assert cluster(api, setup.owner, "metered")["expires_at"] is None
    refused = api.post(f"{CLUSTERS}/metered/renew", headers=h, json={"months": 1})
    expect(refused, 400, "InvalidParameter.Billing")


def test_a_renewal_is_priced_for_the_slaves_it_extends(
    api: TestClient, platform: platform_module.Platform, setup: Setup
) -> None:
    """A renewal priced for 2 slaves must not extend a cluster scaled out to 8 since."""
    h = setup.owner.headers
    running(api, platform, setup)
    renewal = ok(api.post(f"{CLUSTERS}/cluster1/renew", headers=h, json={"months": 36}), 201)
    out = ok(api.post(f"{CLUSTERS}/cluster1/scale", headers=h, json={"slave_count": 8}), 201)
    ok(api.post(f"{ORDERS}/{out['id']}/pay", headers=h))
    set_state(platform, "cluster1", "running")
    before = cluster(api, setup.owner)["expires_at"]
    stale = api.post(f"{ORDERS}/{renewal['id']}/pay", headers=h)
    assert stale.status_code == 409, stale.text
    assert cluster(api, setup.owner)["expires_at"] == before


def test_parallel_projects_never_exceed_the_clusters_cu(
    api: TestClient, platform: platform_module.Platform, setup: Setup
) -> None:
    """Twenty requests for 1 CU each race for a 6-CU cluster: six win, the rest are refused."""
    running(api, platform, setup)

    def attempt(index: int) -> int:
        body = {"name": f"project{index}", "cluster": "cluster1", "cu": 1}
        response = api.post(f"{API}/projects", headers=setup.owner.headers, json=body)
        return response.status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(attempt, range(20)))
    assert sorted(statuses) == [201] * 6 + [409] * 14, statuses
    assert cluster(api, setup.owner)["project_cu"] == 6


def test_parallel_scale_payments_leave_one_scale(
    api: TestClient, platform: platform_module.Platform, setup: Setup
) -> None:
    """Two scale-out orders of a running cluster paid at once: one scales, the other is
    refused (the cluster is scaling by then); the nodes match the slave count."""
    h = setup.owner.headers
    running(api, platform, setup)
    orders = [
        ok(api.post(f"{CLUSTERS}/cluster1/scale", headers=h, json={"slave_count": n}), 201)
        for n in (3, 4, 5, 6)
    ]

    def pay(order: dict[str, Any]) -> int:
        return api.post(f"{ORDERS}/{order['id']}/pay", headers=h).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(pay, orders))
    assert sorted(statuses) == [200, 409, 409, 409], statuses
    detail = cluster(api, setup.owner)
    slaves = [n for n in detail["nodes"] if n["role"] == "slave"]
    assert len(slaves) == detail["slave_count"]


def test_a_released_clusters_name_is_free_again_and_its_record_stays(
    api: TestClient, platform: platform_module.Platform, setup: Setup
) -> None:
    h = setup.owner.headers
    first = paid_order(api, setup.owner, **SMALL)
    ok(create(api, setup, first["id"]), 201)
    second = paid_order(api, setup.owner, **SMALL)
    expect(create(api, setup, second["id"]), 409, "ClusterAlreadyExists")
    ok(api.delete(f"{CLUSTERS}/cluster1", headers=h))
    # releasing still holds the name; the reconciler's last step frees it
    expect(create(api, setup, second["id"]), 409, "ClusterAlreadyExists")
    set_state(platform, "cluster1", "released")  # what the reconciler does after stopping all
    again = ok(create(api, setup, second["id"]), 201)
    assert again["order_id"] == second["id"] and again["state"] == "starting"
    # the name now means the live cluster; the released one is still listed
    assert cluster(api, setup.owner)["order_id"] == second["id"]
    listed = ok(api.get(CLUSTERS, headers=h))
    assert sorted((c["name"], c["state"]) for c in listed) == [
        ("cluster1", "released"),
        ("cluster1", "starting"),
    ]


def test_the_reconcilers_messages_answer_in_the_accept_language(
    api: TestClient, platform: platform_module.Platform, setup: Setup, clock: Any
) -> None:
    """A real pass of the cluster reconciler (a fake provider: no processes) writes the
    cluster's and its components' messages in both languages; the API answers each reader in
    its Accept-Language, the list too (a list answer is kept per language)."""
    h = setup.owner.headers
    ok(create(api, setup, paid_order(api, setup.owner, **SMALL)["id"]), 201)
    provider = FakeProvider()
    reconciler = cluster_reconciler.ClusterReconciler(platform, provider)
    reconciler.reconcile_once()  # places the nodes, starts every agent
    english = cluster(api, setup.owner)
    chinese = ok(api.get(f"{CLUSTERS}/cluster1", headers=h | {"Accept-Language": "zh-CN"}))
    assert english["message"].startswith("0 of 3 components answer; waiting for master-1 agent")
    assert chinese["message"].startswith("3 个组件中已有 0 个响应；正在等待：master-1 的节点代理")
    said = {c["message"] for n in english["nodes"] for c in n["components"]}
    assert said == {"started"}
    said = {c["message"] for n in chinese["nodes"] for c in n["components"]}
    assert said == {"已启动"}
    # one agent never answers: the cluster fails, and says why in the reader's language
    provider.serve_all()
    provider.answering.discard(("slave-2", "agent"))
    clock.advance(seconds=platform.settings.local_provider.start_timeout_seconds + 1)
    reconciler.reconcile_once()
    listed = {
        language: ok(api.get(CLUSTERS, headers=h | {"Accept-Language": language}))[0]["message"]
        for language in ("en-US,en;q=0.9", "zh-CN,zh;q=0.9", "en")
    }
    assert listed["en-US,en;q=0.9"] == listed["en"]
    assert listed["en"].startswith("slave-2 agent: no answer on port")
    assert "Release the cluster and create it again" in listed["en"]
    assert listed["zh-CN,zh;q=0.9"].startswith("slave-2 的节点代理：端口")
    assert "请释放集群后重新创建" in listed["zh-CN,zh;q=0.9"]
    chinese = ok(api.get(f"{CLUSTERS}/cluster1", headers=h | {"Accept-Language": "zh"}))
    assert chinese["state"] == "failed"
    by_node = {n["name"]: n["components"][0]["message"] for n in chinese["nodes"]}
    assert by_node["master-1"] == "正常"
    assert by_node["slave-2"].startswith("端口") and "秒内没有响应" in by_node["slave-2"]
    # the component's log file is the operator's: in no message, in no language
    for body in (chinese, cluster(api, setup.owner)):
        messages = [body["message"]] + [
            c["message"] for n in body["nodes"] for c in n["components"]
        ]
        assert not any(".log" in m or "/clusters/" in m for m in messages), messages
