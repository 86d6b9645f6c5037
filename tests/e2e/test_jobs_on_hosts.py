"""A job on a 3-master + 2-slave cluster of joined hosts, end to end: five namespace hosts
(tests/netlab.py) with real `rtc agent`s, a real `rtc up`, real Flink, a ZooKeeper quorum on
the three master hosts. The job's JobManagers (leader and standby) run on two master hosts
and its TaskManager on a slave's host, each started by its host's agent in its tenant's
sandbox and bound to the host's address. While the job runs: its TaskManager's agent is
restarted and `rtc up` is restarted (both adopt what runs: same processes, one submission);
the slave's host is cut off (its TaskManager moves to the other slave, the job restarts from
its checkpoint); later the leading JobManager's master host dies, agent and processes (the
standby takes over through ZooKeeper); the host comes back (a fresh standby starts there).
The exactly-once window output is complete, without duplicates; stopping the job stops its
processes on every host; a removed host's agent is refused.
"""

from __future__ import annotations

import ipaddress
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import netlab, ports
from tests.conftest import LiveServer, free_port, start_server, stop_server
from tests.e2e.test_engines_flow import installed, ok
from tests.e2e.test_jobs_flow import V2, Tenant, expected_windows, out_dir, output_rows
from tests.engines_fixtures import InstalledEngines, copy_engine, engine_home
from tests.flink_runs import flink_pids, leading_jobmanager
from tests.integration.test_cluster_reconciler import kill_all_under
from tests.integration.test_clusters_api import SMALL
from tests.integration.test_host_agent import answers, command_lines, start_agent
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

API = "/api/v1"
# at 200 rows/s: 2 min of running, long enough for two restarts and two lost hosts
ROWS = 24000
HOSTS = 5


def server_env(home: Path, **more: str) -> dict[str, str]:
    """`rtc up` for namespace hosts: bound to every address (the hosts reach it at the
    lab's gateway), quick heartbeats, the engines home `home`."""
    return {
        "RTC_HOST": "0.0.0.0",
        "RTC_HOSTS__HEARTBEAT_SECONDS": "0.5",
        "RTC_ENGINES__HOME": str(home),
        **ports.job_env(),
        **ports.node_env(),
        **more,
    }


def join_hosts(
    lab: netlab.Lab,
    server: LiveServer,
    operator: httpx.Client,
    zone: str,
    root: Path,
    engine: Path,
) -> list[subprocess.Popen[str]]:
    """A hosts zone of every host of the lab, each with its agent (state in `root/h<i>`) and
    a copy of the installed engine version `engine` (hosts provisioned with it): the agents,
    once every host reports."""
    ok(operator.post(f"{API}/zones", json={"name": zone, "provider": "hosts"}), 201)
    agents = []
    for i in range(len(lab.names)):
        (root / f"h{i}" / "engines").mkdir(parents=True)
        copy_engine(engine, root / f"h{i}" / "engines" / engine.name)
        token = ok(operator.post(f"{API}/hosts/join-tokens", json={"zone": zone}), 201)
        agents.append(start_agent(lab, server, i, root / f"h{i}", token["token"]))
    hosts_api = httpx.Client(base_url=server.url + API, headers=operator.headers, timeout=10)
    wait_for(
        "the hosts reporting",
        lambda: len([h for h in ok(hosts_api.get("/hosts")) if h["report"]]) == len(lab.names),
        30,
    )
    return agents


def tenant_network(tenant: Tenant, lab: netlab.Lab, zone: str, bucket: str) -> None:
    """The tenant's service role, a network whose subnet is the lab's in `zone`, a bucket."""
    client = tenant.client
    ok(client.post(f"{API}/ram/service-role"))
    network = str(ipaddress.ip_network(lab.subnet).supernet(new_prefix=16))
    ok(client.post(f"{API}/networks", json={"name": "net1", "cidr": network}), 201)
    subnet = {"name": "sub1", "cidr": lab.subnet, "zone": zone}
    ok(client.post(f"{API}/networks/net1/subnets", json=subnet), 201)
    tenant.bucket = bucket
    ok(client.post(f"{API}/buckets", json={"name": bucket}), 201)


@pytest.fixture
def lab() -> Iterator[netlab.Lab]:
    yield from netlab.for_test(HOSTS)


def test_a_job_survives_a_lost_slave_host_and_its_leading_master_host(
    lab: netlab.Lab, installed_engines: InstalledEngines, tmp_path: Path
) -> None:
    home = engine_home(installed_engines, tmp_path / "engines", [V2])
    env = server_env(home)
    port = free_port()
    server = start_server(tmp_path / "data", env, port=port)
    agents: list[subprocess.Popen[str]] = []
    tenant = Tenant(server)
    try:
        operator = tenant.operator
        agents += join_hosts(lab, server, operator, "rack1", tmp_path, installed_engines.path(V2))
        hosts_api = httpx.Client(base_url=server.url + API, headers=operator.headers, timeout=10)
        client = tenant.client
        tenant_network(tenant, lab, "rack1", "hosts-job")
        shape = SMALL | {"master_count": 3}
        order = ok(client.post(f"{API}/orders", json=shape), 201)
        ok(client.post(f"{API}/orders/{order['id']}/pay"))
        placement = {"bucket": tenant.bucket, "network": "net1", "subnet": "sub1", "zone": "rack1"}
        ok(
            client.post(
                f"{API}/clusters", json={"order_id": order["id"], "name": "c_hosts", **placement}
            ),
            201,
        )
        wait_for(
            "the cluster running on its hosts",
            lambda: ok(client.get(f"{API}/clusters/c_hosts"))["state"] == "running",
            timeout=120,
        )
        path = f"{API}/clusters/c_hosts/versions"
        ok(client.post(path, json={"version": V2}), 201)
        wait_for(f"{V2} installed", installed(client, path, V2), 120)
        tenant.project("p_hosts", "c_hosts", cu=3)
        job, job_id = tenant.windows_job(server, "p_hosts", "out_hosts", rows=ROWS)
        ok(client.post(f"{job}:publish"))
        ok(client.post(f"{job}:start", json={"mode": "stateless"}))
        running = tenant.wait_state("p_hosts", "windows", {"running"})
        assert running["flink_state"] == "RUNNING"
        flink_job = running["flink_job_id"]

        # where the processes run: the JobManagers on two master hosts, the TaskManager on
        # a slave's host
        nodes = {
            n["name"]: n["address"] for n in ok(client.get(f"{API}/clusters/c_hosts"))["nodes"]
        }
        index = {lab.address(i): i for i in range(HOSTS)}
        marker = f"job-{job_id}-run-1"
        masters = [index[nodes[f"master-{m}"]] for m in (1, 2, 3)]
        managers = {i: flink_pids(lab, i, marker, "jobmanager") for i in masters}
        assert sorted(len(found) for found in managers.values()) == [0, 1, 1], managers
        slaves = [index[nodes[s]] for s in ("slave-1", "slave-2")]
        (lost,) = [i for i in slaves if flink_pids(lab, i, marker, "taskmanager")]
        (other,) = [i for i in slaves if i != lost]
        wait_for("a checkpoint", lambda: bool(tenant.savepoints(job, "checkpoint")), timeout=60)
        # the logs and stdout of the processes on the hosts, read through the platform
        files = ok(client.get(f"{job}/logs"))
        logs = {(f["process"], f["kind"]) for f in files}
        assert {("jobmanager-0", "log"), ("taskmanager-0", "out")} <= logs, logs
        (name,) = [
            f["name"]
            for f in files
            if (f["process"], f["kind"]) == ("jobmanager-0", "log") and f["name"].endswith("log")
        ]
        assert "StandaloneSessionClusterEntrypoint" in client.get(f"{job}/logs/{name}").text

        def pids() -> dict[int, list[int]]:
            return {
                i: flink_pids(lab, i, marker, "jobmanager")
                + flink_pids(lab, i, marker, "taskmanager")
                for i in range(HOSTS)
            }

        # the TaskManager's agent restarts: it adopts what runs, nothing restarts
        before = pids()
        agents[lost].kill()
        agents[lost].wait(5)
        agents[lost] = start_agent(lab, server, lost, tmp_path / f"h{lost}", None)
        wait_for("its agent answers", lambda: answers(server, lab.address(lost)), 20)
        time.sleep(3)  # a few heartbeats and reconciler passes through the restarted agent
        assert pids() == before
        # `rtc up` restarts: it adopts the job, never a second submission
        stop_server(server)
        server = start_server(server.data_dir, env, port=port)
        time.sleep(5)  # past its first passes over the job and the hosts
        seen = tenant.deployment("p_hosts", "windows")
        assert (seen["state"], seen["flink_state"], seen["flink_job_id"]) == (
            "running",
            "RUNNING",
            flink_job,
        )
        assert pids() == before

        # the slave's host is cut off: lost, its TaskManager placed on the other slave, the
        # job restarted there from its checkpoint
        cut = time.monotonic()
        lab.link_down(lost)
        wait_for(
            "the TaskManager running on the other slave's host",
            lambda: (
                bool(flink_pids(lab, other, marker, "taskmanager"))
                and tenant.deployment("p_hosts", "windows")["flink_state"] == "RUNNING"
            ),
            timeout=90,
            every=0.5,
        )
        print(f"slave host lost -> RUNNING again: {time.monotonic() - cut:.1f} s")
        events = [e["message"] for e in ok(client.get(f"{job}/events"))]
        assert any("is lost: taskmanager-0 moves to" in m for m in events), events
        # the host comes back: its agent stops the stale TaskManager, no second copy
        lab.link_up(lost)
        wait_for(
            "the stale TaskManager stopped",
            lambda: not flink_pids(lab, lost, marker, "taskmanager"),
            60,
        )

        # the leading JobManager's master host dies, agent and processes: the standby on
        # another master host takes over through ZooKeeper and recovers the job
        (run_dir,) = (server.data_dir / "flink").glob(f"{marker}-*")
        leader = leading_jobmanager(run_dir)
        (leader_host,) = [
            i for i in masters if f"/conf/{leader}" in " ".join(command_lines(lab, i))
        ]
        killed = time.monotonic()
        lab.kill_all(leader_host)
        wait_for(
            "the job restarting",
            lambda: tenant.deployment("p_hosts", "windows")["flink_state"] != "RUNNING",
            timeout=60,
            every=0.2,
        )
        wait_for(
            "the job RUNNING again under the standby",
            lambda: tenant.deployment("p_hosts", "windows")["flink_state"] == "RUNNING",
            timeout=90,
            every=0.2,
        )
        print(f"leading master host lost -> RUNNING again: {time.monotonic() - killed:.1f} s")
        assert leading_jobmanager(run_dir) != leader
        # its silent agent makes the host lost (10 s), which the job's events say
        wait_for(
            "the leader's master host lost",
            lambda: ok(hosts_api.get(f"/hosts/h{leader_host}"))["state"] == "lost",
            timeout=30,
        )
        wait_for(
            "the job's event of the standby",
            lambda: any(
                "the standby JobManager takes over" in e["message"]
                for e in ok(client.get(f"{job}/events"))
            ),
            timeout=10,
        )
        # the host comes back: a fresh standby JobManager starts there, never a second job
        agents[leader_host] = start_agent(
            lab, server, leader_host, tmp_path / f"h{leader_host}", None
        )
        wait_for(
            "a JobManager on the master host back",
            lambda: bool(flink_pids(lab, leader_host, marker, "jobmanager")),
            timeout=90,
        )
        finished = tenant.wait_state("p_hosts", "windows", {"finished"}, timeout=400)
        assert finished["run"] == 1 and finished["flink_job_id"] == flink_job
        assert output_rows(out_dir(server.data_dir, "out_hosts")) == expected_windows(ROWS)
        events = [e["message"] for e in ok(client.get(f"{job}/events"))]
        assert sum("submitted as" in m or "adopted Flink job" in m for m in events) == 1
        # released with the run: no process of it on any host
        wait_for(
            "the run's processes gone from every host",
            lambda: not any(marker in " ".join(command_lines(lab, i)) for i in range(HOSTS)),
            timeout=30,
        )
        # a host is removed only once it serves no node; its agent is refused then: it
        # stops, its key deleted
        refused = hosts_api.delete(f"/hosts/h{lost}")
        assert (refused.status_code, refused.json()["code"]) == (409, "HostInUse")
        assert client.post(f"{job}:offline").status_code == 204
        assert client.delete(job).status_code in (200, 204)
        assert client.delete(f"{API}/projects/p_hosts").status_code in (200, 204)
        ok(client.delete(f"{API}/clusters/c_hosts"))
        wait_for(
            "the hosts free",
            lambda: {h["state"] for h in ok(hosts_api.get("/hosts"))} == {"ready"},
            timeout=90,
        )
        assert hosts_api.delete(f"/hosts/h{lost}").status_code == 204
        assert agents[lost].wait(30) == 3
        assert not (tmp_path / f"h{lost}" / "agent.key").exists()
    finally:
        tenant.close()
        for agent in agents:
            agent.kill()
            agent.wait(5)
        stop_server(server)
        kill_all_under(tmp_path / "data")
        kill_all_under(home)
