"""Zones, networks and subnets through the API (both databases): operator-only zone writes,
capacity arithmetic, subnet address counting and allocation, overlap and in-use refusals.

Cluster nodes are inserted as rows here (the cluster service places them the same way,
through `zones.require_capacity` and `networks.allocate`), so the counting is tested
against the real tables without starting anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from starlette.testclient import TestClient

from rtcompute import errors
from rtcompute.services.capacity import networks, zones
from rtcompute.services.kernel import accounts
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store.tables import capacity as capacity_tables
from tests.conftest import login
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    create_policy,
    expect,
    ok,
    ram_user,
    user_key,
)

OPERATOR_PASSWORD = "operator-pass-42"
ZONES = f"{API}/zones"
NETWORKS = f"{API}/networks"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"bootstrap_password": OPERATOR_PASSWORD}


@pytest.fixture
def operator(api: TestClient, platform: platform_module.Platform) -> dict[str, str]:
    assert accounts.bootstrap(platform) is not None
    return login(api, "operator", OPERATOR_PASSWORD)


@pytest.fixture
def owner(api: TestClient) -> Owner:
    return account(api)


def add_zone(api: TestClient, operator: dict[str, str], name: str, **capacity: int) -> Any:
    body = {"name": name, "capacity": capacity}
    return ok(api.post(ZONES, headers=operator, json=body), 201)


def insert_cluster(
    platform: platform_module.Platform,
    account_id: str,
    zone_name: str,
    *,
    machine_types: Sequence[str] = (),
    network: str | None = None,
    subnet: str | None = None,
    bucket_id: int | None = None,
    name: str = "c1",
    state: str = "starting",
) -> list[str]:
    """A cluster row with one node per machine type, placed the way the cluster service
    places them: capacity checked, addresses allocated; returns the node addresses."""
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        zone = zones.read_zone(session, platform.settings.region, zone_name)
        needed: dict[str, int] = {}
        for machine_type in machine_types:
            needed[machine_type] = needed.get(machine_type, 0) + 1
        zones.require_capacity(session, zone, needed)
        found_subnet = None
        addresses = [f"192.0.2.{i + 1}" for i in range(len(machine_types))]
        if network is not None and subnet is not None:
            found_network = networks.read_network(session, account_id, network)
            found_subnet = networks.read_subnet(session, found_network, subnet)
            addresses = networks.allocate(session, found_subnet, len(machine_types))
        order = capacity_tables.Order(
            id=f"o-{name}-{now.timestamp():.0f}"[:20],
            account_id=account_id,
            region=platform.settings.region,
            mode="exclusive",
            billing="subscription",
            purpose="new",
            state="consumed",
            created_at=now,
        )
        session.add(order)
        session.flush()
        cluster = capacity_tables.Cluster(
            account_id=account_id,
            region=platform.settings.region,
            name=name,
            order_id=order.id,
            billing="subscription",
            master_type="4c16g",
            master_count=1,
            slave_type="4c16g",
            slave_count=2,
            bucket_id=bucket_id,
            subnet_id=found_subnet.id if found_subnet else None,
            zone_id=zone.id,
            state=state,
            created_at=now,
            state_since=now,
        )
        session.add(cluster)
        session.flush()
        for index, (machine_type, address) in enumerate(zip(machine_types, addresses, strict=True)):
            session.add(
                capacity_tables.ClusterNode(
                    cluster_id=cluster.id,
                    name=f"node-{index + 1}",
                    role="slave",
                    machine_type=machine_type,
                    zone_id=zone.id,
                    address=address,
                    since=now,
                )
            )
    return addresses


def drop_clusters(platform: platform_module.Platform) -> None:
    with db.transaction(platform.sessions) as session:
        for row in session.query(capacity_tables.Cluster).all():
            session.delete(row)


# ---------------------------------------------------------------- zones


def test_zone_writes_are_for_the_operator_only(
    api: TestClient, operator: dict[str, str], owner: Owner
) -> None:
    body = {"name": "zone-a", "capacity": {"4c16g": 2}}
    for response in (
        api.post(ZONES, headers=owner.headers, json=body),
        api.put(f"{ZONES}/zone-a", headers=owner.headers, json={"capacity": {}}),
        api.delete(f"{ZONES}/zone-a", headers=owner.headers),
    ):
        refused = expect(response, 403, "Forbidden.RAM")
        assert "rtc:" in refused["message"]
    assert ok(api.get(ZONES, headers=owner.headers)) == []
    # not even a RAM user of the operator account with every right
    root = Owner("operator", "", operator)
    create_policy(api, root, "All", allow("*"))
    admin = ram_user(api, root, "admin", custom=["All"])
    expect(api.post(ZONES, headers=admin, json=body), 403, "Forbidden.RAM")
    created = ok(api.post(ZONES, headers=operator, json=body), 201)
    assert created["capacity"] == {"4c16g": 2} and created["region"] == "local"
    # a tenant lists the zones; a RAM user needs vpc:DescribeZones
    assert [z["name"] for z in ok(api.get(ZONES, headers=owner.headers))] == ["zone-a"]
    create_policy(api, owner, "StreamList", allow("stream:List*"))
    lister = ram_user(api, owner, "lister", custom=["StreamList"])
    expect(api.get(ZONES, headers=lister), 403, "Forbidden.RAM")
    create_policy(api, owner, "Zones", allow("vpc:DescribeZones"))
    seer = ram_user(api, owner, "seer", custom=["Zones"])
    assert [z["name"] for z in ok(api.get(ZONES, headers=seer))] == ["zone-a"]


def test_zone_lifecycle_and_rules(api: TestClient, operator: dict[str, str]) -> None:
    made = add_zone(api, operator, "zone-a", **{"4c16g": 10, "16c64g": 3})
    assert made["used"] == {} and made["remaining"] == {"4c16g": 10, "16c64g": 3}
    again = expect(api.post(ZONES, headers=operator, json={"name": "zone-a"}), 409)
    assert again["code"] == "ZoneAlreadyExists"
    unknown = api.post(ZONES, headers=operator, json={"name": "z2", "capacity": {"3c9g": 1}})
    message = expect(unknown, 400, "InvalidParameter.Capacity")["message"]
    assert "3c9g" in message and "4c16g" in message and "64c256g" in message
    for bad in (-1, 10**6, 10**30, True, "3", 1.5, None, [1], {"a": 1}):
        response = api.post(
            ZONES, headers=operator, json={"name": "z2", "capacity": {"4c16g": bad}}
        )
        expect(response, 400, "InvalidParameter.Capacity")
    expect(api.post(ZONES, headers=operator, json={"name": "z2", "capacity": [1]}), 422)
    expect(api.post(ZONES, headers=operator, json={"name": "z2", "region": "mars"}), 400)
    for name in ("a", "9zone", "zone a", "zone/a", "zone\x00a", "z" * 65, "区域"):
        response = api.post(ZONES, headers=operator, json={"name": name})
        assert response.status_code in (400, 422), (name, response.text)
    updated = ok(api.put(f"{ZONES}/zone-a", headers=operator, json={"capacity": {"8c32g": 4}}))
    assert updated["capacity"] == {"8c32g": 4}
    expect(api.put(f"{ZONES}/nope", headers=operator, json={"capacity": {}}), 404, "ZoneNotFound")
    expect(
        api.put(f"{ZONES}/zone-a", headers=operator, json={"capacity": {"4c16g": -2}}),
        400,
        "InvalidParameter.Capacity",
    )
    assert ok(api.get(ZONES, headers=operator))[0]["capacity"] == {"8c32g": 4}
    ok(api.delete(f"{ZONES}/zone-a", headers=operator), 204)
    expect(api.delete(f"{ZONES}/zone-a", headers=operator), 404, "ZoneNotFound")
    assert ok(api.get(ZONES, headers=operator)) == []


def test_capacity_math(
    api: TestClient, platform: platform_module.Platform, operator: dict[str, str], owner: Owner
) -> None:
    add_zone(api, operator, "zone-a", **{"4c16g": 5, "8c32g": 2})
    add_zone(api, operator, "zone-b", **{"4c16g": 1})
    insert_cluster(platform, owner.account_id, "zone-a", machine_types=["4c16g"] * 3 + ["8c32g"])
    listed = {z["name"]: z for z in ok(api.get(ZONES, headers=owner.headers))}
    assert listed["zone-a"]["used"] == {"4c16g": 3, "8c32g": 1}
    assert listed["zone-a"]["remaining"] == {"4c16g": 2, "8c32g": 1}
    assert listed["zone-b"]["remaining"] == {"4c16g": 1} and listed["zone-b"]["used"] == {}
    with db.transaction(platform.sessions) as session:
        zone = zones.read_zone(session, "local", "zone-a")
        assert zones.remaining(session, zone) == {"4c16g": 2, "8c32g": 1}
        zones.require_capacity(session, zone, {"4c16g": 2, "8c32g": 1})
        with pytest.raises(errors.QuotaExceeded) as refused:
            zones.require_capacity(session, zone, {"4c16g": 3})
        assert "4c16g" in refused.value.message and "another zone" in refused.value.message
        assert "2" in refused.value.message and "3" in refused.value.message
        with pytest.raises(errors.QuotaExceeded):
            zones.require_capacity(session, zone, {"16c64g": 1})  # no capacity of that type
    with pytest.raises(errors.QuotaExceeded):
        insert_cluster(platform, owner.account_id, "zone-b", machine_types=["4c16g"] * 2, name="c2")
    # capacity never goes below what is placed; a zone in use stays
    shrink = {"capacity": {"4c16g": 2, "8c32g": 1}}
    refused_update = expect(api.put(f"{ZONES}/zone-a", headers=operator, json=shrink), 409)
    assert refused_update["code"] == "ZoneCapacityInUse" and "3" in refused_update["message"]
    ok(api.put(f"{ZONES}/zone-a", headers=operator, json={"capacity": {"4c16g": 3, "8c32g": 1}}))
    assert ok(api.get(ZONES, headers=owner.headers))[0]["remaining"] == {"4c16g": 0, "8c32g": 0}
    expect(api.delete(f"{ZONES}/zone-a", headers=operator), 409, "ZoneInUse")
    drop_clusters(platform)
    assert ok(api.get(ZONES, headers=owner.headers))[0]["used"] == {}
    ok(api.delete(f"{ZONES}/zone-a", headers=operator), 204)
    # a released cluster keeps the zone in its history: the zone stays, emptied instead
    insert_cluster(platform, owner.account_id, "zone-b", name="old", state="released")
    kept = expect(api.delete(f"{ZONES}/zone-b", headers=operator), 409, "ZoneInHistory")
    assert "released" in kept["message"] and "capacity" in kept["message"]
    ok(api.put(f"{ZONES}/zone-b", headers=operator, json={"capacity": {}}))
    assert ok(api.get(ZONES, headers=owner.headers))[0]["remaining"] == {}


# ---------------------------------------------------------------- networks and subnets


def test_network_lifecycle(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    made = ok(api.post(NETWORKS, headers=h, json={"name": "vpc-main", "cidr": "10.0.0.0/16"}), 201)
    assert made["arn"] == f"acs:vpc:local:{owner.account_id}:vpc/vpc-main"
    assert (made["cidr"], made["subnets"]) == ("10.0.0.0/16", 0)
    again = api.post(NETWORKS, headers=h, json={"name": "vpc-main", "cidr": "10.1.0.0/16"})
    expect(again, 409, "NetworkAlreadyExists")
    ok(api.post(NETWORKS, headers=h, json={"name": "vpc-b", "cidr": "192.168.0.0/24"}), 201)
    assert [n["name"] for n in ok(api.get(NETWORKS, headers=h))] == ["vpc-b", "vpc-main"]
    assert ok(api.get(f"{NETWORKS}/vpc-main", headers=h))["cidr"] == "10.0.0.0/16"
    expect(api.get(f"{NETWORKS}/nope", headers=h), 404, "NetworkNotFound")
    # another account sees nothing of it
    other = account(api, "other")
    expect(api.get(f"{NETWORKS}/vpc-main", headers=other.headers), 404, "NetworkNotFound")
    assert ok(api.get(NETWORKS, headers=other.headers)) == []
    ok(api.delete(f"{NETWORKS}/vpc-b", headers=h), 204)
    expect(api.delete(f"{NETWORKS}/vpc-b", headers=h), 404, "NetworkNotFound")


@pytest.mark.parametrize(
    ("cidr", "words"),
    [
        ("8.8.8.0/24", "private"),
        ("10.0.0.1/16", "host bits"),
        ("10.0.0.0/28", "/24"),
        ("10.0.0.0/4", "10.0.0.0/4"),
        ("10.0.0.0", "CIDR"),
        ("fd00::/64", "IPv4"),
        ("10.0.0.256/24", "10.0.0.256"),
        ("banana", "CIDR"),
        ("10.0.0.0/16\x00", ""),
        ("", ""),
    ],
)
def test_network_cidr_rules(api: TestClient, owner: Owner, cidr: str, words: str) -> None:
    response = api.post(NETWORKS, headers=owner.headers, json={"name": "vpc-x", "cidr": cidr})
    assert response.status_code in (400, 422), response.text
    body = expect(response, response.status_code)
    assert words in body["message"]
    if response.status_code == 400:
        assert body["code"] == "InvalidParameter.CidrBlock"
    assert ok(api.get(NETWORKS, headers=owner.headers)) == []


def test_refusals_answer_in_the_reader_s_language(
    api: TestClient, operator: dict[str, str], owner: Owner
) -> None:
    zh = {**owner.headers, "Accept-Language": "zh-CN"}
    body = {"name": "vpc-x", "cidr": "10.0.0.1/16"}
    english = expect(api.post(NETWORKS, headers=owner.headers, json=body), 400)
    assert english["message"] == "10.0.0.1/16 has host bits set: did you mean 10.0.0.0/16?"
    chinese = expect(api.post(NETWORKS, headers=zh, json=body), 400, "InvalidParameter.CidrBlock")
    assert chinese["message"] == "10.0.0.1/16 的主机位不为 0：是否想填 10.0.0.0/16？"
    missing = expect(api.get(f"{NETWORKS}/nope/subnets", headers=zh), 404, "NetworkNotFound")
    assert missing["message"] == "专有网络 'nope' 不存在，请先创建"
    # no API path in the sentence: the console shows it as it is
    english_missing = expect(api.get(f"{NETWORKS}/nope/subnets", headers=owner.headers), 404)
    assert english_missing["message"] == "network 'nope' does not exist; create it first"
    capacity = {"name": "zone-z", "capacity": {"3c9g": 1}}
    zone = api.post(ZONES, headers={**operator, "Accept-Language": "zh-CN"}, json=capacity)
    refused = expect(zone, 400, "InvalidParameter.Capacity")
    assert refused["message"].startswith("容量中的机型 '3c9g' 不存在；已有机型：4c16g, ")


@pytest.mark.parametrize("name", ["a", "1vpc", "vpc a", "vpc/a", "vpc:a", "v" * 65, "网络"])
def test_network_names(api: TestClient, owner: Owner, name: str) -> None:
    response = api.post(NETWORKS, headers=owner.headers, json={"name": name, "cidr": "10.0.0.0/8"})
    assert response.status_code in (400, 422), response.text
    assert ok(api.get(NETWORKS, headers=owner.headers)) == []


def test_subnets_addresses_and_overlap(
    api: TestClient, platform: platform_module.Platform, operator: dict[str, str], owner: Owner
) -> None:
    h = owner.headers
    add_zone(api, operator, "zone-a", **{"4c16g": 10})
    ok(api.post(NETWORKS, headers=h, json={"name": "vpc-main", "cidr": "10.0.0.0/16"}), 201)
    subnets = f"{NETWORKS}/vpc-main/subnets"
    first = {"name": "sw-a", "cidr": "10.0.1.0/28", "zone": "zone-a"}
    made = ok(api.post(subnets, headers=h, json=first), 201)
    # a /28 has 16 addresses, 4 of them reserved
    assert (made["usable_addresses"], made["free_addresses"], made["zone"]) == (12, 12, "zone-a")
    assert made["arn"] == f"acs:vpc:local:{owner.account_id}:vswitch/sw-a"
    expect(api.post(subnets, headers=h, json=first), 409, "SubnetAlreadyExists")
    overlapping = {"name": "sw-b", "cidr": "10.0.1.8/29", "zone": "zone-a"}
    message = expect(api.post(subnets, headers=h, json=overlapping), 400)["message"]
    assert "overlaps" in message and "10.0.1.0/28" in message
    outside = {"name": "sw-b", "cidr": "10.1.0.0/24", "zone": "zone-a"}
    assert "not inside" in expect(api.post(subnets, headers=h, json=outside), 400)["message"]
    too_small = {"name": "sw-b", "cidr": "10.0.2.0/30", "zone": "zone-a"}
    expect(api.post(subnets, headers=h, json=too_small), 400, "InvalidParameter.CidrBlock")
    no_zone = {"name": "sw-b", "cidr": "10.0.2.0/24", "zone": "zone-z"}
    expect(api.post(subnets, headers=h, json=no_zone), 404, "ZoneNotFound")
    no_net = api.post(f"{NETWORKS}/nope/subnets", headers=h, json=first)
    expect(no_net, 404, "NetworkNotFound")
    ok(
        api.post(
            subnets, headers=h, json={"name": "sw-b", "cidr": "10.0.2.0/24", "zone": "zone-a"}
        ),
        201,
    )
    assert ok(api.get(f"{NETWORKS}/vpc-main", headers=h))["subnets"] == 2

    # three nodes take the three lowest usable addresses
    addresses = insert_cluster(
        platform,
        owner.account_id,
        "zone-a",
        machine_types=["4c16g"] * 3,
        network="vpc-main",
        subnet="sw-a",
    )
    assert addresses == ["10.0.1.3", "10.0.1.4", "10.0.1.5"]
    listed = {s["name"]: s for s in ok(api.get(subnets, headers=h))}
    assert (listed["sw-a"]["usable_addresses"], listed["sw-a"]["free_addresses"]) == (12, 9)
    assert listed["sw-b"]["free_addresses"] == 252
    with db.transaction(platform.sessions) as session:
        network = networks.read_network(session, owner.account_id, "vpc-main")
        subnet = networks.read_subnet(session, network, "sw-a")
        assert networks.free_addresses(session, subnet) == 9
        assert networks.allocate(session, subnet, 2) == ["10.0.1.6", "10.0.1.7"]
        with pytest.raises(errors.QuotaExceeded) as refused:
            networks.allocate(session, subnet, 10)
        assert "9 free" in refused.value.message and "10 are needed" in refused.value.message
        with pytest.raises(errors.NotFound):
            networks.read_subnet(session, network, "sw-z")
    # in use: the subnet, its network and its zone stay
    expect(api.delete(f"{subnets}/sw-a", headers=h), 409, "SubnetInUse")
    expect(api.delete(f"{NETWORKS}/vpc-main", headers=h), 409, "NetworkInUse")
    expect(api.delete(f"{ZONES}/zone-a", headers=operator), 409, "ZoneInUse")
    drop_clusters(platform)
    assert {s["name"]: s for s in ok(api.get(subnets, headers=h))}["sw-a"]["free_addresses"] == 12
    ok(api.delete(f"{subnets}/sw-a", headers=h), 204)
    expect(api.delete(f"{subnets}/sw-a", headers=h), 404, "SubnetNotFound")
    ok(api.delete(f"{subnets}/sw-b", headers=h), 204)
    ok(api.delete(f"{NETWORKS}/vpc-main", headers=h), 204)
    ok(api.delete(f"{ZONES}/zone-a", headers=operator), 204)


def test_ram_users_and_networks(api: TestClient, operator: dict[str, str], owner: Owner) -> None:
    add_zone(api, operator, "zone-a", **{"4c16g": 1})
    ok(
        api.post(NETWORKS, headers=owner.headers, json={"name": "vpc-a", "cidr": "10.0.0.0/16"}),
        201,
    )
    ok(
        api.post(NETWORKS, headers=owner.headers, json={"name": "vpc-b", "cidr": "10.0.0.0/16"}),
        201,
    )
    create_policy(api, owner, "StreamList", allow("stream:List*"))
    lister = ram_user(api, owner, "lister", custom=["StreamList"])
    body = {"name": "vpc-c", "cidr": "10.2.0.0/16"}
    assert "vpc:CreateVpc" in expect(api.post(NETWORKS, headers=lister, json=body), 403)["message"]
    expect(api.get(NETWORKS, headers=lister), 403, "Forbidden.RAM")
    # the guide's style of policy: one network by name, described but not deleted
    create_policy(api, owner, "OneVpc", allow(["vpc:Describe*"], "acs:vpc:*:*:vpc/vpc-a"))
    viewer = ram_user(api, owner, "viewer", custom=["OneVpc"])
    assert [n["name"] for n in ok(api.get(NETWORKS, headers=viewer))] == ["vpc-a"]
    expect(api.get(f"{NETWORKS}/vpc-b", headers=viewer), 403, "Forbidden.RAM")
    expect(api.delete(f"{NETWORKS}/vpc-a", headers=viewer), 403, "Forbidden.RAM")
    create_policy(api, owner, "Vpc", allow("vpc:*"))
    netadmin = ram_user(api, owner, "netadmin", custom=["Vpc"])
    ok(api.post(NETWORKS, headers=netadmin, json=body), 201)
    subnet = {"name": "sw-a", "cidr": "10.2.0.0/24", "zone": "zone-a"}
    ok(api.post(f"{NETWORKS}/vpc-c/subnets", headers=netadmin, json=subnet), 201)


# ---------------------------------------------------------------- deny by default

OWN_PREFIXES = (ZONES, NETWORKS, f"{API}/buckets")


def test_a_ram_user_without_policies_is_refused_on_every_route_here(
    api: TestClient, operator: dict[str, str], owner: Owner
) -> None:
    """Every zone, network and bucket route, with names that exist (so no 404 can hide a
    missing check): 403 naming the route's action, and nothing changes."""
    h = owner.headers
    add_zone(api, operator, "zone-a", **{"4c16g": 1})
    ok(api.post(NETWORKS, headers=h, json={"name": "vpc-a", "cidr": "10.0.0.0/16"}), 201)
    subnet = {"name": "sw-a", "cidr": "10.0.0.0/24", "zone": "zone-a"}
    ok(api.post(f"{NETWORKS}/vpc-a/subnets", headers=h, json=subnet), 201)
    ok(api.post(f"{API}/buckets", headers=h, json={"name": "udf-store"}), 201)
    ok(api.put(f"{API}/buckets/udf-store/objects/a.txt", headers=h, content=b"a"), 201)
    ok(api.post(f"{API}/ram/users", headers=h, json={"name": "wall"}), 201)
    wall = user_key(api, owner, "wall")
    values = {
        "zone": "zone-a",
        "network": "vpc-a",
        "subnet": "sw-a",
        "bucket": "udf-store",
        "key": "a.txt",
    }
    snapshot = (
        ok(api.get(ZONES, headers=h)),
        ok(api.get(NETWORKS, headers=h)),
        ok(api.get(f"{NETWORKS}/vpc-a/subnets", headers=h)),
        ok(api.get(f"{API}/buckets", headers=h)),
        ok(api.get(f"{API}/buckets/udf-store/objects", headers=h)),
    )
    refused = []
    for route in api.app.routes:  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        if not path.startswith(OWN_PREFIXES):
            continue
        actions = [
            d.call.action
            for d in route.dependant.dependencies
            if hasattr(d.call, "action") and hasattr(d.call, "operation")
        ]
        assert len(actions) == 1, path
        filled = path.replace("{key:path}", "{key}").format(**values)
        for method in sorted(route.methods):
            response = api.request(method, filled, headers=wall, json={})
            body = expect(response, 403, "Forbidden.RAM")
            assert actions[0] in body["message"], (method, filled, body)
            refused.append((method, path))
    assert len(refused) == 21  # 4 zone, 8 network (one: an order's placement) and 9 bucket routes
    assert snapshot == (
        ok(api.get(ZONES, headers=h)),
        ok(api.get(NETWORKS, headers=h)),
        ok(api.get(f"{NETWORKS}/vpc-a/subnets", headers=h)),
        ok(api.get(f"{API}/buckets", headers=h)),
        ok(api.get(f"{API}/buckets/udf-store/objects", headers=h)),
    )


WEIRD = ["%00", "a%00b", "%ED%A0%80", "%FF", "x" * 3000, "%25", "..", "%2E%2E", "%F0%9F%98%80"]
BODIES: list[Any] = [
    None,
    [],
    "text",
    12,
    {"name": 1},
    {"name": "a\x00b", "cidr": "10.0.0.0/8"},
    {"name": "ok-name", "cidr": "9" * 5000},
    {"name": "ok-name", "capacity": {"4c16g": 10**100}},
    {"name": "ok-name", "zone": ["z"], "cidr": "10.0.0.0/24"},
    {"capacity": {"\x00": 1}},
    {"acl": "\ud800"},
]


def test_hostile_input_never_crashes(
    api: TestClient, operator: dict[str, str], owner: Owner
) -> None:
    """Every zone, network and bucket route (zones as the operator), with hostile path
    parameters and bodies: a 4xx with the error body, never a 5xx."""
    add_zone(api, operator, "zone-a", **{"4c16g": 1})
    ok(
        api.post(NETWORKS, headers=owner.headers, json={"name": "vpc-a", "cidr": "10.0.0.0/16"}),
        201,
    )
    ok(api.post(f"{API}/buckets", headers=owner.headers, json={"name": "udf-store"}), 201)
    calls = []
    for route in api.app.routes:  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        if path.startswith(OWN_PREFIXES):
            calls.extend((method, path.replace("{key:path}", "{key}")) for method in route.methods)
    valid = {"zone": "zone-a", "network": "vpc-a", "subnet": "sw-a", "bucket": "udf-store"}
    for method, template in calls:
        with_body = method in ("POST", "PUT", "PATCH")
        # paths that exist, so that bodies reach the services; and hostile paths
        for weird in [None, *WEIRD] if not with_body else [None, *WEIRD[:3]]:
            names = (
                {**valid, "key": "k"} if weird is None else dict.fromkeys([*valid, "key"], weird)
            )
            path = template.format(**names)
            headers = operator if template.startswith(ZONES) else owner.headers
            for body in BODIES if with_body else [None]:
                content = json.dumps(body) if body is not None else "{"
                response = api.request(
                    method,
                    path,
                    headers={**headers, "content-type": "application/json"},
                    content=content.encode("utf-8", "surrogatepass"),
                )
                assert response.status_code < 500, (method, path, body, response.text)
                if response.status_code >= 400:
                    expect(response, response.status_code)
