"""A job on a cluster of joined hosts, end to end: namespace hosts (tests/netlab.py) with
real `rtc agent`s, a real `rtc up`, real Flink. The job's JobManager runs on the master's
host and its TaskManagers on the slaves' hosts, each started by its host's agent in its
tenant's sandbox and bound to the host's address; the exactly-once window output is
complete, without duplicates; stopping the job stops its processes on every host.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import netlab, ports
from tests.conftest import free_port, start_server, stop_server
from tests.e2e.test_engines_flow import installed, ok
from tests.e2e.test_jobs_flow import V2, Tenant, expected_windows, out_dir, output_rows
from tests.engines_fixtures import InstalledEngines, engine_home
from tests.integration.test_cluster_reconciler import kill_all_under
from tests.integration.test_host_agent import command_lines, reporting, start_agent
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

API = "/api/v1"
ROWS = 9000  # at 200 rows/s: 45 s, long enough to lose a host in the middle


def runs_taskmanager(lab: netlab.Lab, i: int, marker: str) -> bool:
    return any(marker in line and "TaskManagerRunner" in line for line in command_lines(lab, i))


@pytest.fixture
def lab() -> Iterator[netlab.Lab]:
    reason = netlab.available()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the multi-host tests need network namespaces: {reason}")
        pytest.skip(reason)
    with netlab.Lab(3) as made:
        yield made


def test_a_job_runs_exactly_once_across_hosts(
    lab: netlab.Lab, installed_engines: InstalledEngines, tmp_path: Path
) -> None:
    home = engine_home(installed_engines, tmp_path / "engines", [V2])
    env = {
        "RTC_HOST": "0.0.0.0",  # the hosts reach it at the lab's gateway
        "RTC_HOSTS__HEARTBEAT_SECONDS": "0.5",
        "RTC_ENGINES__HOME": str(home),
        **ports.job_env(),
        **ports.node_env(),
    }
    server = start_server(tmp_path / "data", env, port=free_port())
    agents: list[subprocess.Popen[str]] = []
    tenant = Tenant(server)
    try:
        operator = tenant.operator
        ok(operator.post(f"{API}/zones", json={"name": "rack1", "provider": "hosts"}), 201)
        for i in range(3):
            token = ok(operator.post(f"{API}/hosts/join-tokens", json={"zone": "rack1"}), 201)
            agents.append(start_agent(lab, server, i, tmp_path / f"h{i}", token["token"]))
        hosts_api = httpx.Client(base_url=server.url + API, headers=operator.headers, timeout=10)
        wait_for("three hosts reporting", lambda: len(reporting(hosts_api)) == 3, 30)
        client = tenant.client
        ok(client.post(f"{API}/ram/service-role"))
        network = str(ipaddress.ip_network(lab.subnet).supernet(new_prefix=16))
        ok(client.post(f"{API}/networks", json={"name": "net1", "cidr": network}), 201)
        subnet = {"name": "sub1", "cidr": lab.subnet, "zone": "rack1"}
        ok(client.post(f"{API}/networks/net1/subnets", json=subnet), 201)
        tenant.bucket = "hosts-job"
        ok(client.post(f"{API}/buckets", json={"name": tenant.bucket}), 201)
        shape = {
            "mode": "exclusive",
            "master_type": "4c16g",
            "master_count": 1,
            "slave_type": "4c16g",
            "slave_count": 2,
            "months": 1,
            "agree_to_terms": True,
        }
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
            timeout=90,
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
        # where the processes run: the JobManager on the master's host, the TaskManager on
        # a slave's host
        nodes = {
            n["name"]: n["address"] for n in ok(client.get(f"{API}/clusters/c_hosts"))["nodes"]
        }
        index = {lab.address(i): i for i in range(3)}
        marker = f"job-{job_id}-run-1"
        master = " ".join(command_lines(lab, index[nodes["master-1"]]))
        assert marker in master and "StandaloneSessionClusterEntrypoint" in master
        slaves = [index[nodes[s]] for s in ("slave-1", "slave-2")]
        (lost,) = [i for i in slaves if runs_taskmanager(lab, i, marker)]
        (other,) = [i for i in slaves if i != lost]
        wait_for("a checkpoint", lambda: bool(tenant.savepoints(job, "checkpoint")), timeout=60)
        # the slave's host is cut off: lost, its TaskManager placed on the other slave, the
        # job restarted there from its checkpoint
        cut = time.monotonic()
        lab.link_down(lost)
        try:
            wait_for(
                "the TaskManager running on the other slave's host",
                lambda: (
                    runs_taskmanager(lab, other, marker)
                    and tenant.deployment("p_hosts", "windows")["flink_state"] == "RUNNING"
                ),
                timeout=90,
                every=0.5,
            )
        except AssertionError as exc:
            seen = tenant.deployment("p_hosts", "windows")
            events = [e["message"] for e in ok(client.get(f"{job}/events"))]
            raise AssertionError(
                f"{exc}; a TaskManager on the other host: {runs_taskmanager(lab, other, marker)}"
                f"; deployment {seen}; events {events[:8]}"
            ) from None
        print(f"slave host lost -> RUNNING again: {time.monotonic() - cut:.1f} s")
        events = [e["message"] for e in ok(client.get(f"{job}/events"))]
        assert any("is lost: taskmanager-0 moves to" in m for m in events), events
        # the host comes back: its agent stops the stale TaskManager, no second copy
        lab.link_up(lost)
        wait_for(
            "the stale TaskManager stopped", lambda: not runs_taskmanager(lab, lost, marker), 60
        )
        finished = tenant.wait_state("p_hosts", "windows", {"finished"}, timeout=300)
        assert finished["run"] == 1
        assert output_rows(out_dir(server.data_dir, "out_hosts")) == expected_windows(ROWS)
        # released with the run: no process of it on any host
        wait_for(
            "the run's processes gone from every host",
            lambda: not any(marker in " ".join(command_lines(lab, i)) for i in range(3)),
            timeout=30,
        )
    finally:
        tenant.close()
        for agent in agents:
            agent.kill()
            agent.wait(5)
        stop_server(server)
        kill_all_under(tmp_path / "data")
        kill_all_under(home)
