"""`rtc agent` as a real process on test hosts (network namespaces, tests/netlab.py)
against a real `rtc up`: it joins, reports, answers only the platform's signed calls, is
found lost when its link is cut and back when it returns, keeps its identity across a
restart, and stops when its host is removed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from rtcompute.domain import signatures
from rtcompute.runtime import hostagent
from tests import netlab
from tests.conftest import LiveServer, free_port, start_server, stop_server
from tests.integration.test_clusters_api import SMALL
from tests.integration.test_ram_support import (
    API,
    account,
    authorize_service_role,
    ok,
    paid_order,
)
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

LOST_AFTER = 3.0


@pytest.fixture
def lab() -> Iterator[netlab.Lab]:
    yield from netlab.for_test(2)


@pytest.fixture
def server(tmp_path: Path, lab: netlab.Lab) -> Iterator[LiveServer]:
    live = start_server(
        tmp_path / "data",
        {
            "RTC_HOST": "0.0.0.0",  # the hosts reach it at the lab's gateway
            "RTC_HOSTS__HEARTBEAT_SECONDS": "0.5",
            "RTC_HOSTS__LOST_AFTER_SECONDS": str(LOST_AFTER),
            "RTC_RECONCILERS__CLUSTERS__ENABLED": "false",
            "RTC_RECONCILERS__JOBS__ENABLED": "false",
            "RTC_RECONCILERS__ENGINES__ENABLED": "false",
        },
        port=free_port(),
    )
    yield live
    stop_server(live)


def operator(server: LiveServer) -> httpx.Client:
    client = httpx.Client(base_url=server.url + "/api/v1", timeout=10)
    made = client.post("/sessions", json={"account": "operator", "password": server.password})
    assert made.status_code == 201, made.text
    client.headers["authorization"] = f"Bearer {made.json()['token']}"
    return client


def start_agent(
    lab: netlab.Lab, server: LiveServer, i: int, state: Path, token: str | None
) -> subprocess.Popen[str]:
    port = server.url.rsplit(":", 1)[1]
    argv = [sys.executable, "-m", "rtcompute.main", "agent"]
    argv += ["--server", f"http://{lab.gateway}:{port}", "--state-dir", str(state)]
    argv += ["--name", f"h{i}", "--address", lab.address(i), "--cores", "4", "--memory-gb", "16"]
    if token:
        argv += ["--token", token]
    # its output to a file beside its state: a pipe nobody reads would block it when full
    log = state.parent / f"{state.name}.log"
    with log.open("a") as output:
        return lab.popen(i, argv, stdout=output, stderr=subprocess.STDOUT, text=True)


def answers(server: LiveServer, address: str) -> bool:
    try:
        return platform_call(server, address).status_code == 200
    except httpx.HTTPError:
        return False


def reporting(client: httpx.Client) -> set[str]:
    """Hosts that are ready and have sent a heartbeat since they joined."""
    found = client.get("/hosts").json()
    return {h["name"] for h in found if h["state"] == "ready" and "uptime_seconds" in h["report"]}


def states(client: httpx.Client) -> dict[str, str]:
    return {h["name"]: h["state"] for h in client.get("/hosts").json()}


def platform_call(server: LiveServer, address: str, key_id: str = "platform") -> httpx.Response:
    keys = signatures.KeyPair.from_bytes((server.data_dir / "hosts" / "platform.key").read_bytes())
    headers = signatures.sign_request(keys, key_id, "GET", "/v1/status", b"", now=time.time())  # noqa: TID251 (a signature carries wall time)
    response = httpx.get(f"http://{address}:7400/v1/status", headers=headers, timeout=5)
    response.request.headers.update(headers)
    return response


def test_agents_join_report_are_lost_and_come_back(
    lab: netlab.Lab, server: LiveServer, tmp_path: Path
) -> None:
    client = operator(server)
    made = client.post("/zones", json={"name": "rack1", "provider": "hosts"})
    assert made.status_code == 201, made.text
    tokens = [
        client.post("/hosts/join-tokens", json={"zone": "rack1"}).json()["token"] for _ in range(2)
    ]
    agents = [start_agent(lab, server, i, tmp_path / f"h{i}", tokens[i]) for i in range(2)]
    try:
        wait_for("both hosts ready and reporting", lambda: reporting(client) == {"h0", "h1"}, 30)
        shown = {h["name"]: h for h in client.get("/hosts").json()}
        assert shown["h0"]["address"] == lab.address(0) and shown["h0"]["cores"] == 4
        assert shown["h1"]["report"]["uptime_seconds"] >= 0
        # the agent answers the platform's signed call, signed with its own key ...
        answer = platform_call(server, lab.address(0))
        assert answer.status_code == 200 and answer.json()["host"] == "h0"
        agent_key = signatures.KeyPair.from_bytes((tmp_path / "h0" / "agent.key").read_bytes())
        signatures.verify_answer(
            agent_key.public,
            answer.headers[signatures.SIGNATURE_HEADER],
            200,
            answer.request.headers[signatures.NONCE_HEADER],
            answer.content,
        )
        # ... and no one else's: unsigned, or signed by another key
        assert httpx.get(f"http://{lab.address(0)}:7400/v1/status", timeout=5).status_code == 401
        stranger = signatures.KeyPair.generate()
        forged = signatures.sign_request(
            stranger,
            "platform",
            "GET",
            "/v1/status",
            b"",
            now=time.time(),  # noqa: TID251 (a signature carries wall time)
        )
        assert (
            httpx.get(
                f"http://{lab.address(0)}:7400/v1/status", headers=forged, timeout=5
            ).status_code
            == 401
        )
        # the link of h1 is cut: lost after LOST_AFTER seconds, with its alert in the log
        lab.link_down(1)
        wait_for("h1 lost", lambda: states(client)["h1"] == "lost", LOST_AFTER + 10)
        assert states(client)["h0"] == "ready"
        assert "host h1 is lost" in server.log()
        lab.link_up(1)
        wait_for("h1 back", lambda: states(client)["h1"] == "ready", 15)
        # an agent restarted without its token keeps its identity
        agents[0].kill()
        agents[0].wait(5)
        agents[0] = start_agent(lab, server, 0, tmp_path / "h0", None)
        wait_for("h0 answers again", lambda: answers(server, lab.address(0)), 20)
        identity = json.loads((tmp_path / "h0" / "identity.json").read_text())
        assert identity["name"] == "h0" and states(client)["h0"] == "ready"
        # removed: its next heartbeat is refused and it stops, forgetting its key
        assert client.delete("/hosts/h0").status_code == 204
        assert agents[0].wait(15) == hostagent.EXIT_REMOVED
        assert not (tmp_path / "h0" / "agent.key").exists()
        assert "was removed from the platform" in (tmp_path / "h0.log").read_text()
        assert set(states(client)) == {"h1"}
    finally:
        for agent in agents:
            agent.kill()
            agent.wait(5)


@pytest.fixture
def lab5() -> Iterator[netlab.Lab]:
    yield from netlab.for_test(5)


def command_lines(lab: netlab.Lab, i: int) -> list[str]:
    lines = []
    for pid in netlab.namespace_pids(lab.names[i]):
        try:
            lines.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return lines


def cluster_server(tmp_path: Path) -> LiveServer:
    """`rtc up` whose clusters reconciler runs (jobs and engines do not)."""
    return start_server(
        tmp_path / "data",
        {
            "RTC_HOST": "0.0.0.0",
            "RTC_HOSTS__HEARTBEAT_SECONDS": "0.5",
            "RTC_RECONCILERS__JOBS__ENABLED": "false",
            "RTC_RECONCILERS__ENGINES__ENABLED": "false",
        },
        port=free_port(),
    )


def join_all(
    lab: netlab.Lab, live: LiveServer, admin: httpx.Client, tmp_path: Path
) -> list[subprocess.Popen[str]]:
    """Every host of the lab joined to the hosts zone `rack1`: their agents, reporting."""
    assert admin.post("/zones", json={"name": "rack1", "provider": "hosts"}).status_code == 201
    agents = []
    for i in range(len(lab.names)):
        token = admin.post("/hosts/join-tokens", json={"zone": "rack1"}).json()["token"]
        agents.append(start_agent(lab, live, i, tmp_path / f"h{i}", token))
    wait_for("the hosts reporting", lambda: len(reporting(admin)) == len(lab.names), 30)
    return agents


def tenant_of(live: LiveServer, lab: netlab.Lab) -> tuple[httpx.Client, Any]:
    """A tenant with its service role, a network whose subnet is the lab's (zone `rack1`)
    and a bucket `acme-udfs`."""
    tenant = httpx.Client(base_url=live.url, timeout=10)
    owner = account(tenant)  # type: ignore[arg-type]
    authorize_service_role(tenant, owner)  # type: ignore[arg-type]
    network = str(ipaddress.ip_network(lab.subnet).supernet(new_prefix=16))
    body = {"name": "net1", "cidr": network}
    ok(tenant.post(f"{API}/networks", headers=owner.headers, json=body), 201)
    subnet = {"name": "sub1", "cidr": lab.subnet, "zone": "rack1"}
    ok(tenant.post(f"{API}/networks/net1/subnets", headers=owner.headers, json=subnet), 201)
    ok(tenant.post(f"{API}/buckets", headers=owner.headers, json={"name": "acme-udfs"}), 201)
    return tenant, owner


def new_cluster(tenant: httpx.Client, owner: Any, order: dict[str, Any]) -> Callable[[], str]:
    """Cluster `cluster1` of the paid order in `rack1`: a reader of its state."""
    body = {"order_id": order["id"], "name": "cluster1", "description": "", "bucket": "acme-udfs"}
    body |= {"network": "net1", "subnet": "sub1", "zone": "rack1"}
    ok(tenant.post(f"{API}/clusters", headers=owner.headers, json=body), 201)

    def state() -> str:
        found: str = tenant.get(f"{API}/clusters/cluster1", headers=owner.headers).json()["state"]
        return found

    return state


@dataclass
class OnHosts:
    live: LiveServer
    admin: httpx.Client
    tenant: httpx.Client
    owner: Any
    state: Callable[[], str]
    agents: list[subprocess.Popen[str]]

    def unpack(
        self,
    ) -> tuple[
        LiveServer, httpx.Client, httpx.Client, Any, Callable[[], str], list[subprocess.Popen[str]]
    ]:
        return self.live, self.admin, self.tenant, self.owner, self.state, self.agents


@contextlib.contextmanager
def cluster_on_hosts(lab: netlab.Lab, tmp_path: Path, shape: dict[str, Any]) -> Iterator[OnHosts]:
    """Every host of the lab joined, a tenant's cluster `cluster1` of `shape` running on
    them; its agents killed and `rtc up` stopped afterwards."""
    live = cluster_server(tmp_path)
    agents: list[subprocess.Popen[str]] = []
    try:
        admin = operator(live)
        agents += join_all(lab, live, admin, tmp_path)
        tenant, owner = tenant_of(live, lab)
        state = new_cluster(tenant, owner, paid_order(tenant, owner, **shape))  # type: ignore[arg-type]
        wait_for("the cluster running on its hosts", lambda: state() == "running", 120)
        yield OnHosts(live, admin, tenant, owner, state, agents)
    finally:
        for agent in agents:
            agent.kill()
            agent.wait(5)
        stop_server(live)


def test_a_three_master_cluster_runs_its_nodes_on_its_hosts(
    lab5: netlab.Lab, tmp_path: Path
) -> None:
    """The nodes' processes (node agents, the ZooKeeper quorum) run on the hosts, bound to
    their addresses, started by the hosts' agents; an agent restart adopts them; a release
    stops them and frees the hosts."""
    lab = lab5
    with cluster_on_hosts(lab, tmp_path, SMALL | {"master_count": 3}) as on:
        live, admin, tenant, owner, state, agents = on.unpack()
        detail = tenant.get(f"{API}/clusters/cluster1", headers=owner.headers).json()
        by_host = {h["node"]: h for h in admin.get("/hosts").json()}
        assert set(by_host) == {"master-1", "master-2", "master-3", "slave-1", "slave-2"}
        index = {lab.address(i): i for i in range(5)}
        modes = set()
        for node in detail["nodes"]:
            assert node["address"] == by_host[node["name"]]["address"]
            i = index[node["address"]]
            lines = " ".join(command_lines(lab, i))
            # the node's processes run inside its host, not on the platform's machine
            assert "rtcompute.runtime.agent" in lines
            if node["role"] == "master":
                assert "zookeeper" in lines.lower()
                zk = next(c for c in node["components"] if c["kind"] == "zookeeper")
                modes.add(four_letter_mode(node["address"], zk["port"]))
        assert modes == {"leader", "follower"}
        # an agent restarted adopts its node's processes: same pids, no restart
        before = {n["name"]: [c["pid"] for c in n["components"]] for n in detail["nodes"]}
        first = index[by_host["master-1"]["address"]]
        agents[first].kill()
        agents[first].wait(5)
        agents[first] = start_agent(lab, live, first, tmp_path / f"h{first}", None)
        wait_for("its agent answers", lambda: answers(live, lab.address(first)), 20)
        time.sleep(3)  # a few reconciler passes through the restarted agent
        after = tenant.get(f"{API}/clusters/cluster1", headers=owner.headers).json()
        assert after["state"] == "running"
        assert {n["name"]: [c["pid"] for c in n["components"]] for n in after["nodes"]} == before
        assert all(c["restarts"] == 0 for n in after["nodes"] for c in n["components"])
        # released: the processes stop on every host and the hosts are free again
        assert tenant.delete(f"{API}/clusters/cluster1", headers=owner.headers).status_code == 200
        wait_for("released", lambda: state() == "released", 60)
        wait_for(
            "hosts free", lambda: {h["state"] for h in admin.get("/hosts").json()} == {"ready"}, 10
        )
        for i in range(5):
            leftover = [
                line
                for line in command_lines(lab, i)
                if "zookeeper" in line.lower() or "rtcompute.runtime.agent " in line
            ]
            assert leftover == [], leftover


def four_letter_mode(address: str, port: int) -> str:
    with socket.create_connection((address, port), timeout=3) as sock:
        sock.sendall(b"srvr")
        text = b""
        while chunk := sock.recv(4096):
            text += chunk
    for line in text.decode().splitlines():
        if line.startswith("Mode:"):
            return line.split(":", 1)[1].strip()
    return ""


@pytest.fixture
def lab4() -> Iterator[netlab.Lab]:
    yield from netlab.for_test(4)


def test_scale_out_claims_a_host_and_scale_in_gives_it_back(
    lab4: netlab.Lab, tmp_path: Path
) -> None:
    """A cluster on hosts scales out onto a free host (none free: the guide's "ECS库存不足")
    and back in: the host is free again and its node's processes are gone."""
    lab = lab4
    with cluster_on_hosts(lab, tmp_path, SMALL) as on:
        _, admin, tenant, owner, state, _ = on.unpack()
        (free,) = [h for h in admin.get("/hosts").json() if h["state"] == "ready"]
        scale = f"{API}/clusters/cluster1/scale"
        # two more slaves: one host is free
        order = ok(tenant.post(scale, headers=owner.headers, json={"slave_count": 4}), 201)
        short = tenant.post(f"{API}/orders/{order['id']}/pay", headers=owner.headers)
        assert short.status_code == 409, short.text
        assert short.json()["code"] == "ZoneCapacityExceeded"
        assert "ECS stock is short in zone rack1: 1 free hosts" in short.json()["message"]
        order = ok(tenant.post(scale, headers=owner.headers, json={"slave_count": 3}), 201)
        ok(tenant.post(f"{API}/orders/{order['id']}/pay", headers=owner.headers))
        wait_for("scaled out", lambda: state() == "running", 90)
        (claimed,) = [h for h in admin.get("/hosts").json() if h["name"] == free["name"]]
        assert (claimed["state"], claimed["node"]) == ("in_use", "slave-3")
        index = {lab.address(i): i for i in range(len(lab.names))}
        where = index[free["address"]]
        assert "rtcompute.runtime.agent" in " ".join(command_lines(lab, where))
        # back to two slaves: the host is free again, nothing of the node runs there
        order = ok(tenant.post(scale, headers=owner.headers, json={"slave_count": 2}), 201)
        ok(tenant.post(f"{API}/orders/{order['id']}/pay", headers=owner.headers))
        wait_for("scaled in", lambda: state() == "running", 90)
        wait_for(
            "the host free",
            lambda: admin.get(f"/hosts/{free['name']}").json()["state"] == "ready",
            10,
        )
        assert "rtcompute.runtime.agent" not in " ".join(command_lines(lab, where))
