"""The shared pool on joined hosts (`RTC_JOBS__POOL_ZONE`): a shared-mode project's job runs
its JobManager and TaskManager on the pool zone's hosts, started by their agents, exactly
once; the pool's hosts are listed as serving the shared pool, no cluster is placed in their
zone, and a host that runs a job's process cannot be removed. Namespace hosts
(tests/netlab.py), real agents, a real `rtc up`, real Flink.
"""

from __future__ import annotations

import pwd
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import netlab
from tests.conftest import LiveServer, free_port, start_server, stop_server
from tests.e2e.test_engines_flow import installed, ok
from tests.e2e.test_jobs_flow import PRINTING, V2, Tenant, expected_windows, out_dir, output_rows
from tests.e2e.test_jobs_on_hosts import join_hosts, server_env, tenant_network
from tests.engines_fixtures import InstalledEngines, engine_home
from tests.flink_runs import flink_pids, uid_of
from tests.integration.test_cluster_reconciler import kill_all_under
from tests.integration.test_clusters_api import SMALL
from tests.integration.test_host_agent import command_lines
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

API = "/api/v1"
HOSTS = 2
ROWS = 8000  # at 200 rows/s: 40 s, while another tenant's job starts


def shared_project(tenant: Tenant, name: str) -> None:
    """A shared-mode project of 2 CU, bought and paid."""
    body = {"mode": "shared", "cu": 2, "months": 1, "agree_to_terms": True}
    order = ok(tenant.client.post(f"{API}/orders", json=body), 201)
    ok(tenant.client.post(f"{API}/orders/{order['id']}/pay"))
    project = {"name": name, "order_id": order["id"]}
    ok(tenant.client.post(f"{API}/projects", json=project), 201)


def rest_port(server: LiveServer, marker: str) -> int:
    """The REST port of the run's jobmanager-0, from its configuration file."""
    (run_dir,) = (server.data_dir / "flink").glob(f"{marker}-*")
    for line in (run_dir / "conf" / "jobmanager-0" / "config.yaml").read_text().splitlines():
        if line.startswith('"rest.port":'):
            return int(line.split(":", 1)[1].strip().strip('"'))
    raise AssertionError(f"no rest.port in the configuration of {run_dir}")


def connects(lab: netlab.Lab, i: int, uid: int, address: str, port: int) -> bool:
    """Whether a process of user `uid` in host i opens a TCP connection to address:port."""
    gid = pwd.getpwuid(uid).pw_gid
    code = f"import socket; socket.create_connection(({address!r}, {port}), timeout=3)"
    argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    done = lab.run(i, [*argv, sys.executable, "-c", code], check=False)
    return done.returncode == 0


@pytest.fixture
def lab() -> Iterator[netlab.Lab]:
    yield from netlab.for_test(HOSTS)


def test_a_shared_project_job_runs_on_the_pool_s_hosts(
    lab: netlab.Lab, installed_engines: InstalledEngines, tmp_path: Path
) -> None:
    home = engine_home(installed_engines, tmp_path / "engines", [V2])
    env = server_env(home, RTC_JOBS__POOL_ZONE="pool1")
    server = start_server(tmp_path / "data", env, port=free_port())
    agents: list[subprocess.Popen[str]] = []
    tenant = Tenant(server)
    try:
        operator = tenant.operator
        agents += join_hosts(lab, server, operator, "pool1", tmp_path, installed_engines.path(V2))
        hosts_api = httpx.Client(base_url=server.url + API, headers=operator.headers, timeout=10)
        listed = ok(hosts_api.get("/hosts"))
        assert {(h["state"], h["cluster"]) for h in listed} == {("in_use", "the shared pool")}
        pool = f"{API}/pool/versions"
        ok(operator.post(pool, json={"version": V2}), 201)
        wait_for("the pool's version installed", installed(operator, pool, V2), 60)

        client = tenant.client
        tenant_network(tenant, lab, "pool1", "pool-job")
        shape = SMALL
        order = ok(client.post(f"{API}/orders", json=shape), 201)
        ok(client.post(f"{API}/orders/{order['id']}/pay"))
        body = {"order_id": order["id"], "name": "c_pool", "bucket": tenant.bucket}
        body |= {"network": "net1", "subnet": "sub1", "zone": "pool1"}
        refused = client.post(f"{API}/clusters", json=body)
        assert (refused.status_code, refused.json()["code"]) == (409, "ZoneServesPool")

        # a shared-mode job on the pool's hosts
        shared_project(tenant, "p_pool")
        job, job_id = tenant.windows_job(server, "p_pool", "out_pool", rows=ROWS)
        ok(client.patch(job, json={"settings": {"state_bucket": tenant.bucket}}))
        assert ok(client.post(f"{job}:publish"))["target"] == "the shared pool"
        ok(client.post(f"{job}:start", json={"mode": "stateless"}))
        assert tenant.wait_state("p_pool", "windows", {"running"})["flink_state"] == "RUNNING"
        marker = f"job-{job_id}-run-1"
        managers = [i for i in range(HOSTS) if flink_pids(lab, i, marker, "jobmanager")]
        workers = [i for i in range(HOSTS) if flink_pids(lab, i, marker, "taskmanager")]
        assert len(managers) == 1 and len(workers) == 1, (managers, workers)
        # tenant work on a host runs as the tenant's own user, never as root
        for i in managers + workers:
            for pid in flink_pids(lab, i, marker, "jobmanager") + flink_pids(
                lab, i, marker, "taskmanager"
            ):
                assert uid_of(pid) != 0
        # red team: another tenant's job on the pool, on the other host, reaches its own run's
        # ports there and none of this run's across the network
        other = Tenant(server)
        try:
            ok(other.client.post(f"{API}/ram/service-role"))
            ok(other.client.post(f"{API}/buckets", json={"name": "pool-other"}), 201)
            shared_project(other, "p_other")
            settings = {"parallelism": 1, "state_bucket": "pool-other"}
            body = {"name": "printer", "sql": PRINTING, "settings": settings}
            ok(other.client.post(f"{API}/projects/p_other/jobs", json=body), 201)
            printer = other.job("p_other", "printer")
            ok(other.client.post(f"{printer}:publish"))
            ok(other.client.post(f"{printer}:start"))
            other.wait_state("p_other", "printer", {"running"})
            theirs = f"job-{other.job_id(server, 'p_other', 'printer')}-run-1"
            (there,) = [i for i in range(HOSTS) if flink_pids(lab, i, theirs, "taskmanager")]
            assert there != managers[0], "the other tenant's job is on the same host"
            uid = uid_of(flink_pids(lab, there, theirs, "taskmanager")[0])
            (own,) = [i for i in range(HOSTS) if flink_pids(lab, i, theirs, "jobmanager")]
            assert connects(lab, there, uid, lab.address(own), rest_port(server, theirs))
            target = (lab.address(managers[0]), rest_port(server, marker))
            assert connects(lab, there, 0, *target)  # it listens: root (no tenant) gets in
            assert not connects(lab, there, uid, *target)
            ok(other.client.post(f"{printer}:stop", json={"mode": "cancel"}))
            other.wait_state("p_other", "printer", {"stopped"})
        finally:
            other.close()
        busy = f"h{workers[0]}"
        refused = hosts_api.delete(f"/hosts/{busy}")
        assert (refused.status_code, refused.json()["code"]) == (409, "HostInUse")
        finished = tenant.wait_state("p_pool", "windows", {"finished"}, timeout=180)
        assert finished["run"] == 1
        assert output_rows(out_dir(server.data_dir, "out_pool")) == expected_windows(ROWS)
        wait_for(
            "the run's processes gone from the pool's hosts",
            lambda: not any(marker in " ".join(command_lines(lab, i)) for i in range(HOSTS)),
            timeout=30,
        )
        assert hosts_api.delete(f"/hosts/{busy}").status_code == 204
        assert agents[workers[0]].wait(30) == 3
    finally:
        tenant.close()
        for agent in agents:
            agent.kill()
            agent.wait(5)
        stop_server(server)
        kill_all_under(tmp_path / "data")
        kill_all_under(home)
