"""Hosts through the API (both databases): join tokens, the join with its storage probe,
signed heartbeats both ways, drain, removal, loss, and clusters placed on hosts.

The agent's own code (runtime/hostagent.py) joins and reports here through the in-process
app (the test client is an httpx client), so what is tested is what `rtc agent` sends; the
agent's server side is tested in tests/integration/test_host_agent.py with real processes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rtcompute.domain import signatures
from rtcompute.runtime import hostagent
from rtcompute.services.capacity import hosts
from rtcompute.services.kernel import platform as platform_module
from tests.conftest import FakeClock, RecordingNotifier
from tests.integration.test_clusters_api import (
    SMALL,
    Setup,
    add_subnet,
    cluster,
    create,
    operator,
    set_state,
    settings_overrides,
    setup,
)
from tests.integration.test_ram_support import API, expect, ok, paid_order

HOSTS = f"{API}/hosts"
__all__ = ["operator", "settings_overrides", "setup"]  # the fixtures these tests share


@pytest.fixture
def hosts_zone(api: TestClient, setup: Setup) -> str:
    body = {"name": "rack1", "provider": "hosts"}
    made = ok(api.post(f"{API}/zones", headers=setup.operator, json=body), 201)
    assert made["provider"] == "hosts" and made["capacity"]["4c16g"] == 0
    return "rack1"


def token(api: TestClient, setup: Setup, zone: str = "rack1", **body: Any) -> str:
    made = ok(
        api.post(f"{HOSTS}/join-tokens", headers=setup.operator, json={"zone": zone, **body}), 201
    )
    assert made["token"].startswith("rtcjoin.") and Path(made["probe"]).exists()
    text: str = made["token"]
    return text


def join(
    api: TestClient,
    tmp_path: Path,
    text: str,
    name: str,
    address: str,
    *,
    cores: int = 8,
    memory_gb: int = 32,
    pin: str | None = None,
) -> tuple[hostagent.State, hostagent.Identity]:
    state = hostagent.State(tmp_path / name)
    identity = hostagent.join(
        state,
        server="http://testserver",
        token=text,
        name=name,
        address=address,
        port=7400,
        cores=cores,
        memory_mb=memory_gb * 1024,
        pinned_type=pin,
        client=api,
    )
    return state, identity


def listed(api: TestClient, setup: Setup) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in ok(api.get(HOSTS, headers=setup.operator))}


def test_a_host_joins_once_with_a_token_and_reports(
    api: TestClient, setup: Setup, hosts_zone: str, tmp_path: Path
) -> None:
    text = token(api, setup)
    state, identity = join(api, tmp_path, text, "h1", "10.0.1.11")
    assert (
        identity.zone == "rack1" and (tmp_path / "h1" / "agent.key").stat().st_mode & 0o777 == 0o600
    )
    shown = listed(api, setup)["h1"]
    assert shown["state"] == "ready" and shown["cores"] == 8 and shown["memory_mb"] == 32768
    assert shown["detected_cores"] >= 1 and shown["zone"] == "rack1"
    # the zone's capacity is its hosts now
    zone = next(
        z for z in ok(api.get(f"{API}/zones", headers=setup.operator)) if z["name"] == "rack1"
    )
    assert zone["capacity"]["8c32g"] == 1 and zone["remaining"]["4c16g"] == 1
    # single use
    with pytest.raises(hostagent.AgentError, match=r"HostJoin\.InvalidToken"):
        join(api, tmp_path, text, "h2", "10.0.1.12")
    # a heartbeat, signed both ways
    agent = hostagent.Agent(state, identity, client=api)
    agent.beat()
    assert agent.last_answer == {
        "state": "ready",
        "draining": False,
        "cluster_id": None,
        "node": None,
        "flink": [],
        # no cluster: no version to install, none held anywhere to keep
        "engines": {
            "versions": [],
            "requests": {},
            "keep": [],
            "source": {"wheelhouse": None, "index_url": ""},
            "unused_seconds": 86400.0,
        },
    }
    report = listed(api, setup)["h1"]["report"]
    assert report["uptime_seconds"] >= 0 and report["engines"] == {}
    # the audit has the join (the heartbeats are no one's change)
    events = ok(
        api.get(
            f"{API}/audit-events",
            headers=setup.operator,
            params={"action": "rtc:JoinHost", "all_accounts": "true"},
        )
    )
    assert any(e["outcome"] == "success" for e in events["events"])


def test_join_refusals_say_what_to_do(
    api: TestClient,
    setup: Setup,
    hosts_zone: str,
    tmp_path: Path,
    platform: platform_module.Platform,
    clock: FakeClock,
) -> None:
    # a zone of this machine takes no host
    refused = api.post(f"{HOSTS}/join-tokens", headers=setup.operator, json={"zone": "zone1"})
    expect(refused, 409, "ZoneNotHosts")
    expect(
        api.post(
            f"{HOSTS}/join-tokens", headers=setup.operator, json={"zone": "rack1", "ttl_seconds": 5}
        ),
        400,
        "InvalidParameter.TokenTtl",
    )
    # a tenant makes no token
    expect(
        api.post(f"{HOSTS}/join-tokens", headers=setup.owner.headers, json={"zone": "rack1"}), 403
    )
    expect(api.get(HOSTS, headers=setup.owner.headers), 403)
    # a host that does not see the storage (here: its probe is gone)
    text = token(api, setup)
    parsed = text.split(".")
    hosts.probe_path(platform, parsed[1]).unlink()
    with pytest.raises(hostagent.AgentError, match="does not see the platform's storage"):
        join(api, tmp_path, text, "h1", "10.0.1.11")
    # the platform refuses a wrong probe too, whatever the agent says
    body = {
        "token": text,
        "name": "h1",
        "address": "10.0.1.11",
        "agent_port": 7400,
        "public_key": signatures.KeyPair.generate().public,
        "detected_cores": 2,
        "detected_memory_mb": 4096,
        "disk_mb": 1,
        "probe": "guess",
    }
    expect(api.post(f"{API}/agent/join", json=body), 400, "HostJoin.StorageNotMounted")
    # an expired token
    text = token(api, setup, ttl_seconds=60)
    clock.advance(seconds=61)
    with pytest.raises(hostagent.AgentError, match=r"HostJoin\.InvalidToken"):
        join(api, tmp_path, text, "h1", "10.0.1.11")
    # a token that names another platform's key (its fingerprint)
    text = token(api, setup)
    forged = ".".join([*text.split(".")[:3], "0" * 16])
    with pytest.raises(hostagent.AgentError, match=r"HostJoin\.InvalidToken"):
        join(api, tmp_path, forged, "h1", "10.0.1.11")
    # bad fields: 400 with a code, never a 500
    for change, code in (
        ({"address": "not-an-ip"}, "InvalidParameter.Address"),
        ({"name": "bad name!"}, "InvalidParameter.HostName"),
        ({"public_key": "AAAA"}, "InvalidParameter.PublicKey"),
        ({"agent_port": 70000}, "InvalidParameter.Port"),
        ({"pinned_type": "big"}, "InvalidParameter.PinnedType"),
    ):
        expect(api.post(f"{API}/agent/join", json=body | change), 400, code)
    assert listed(api, setup) == {}


def test_signed_calls_refuse_anyone_else(
    api: TestClient, setup: Setup, hosts_zone: str, tmp_path: Path
) -> None:
    state1, one = join(api, tmp_path, token(api, setup), "h1", "10.0.1.11")
    state2, two = join(api, tmp_path, token(api, setup), "h2", "10.0.1.12")
    agent = hostagent.Agent(state1, one, client=api)
    target = f"{API}/agent/hosts/{one.host_id}/heartbeat"
    body = json.dumps({"report": {}}).encode()
    headers = signatures.sign_request(
        agent.keys, f"host-{one.host_id}", "POST", target, body, now=agent.clock()
    ) | {"content-type": "application/json"}
    assert api.post(target, content=body, headers=headers).status_code == 200
    # the same request again: a replay
    expect(api.post(target, content=body, headers=headers), 401, "Agent.BadSignature")
    # another body under the same signature
    fresh = signatures.sign_request(
        agent.keys, f"host-{one.host_id}", "POST", target, body, now=agent.clock()
    )
    expect(
        api.post(target, content=b'{"report": {"x": 1}}', headers=fresh), 401, "Agent.BadSignature"
    )
    # host 2's key for host 1
    other = hostagent.Agent(state2, two, client=api)
    forged = signatures.sign_request(
        other.keys, f"host-{one.host_id}", "POST", target, body, now=agent.clock()
    )
    expect(api.post(target, content=body, headers=forged), 401, "Agent.BadSignature")
    # an old signature, and none at all, and a path that names no host
    stale = signatures.sign_request(
        agent.keys, f"host-{one.host_id}", "POST", target, body, now=agent.clock() - 600
    )
    expect(api.post(target, content=body, headers=stale), 401, "Agent.BadSignature")
    expect(api.post(target, json={"report": {}}), 401, "Agent.BadSignature")
    expect(
        api.post(f"{API}/agent/hosts/x1/heartbeat", json={"report": {}}), 401, "Agent.BadSignature"
    )
    # an answer the agent did not get from the platform's key fails its check
    with pytest.raises(signatures.BadSignature):
        signatures.verify_answer(
            one.platform_public_key,
            signatures.sign_answer(agent.keys, 200, "n", b"{}"),
            200,
            "n",
            b"{}",
        )


def test_drain_remove_and_a_removed_agent_is_refused(
    api: TestClient, setup: Setup, hosts_zone: str, tmp_path: Path
) -> None:
    state, identity = join(api, tmp_path, token(api, setup), "h1", "10.0.1.11")
    drained = ok(api.patch(f"{HOSTS}/h1", headers=setup.operator, json={"draining": True}))
    assert drained["state"] == "draining"
    zone = next(
        z for z in ok(api.get(f"{API}/zones", headers=setup.operator)) if z["name"] == "rack1"
    )
    assert zone["remaining"]["4c16g"] == 0
    agent = hostagent.Agent(state, identity, client=api)
    agent.beat()
    assert agent.last_answer["draining"] is True
    expect(api.patch(f"{HOSTS}/h1", headers=setup.operator, json={"draining": "yes"}), 422)
    expect(api.delete(f"{HOSTS}/nope", headers=setup.operator), 404, "HostNotFound")
    assert api.delete(f"{HOSTS}/h1", headers=setup.operator).status_code == 204
    with pytest.raises(hostagent.AgentError) as refused:
        agent.beat()
    assert refused.value.exit_code == hostagent.EXIT_REMOVED
    # its zone can go now
    assert api.delete(f"{API}/zones/rack1", headers=setup.operator).status_code == 204


def test_a_silent_host_is_lost_with_an_alert_and_comes_back(
    api: TestClient,
    setup: Setup,
    hosts_zone: str,
    tmp_path: Path,
    platform: platform_module.Platform,
    clock: FakeClock,
    notifier: RecordingNotifier,
) -> None:
    state, identity = join(api, tmp_path, token(api, setup), "h1", "10.0.1.11")
    clock.advance(seconds=platform.settings.hosts.lost_after_seconds - 1)
    assert hosts.mark_lost(platform) == []
    clock.advance(seconds=2)
    assert hosts.mark_lost(platform) == ["h1"]
    assert hosts.mark_lost(platform) == []  # one alert per loss
    assert listed(api, setup)["h1"]["state"] == "lost"
    assert any("host h1 is lost" in m.subject for m in notifier.sent)
    hostagent.Agent(state, identity, client=api).beat()
    assert listed(api, setup)["h1"]["state"] == "ready"


def test_clusters_claim_hosts_that_fit_in_the_subnet(
    api: TestClient,
    setup: Setup,
    hosts_zone: str,
    tmp_path: Path,
    platform: platform_module.Platform,
) -> None:
    add_subnet(api, setup.owner, "hosts-net", "10.0.9.0/24", "rack1")
    placement = {"zone": "rack1", "subnet": "hosts-net"}
    # 1 master + 2 slaves of 4c16g: three hosts that fit are needed
    join(api, tmp_path, token(api, setup), "m1", "10.0.9.11", cores=4, memory_gb=16)
    join(api, tmp_path, token(api, setup), "s1", "10.0.9.21", cores=4, memory_gb=16)
    join(api, tmp_path, token(api, setup), "small", "10.0.9.31", cores=2, memory_gb=8)
    join(api, tmp_path, token(api, setup), "far", "10.0.1.41", cores=4, memory_gb=16)
    order = paid_order(api, setup.owner, **SMALL)["id"]
    short = create(api, setup, order, **placement)
    # "far" fits but lies outside the subnet: the refusal says so
    expect(short, 400, "InvalidParameter.Subnet")
    ok(api.delete(f"{HOSTS}/far", headers=setup.operator), 204)
    short = create(api, setup, order, **placement)
    assert short.json()["code"] == "ZoneCapacityExceeded", short.json()
    assert (
        "ECS 库存不足"
        in api.post(
            f"{API}/clusters",
            headers={**setup.owner.headers, "accept-language": "zh-CN"},
            json={
                "order_id": order,
                "name": "cluster9",
                "description": "",
                **setup.placement,
                **placement,
            },
        ).json()["message"]
    )
    join(api, tmp_path, token(api, setup), "s2", "10.0.9.22", cores=16, memory_gb=64, pin="4c16g")
    made = ok(create(api, setup, order, **placement), 201)
    nodes = {n["name"]: n for n in cluster(api, setup.owner, made["name"])["nodes"]}
    addresses = {n["address"] for n in nodes.values()}
    assert addresses == {"10.0.9.11", "10.0.9.21", "10.0.9.22"}
    shown = listed(api, setup)
    assert {h["state"] for n, h in shown.items() if n != "small"} == {"in_use"}
    assert shown["small"]["state"] == "ready"
    serving = {h["node"]: n for n, h in shown.items() if h["node"]}
    assert set(serving) == {"master-1", "slave-1", "slave-2"}
    assert all(shown[n]["cluster"] == made["name"] for n in serving.values())
    expect(api.delete(f"{HOSTS}/m1", headers=setup.operator), 409, "HostInUse")
    # released: the node rows go and the hosts are free again
    set_state(platform, made["name"], "releasing")
    from rtcompute.reconcilers import clusters as cluster_reconciler
    from tests.unit.test_cluster_reconciler import FakeProvider

    cluster_reconciler.ClusterReconciler(platform, FakeProvider()).reconcile_once()
    assert {h["state"] for h in listed(api, setup).values()} == {"ready"}
