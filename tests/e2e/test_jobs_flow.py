"""Jobs end to end on a live `rtc up` with real Flink: a datagen -> event-time tumbling
window -> filesystem (exactly-once) job runs as its own Flink cluster on an exclusive
cluster's nodes; it is stopped with a savepoint and resumed, its TaskManager is killed, the
platform itself is SIGKILLed while the job starts; each time the output must be exactly the
expected rows: no window lost, none written twice.

The tests that do not kill `rtc up` share one server (and one tenant's running cluster with
both versions), each with its own project, jobs and output folder; the test that kills the
server has its own.

The source is a bounded sequence 1..N at a limited rate, with event time id * 10 ms, so
window k holds ids 100k..100k+99 (k = 0: 1..99) whatever the timing, and the job finishes
on its own once the sequence ends (the final watermark closes every window).
"""

from __future__ import annotations

import contextlib
import csv
import http.server
import json
import os
import secrets
import signal
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from rtcompute.runtime import processes
from tests import ports
from tests.conftest import LiveServer, login, signup, start_server, stop_server
from tests.e2e.test_engines_flow import installed, ok, running_cluster
from tests.engines_fixtures import InstalledEngines, engine_home
from tests.integration.test_cluster_reconciler import kill_all_under
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

API = "/api/v1"
V2, V1 = "flink-2.2.1", "flink-1.20.5"
ROWS = 3000
RATE = 200  # rows per second: the job runs ~15 s


def job_sql(bucket: str, out: str, rows: int = ROWS, rate: int = RATE) -> str:
    return f"""CREATE TABLE src (
  id BIGINT,
  ts AS TO_TIMESTAMP_LTZ(id * 10, 3),
  WATERMARK FOR ts AS ts
) WITH (
  'connector' = 'datagen',
  'fields.id.kind' = 'sequence',
  'fields.id.start' = '1',
  'fields.id.end' = '{rows}',
  'rows-per-second' = '{rate}'
);
CREATE TABLE windows (
  cnt BIGINT,
  total BIGINT
) WITH (
  'connector' = 'filesystem',
  'path' = 'oss://{bucket}/{out}/',
  'format' = 'csv'
);
INSERT INTO windows
SELECT COUNT(*), SUM(id)
FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND))
GROUP BY window_start, window_end;
"""


def expected_windows(rows: int = ROWS) -> list[tuple[int, int]]:
    windows: dict[int, list[int]] = {}
    for i in range(1, rows + 1):
        windows.setdefault(i * 10 // 1000, []).append(i)
    return sorted((len(ids), sum(ids)) for ids in windows.values())


def output_rows(directory: Path) -> list[tuple[int, int]]:
    """Finished part files only: in-progress and pending files are hidden (start with .)."""
    found: list[tuple[int, int]] = []
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.parts[-2:]):
            with path.open() as handle:
                found.extend((int(a), int(b)) for a, b in csv.reader(handle))
    return sorted(found)


class Webhook:
    """The operator's alert webhook: a local HTTP server that keeps what is POSTed to it."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    made = Webhook()
    yield made
    made.close()


@dataclass
class World:
    server: LiveServer
    home: Path
    env: dict[str, str]


@contextlib.contextmanager
def live_world(
    root: Path,
    installed: InstalledEngines,
    webhook: Webhook,
    extra: dict[str, str] | None = None,
) -> Iterator[World]:
    """`rtc up` with both versions in its engines home, its own port windows and webhook."""
    home = engine_home(installed, root / "engines", [V2, V1])
    env = {
        **(extra or {}),
        "RTC_ENGINES__HOME": str(home),
        "RTC_ALERTS__WEBHOOK_URL": webhook.url,
        **ports.job_env(),
        "RTC_JOBS__METRICS_INTERVAL_SECONDS": "1",
        **ports.node_env(),
    }
    data_dir = root / "data"
    server = start_server(data_dir, env)
    try:
        yield World(server, home, env)
    finally:
        stop_server(server)
        kill_all_under(data_dir)
        kill_all_under(home)


@pytest.fixture(scope="module")
def shared(
    installed_engines: InstalledEngines,
    tmp_path_factory: pytest.TempPathFactory,
    webhook: Webhook,
) -> Iterator[World]:
    """The server of the tests that do not kill it."""
    with live_world(tmp_path_factory.mktemp("jobs-shared"), installed_engines, webhook) as world:
        yield world


@pytest.fixture
def world(installed_engines: InstalledEngines, tmp_path: Path, webhook: Webhook) -> Iterator[World]:
    """A server of the test's own (the test kills it)."""
    with live_world(tmp_path, installed_engines, webhook) as made:
        yield made


class Tenant:
    def __init__(self, server: LiveServer) -> None:
        self.client = httpx.Client(base_url=server.url, timeout=60)
        self.operator = httpx.Client(base_url=server.url, timeout=60)
        alias = "job-" + secrets.token_hex(3)
        signup(self.client, alias)  # type: ignore[arg-type]
        self.client.headers.update(login(self.client, alias))  # type: ignore[arg-type]
        self.operator.headers.update(login(self.operator, server.account, server.password))  # type: ignore[arg-type]
        self.bucket = ""

    def close(self) -> None:
        self.client.close()
        self.operator.close()

    def cluster_with_versions(self, name: str, versions: list[str]) -> None:
        running_cluster(self.client, self.operator, name)
        cluster = ok(self.client.get(f"{API}/clusters/{name}"))
        self.bucket = cluster["bucket"]
        path = f"{API}/clusters/{name}/versions"
        for version in versions:
            ok(self.client.post(path, json={"version": version}), 201)
            wait_for(f"{version} installed", installed(self.client, path, version), 120)

    def project(self, name: str, cluster: str, cu: int = 3) -> None:
        body = {"name": name, "cluster": cluster, "cu": cu}
        ok(self.client.post(f"{API}/projects", json=body), 201)

    def savepoints(self, job: str, kind: str) -> list[dict[str, Any]]:
        found = ok(self.client.get(f"{job}/savepoints"))
        return [s for s in found if s["kind"] == kind]

    def job(self, project: str, name: str) -> str:
        return f"{API}/projects/{project}/jobs/{name}"

    def windows_job(
        self, server: LiveServer, project: str, out: str, rows: int = ROWS
    ) -> tuple[str, int]:
        """The project's exactly-once window job `windows` (checkpoints every second,
        writing to the folder `out` of the tenant's bucket): its address and its id."""
        body = {
            "name": "windows",
            "sql": job_sql(self.bucket, out, rows=rows),
            "settings": {"parallelism": 1, "checkpoint_interval_seconds": 1},
        }
        ok(self.client.post(f"{API}/projects/{project}/jobs", json=body), 201)
        return self.job(project, "windows"), self.job_id(server, project, "windows")

    def job_id(self, server: LiveServer, project: str, name: str) -> int:
        """The job's id in the server's database: its runs' directories carry it."""
        with contextlib.closing(sqlite3.connect(server.data_dir / "rtcompute.db")) as db:
            (found,) = db.execute(
                "SELECT jobs.id FROM jobs JOIN projects ON projects.id = jobs.project_id"
                " WHERE projects.name = ? AND jobs.name = ?",
                (project, name),
            ).fetchone()
        return int(found)

    def deployment(self, project: str, name: str) -> dict[str, Any]:
        return ok(self.client.get(f"{self.job(project, name)}/deployment"))  # type: ignore[no-any-return]

    def wait_state(
        self, project: str, name: str, states: set[str], timeout: float = 180.0
    ) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            found = self.deployment(project, name)
            assert found["state"] != "failed" or "failed" in states, found.get("message")
            return found if found["state"] in states else None

        return wait_for(f"job {name} {states}", check, timeout=timeout, every=0.3)


@pytest.fixture(scope="module")
def cluster_tenant(shared: World) -> Iterator[Tenant]:
    """A tenant of the shared server with a running cluster `c_job` holding both versions
    (flink-2.2.1 current); its tests each make their own project of 2 CU (the cluster has 6)."""
    tenant = Tenant(shared.server)
    try:
        tenant.cluster_with_versions("c_job", [V2, V1])
        yield tenant
    finally:
        tenant.close()


def out_dir(data_dir: Path, out: str, until_made: bool = False) -> Path:
    """The job's output folder `out` in its tenant's bucket (buckets are numbered directories
    under the data dir; every job of the module writes to a folder of its own name). With
    `until_made`, a folder not made yet is a path that does not exist (the job starts)."""
    found = [d / out for d in (data_dir / "buckets").iterdir() if (d / out).is_dir()]
    if until_made and not found:
        return data_dir / "buckets" / "not-made-yet"
    assert len(found) == 1, found
    return found[0]


def flink_processes(data_dir: Path, kind: str, job_id: int) -> list[tuple[int, str]]:
    """(pid, conf dir) of the Flink processes of `kind` of the job's runs under the data dir."""
    found = []
    root = str(data_dir / "flink" / f"job-{job_id}-run-")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        argv = processes.cmdline(int(entry.name))
        joined = " ".join(argv)
        if root in joined and f"/conf/{kind}-" in joined and "java" in (argv[0] if argv else ""):
            found.append((int(entry.name), joined))
    return found


def test_stop_with_savepoint_and_resume_gives_exactly_the_rows(
    shared: World, cluster_tenant: Tenant
) -> None:
    server, tenant = shared.server, cluster_tenant
    tenant.project("p_job", "c_job", cu=2)
    job, job_id = tenant.windows_job(server, "p_job", "out_job")
    online = ok(tenant.client.post(f"{job}:publish"))
    assert (online["state"], online["engine_version"], online["cu"]) == ("online", V2, 1.25)
    ok(tenant.client.post(f"{job}:start", json={"mode": "stateless"}))
    running = tenant.wait_state("p_job", "windows", {"running"})
    assert running["flink_state"] == "RUNNING" and running["flink_job_id"]
    # some windows closed and committed (a checkpoint commits them, every second)
    wait_for(
        "committed windows",
        lambda: output_rows(out_dir(server.data_dir, "out_job", until_made=True)),
        timeout=60,
        every=0.2,
    )
    ok(tenant.client.post(f"{job}:stop", json={"mode": "savepoint"}))
    stopped = tenant.wait_state("p_job", "windows", {"stopped"})
    assert stopped["message"].startswith("savepoint oss://")  # its address, not our path
    savepoints = [s for s in ok(tenant.client.get(f"{job}/savepoints")) if s["kind"] == "savepoint"]
    assert len(savepoints) == 1 and savepoints[0]["reason"] == "stop"
    assert not flink_processes(server.data_dir, "taskmanager", job_id)  # released
    partial = output_rows(out_dir(server.data_dir, "out_job"))
    assert 0 < len(partial) < len(expected_windows())
    ok(tenant.client.post(f"{job}:start", json={"mode": "latest_savepoint"}))
    finished = tenant.wait_state("p_job", "windows", {"finished"}, timeout=240)
    assert finished["run"] == 2
    rows = output_rows(out_dir(server.data_dir, "out_job"))
    assert rows == expected_windows()
    # readings of both runs (their rates: the printing job's test, which runs long
    # enough for Flink's 5 s rate views and its lazy metric fetch)
    assert {m["run"] for m in ok(tenant.client.get(f"{job}/metrics"))} == {1, 2}
    logs = ok(tenant.client.get(f"{job}/logs"))
    assert {f["kind"] for f in logs} >= {"log", "out"}
    assert not flink_processes(server.data_dir, "jobmanager", job_id)


def test_a_killed_taskmanager_restarts_from_the_checkpoint(
    shared: World, cluster_tenant: Tenant, webhook: Webhook
) -> None:
    server, tenant = shared.server, cluster_tenant
    tenant.project("p_tm", "c_job", cu=2)
    job, job_id = tenant.windows_job(server, "p_tm", "out_tm")
    rule = {"kind": "restarts", "threshold": 0, "window_seconds": 600}
    ok(tenant.client.put(f"{job}/alerts", json={"rules": [rule]}))
    ok(tenant.client.post(f"{job}:publish"))
    ok(tenant.client.post(f"{job}:start"))
    tenant.wait_state("p_tm", "windows", {"running"})
    wait_for("a checkpoint", lambda: bool(tenant.savepoints(job, "checkpoint")), timeout=60)
    managers = flink_processes(server.data_dir, "taskmanager", job_id)
    assert len(managers) == 1
    os.kill(managers[0][0], signal.SIGKILL)
    tenant.wait_state("p_tm", "windows", {"finished"}, timeout=300)
    events = ok(tenant.client.get(f"{job}/events"))
    assert any(e["kind"] == "failover" and "taskmanager-0" in e["message"] for e in events)
    rows = output_rows(out_dir(server.data_dir, "out_tm"))
    assert rows == expected_windows()
    # the restart Flink reported fired the job's alert rule, once, with a link to the job
    assert [e for e in events if e["kind"] == "alert"], events
    (alert,) = [
        a for a in webhook.received if a["kind"] == "job_restarts" and "/p_tm/" in a["body"]
    ]
    assert alert["subject"].startswith("job windows: ") and "restarts" in alert["subject"]
    assert alert["body"].endswith("/console/projects/p_tm/jobs/windows"), alert


def test_rtc_up_killed_while_a_job_starts_runs_it_exactly_once(world: World) -> None:
    server, env = world.server, world.env
    tenant = Tenant(server)
    try:
        tenant.cluster_with_versions("c_kill", [V2])
        tenant.project("p_kill", "c_kill")
        job, job_id = tenant.windows_job(server, "p_kill", "out_kill")
        ok(tenant.client.post(f"{job}:publish"))
        ok(tenant.client.post(f"{job}:start"))
        wait_for(
            "the JobManager to be launched",
            lambda: bool(flink_processes(server.data_dir, "jobmanager", job_id)),
            timeout=60,
        )
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        port = int(server.url.rsplit(":", 1)[1])
        again = start_server(server.data_dir, env, port=port)
        try:
            tenant.wait_state("p_kill", "windows", {"finished"}, timeout=300)
            rows = output_rows(out_dir(server.data_dir, "out_kill"))
            assert rows == expected_windows()
            events = [e["message"] for e in ok(tenant.client.get(f"{job}/events"))]
            assert sum("submitted as" in m or "adopted Flink job" in m for m in events) == 1
        finally:
            stop_server(again)
    finally:
        tenant.close()


PRINTING = """CREATE TABLE src (id BIGINT) WITH (
  'connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1',
  'fields.id.end' = '100000', 'rows-per-second' = '20'
);
CREATE TABLE shown (id BIGINT) WITH ('connector' = 'print');
INSERT INTO shown SELECT id FROM src;
"""


def test_a_job_on_its_own_version_pins_it_until_it_goes_offline(
    shared: World, cluster_tenant: Tenant
) -> None:
    tenant = cluster_tenant  # c_job holds both versions, flink-2.2.1 current
    tenant.project("p_ver", "c_job", cu=2)
    body = {"name": "printer", "sql": PRINTING, "engine_version": V1}
    ok(tenant.client.post(f"{API}/projects/p_ver/jobs", json=body), 201)
    job = tenant.job("p_ver", "printer")
    assert ok(tenant.client.post(f"{job}:publish"))["engine_version"] == V1
    ok(tenant.client.post(f"{job}:start"))
    running = tenant.wait_state("p_ver", "printer", {"running"})
    assert running["flink_state"] == "RUNNING"

    # the print sink's output is the TaskManager's stdout, served as a log file
    def printed() -> bool:
        outs = [f for f in ok(tenant.client.get(f"{job}/logs")) if f["kind"] == "out"]
        texts = [tenant.client.get(f"{job}/logs/{f['name']}").text for f in outs]
        return any("+I[" in text for text in texts)

    wait_for("printed rows", printed, timeout=60, every=0.3)

    def flowing() -> bool:
        found = ok(tenant.client.get(f"{job}/metrics"))
        return any((m["records_in_per_second"] or 0) > 0 for m in found) and any(
            (m["records_out_per_second"] or 0) > 0 for m in found
        )

    wait_for("records in and out per second", flowing, timeout=90, every=0.3)
    versions = f"{API}/clusters/c_job/versions"
    refused = ok(tenant.client.delete(f"{versions}/{V1}"), 409)
    assert refused["message"] == f"Node:printer in project:p_ver still ref the version:{V1}"
    # switching the draft does not touch what runs
    ok(tenant.client.patch(job, json={"engine_version": V2}))
    assert tenant.deployment("p_ver", "printer")["engine_version"] == V1
    ok(tenant.client.post(f"{job}:stop", json={"mode": "cancel"}))
    tenant.wait_state("p_ver", "printer", {"stopped"})
    assert ok(tenant.client.delete(f"{versions}/{V1}"), 409)["code"] == "VersionInUse"
    assert tenant.client.post(f"{job}:offline").status_code == 204
    assert tenant.client.get(f"{job}/deployment").status_code == 404
    ok(tenant.client.delete(f"{versions}/{V1}"))
    # the switched draft goes online on flink-2.2.1 and runs there
    assert ok(tenant.client.post(f"{job}:publish"))["engine_version"] == V2
    ok(tenant.client.post(f"{job}:start"))
    assert tenant.wait_state("p_ver", "printer", {"running"})["flink_state"] == "RUNNING"
    ok(tenant.client.post(f"{job}:stop"))
    stopped = tenant.wait_state("p_ver", "printer", {"stopped"})
    assert stopped["message"].startswith("savepoint oss://")  # its address, not our path


def test_a_shared_project_job_runs_on_the_pool(shared: World) -> None:
    tenant = Tenant(shared.server)
    try:
        pool = f"{API}/pool/versions"
        ok(tenant.operator.post(pool, json={"version": V2}), 201)
        wait_for("the pool's flink-2.2.1", installed(tenant.operator, pool, V2), 120)
        ok(tenant.client.post(f"{API}/ram/service-role"))
        order = ok(
            tenant.client.post(
                f"{API}/orders",
                json={"mode": "shared", "cu": 2, "months": 1, "agree_to_terms": True},
            ),
            201,
        )
        ok(tenant.client.post(f"{API}/orders/{order['id']}/pay"))
        ok(
            tenant.client.post(
                f"{API}/projects", json={"name": "p_shared", "order_id": order["id"]}
            ),
            201,
        )
        bucket = "shr-" + secrets.token_hex(4)
        ok(tenant.client.post(f"{API}/buckets", json={"name": bucket}), 201)
        body = {"name": "printer", "sql": PRINTING, "settings": {"parallelism": 1}}
        ok(tenant.client.post(f"{API}/projects/p_shared/jobs", json=body), 201)
        job = tenant.job("p_shared", "printer")
        missing = ok(tenant.client.post(f"{job}:publish"), 400)
        assert missing["code"] == "JobStateBucketRequired"
        ok(tenant.client.patch(job, json={"settings": {"state_bucket": bucket}}))
        online = ok(tenant.client.post(f"{job}:publish"))
        assert online["target"] == "the shared pool"
        ok(tenant.client.post(f"{job}:start"))
        assert tenant.wait_state("p_shared", "printer", {"running"})["flink_state"] == "RUNNING"
        ok(tenant.client.post(f"{job}:suspend"))
        tenant.wait_state("p_shared", "printer", {"suspended"})
        ok(tenant.client.post(f"{job}:resume"))
        tenant.wait_state("p_shared", "printer", {"running"})
        ok(tenant.client.post(f"{job}:stop", json={"mode": "cancel"}))
        tenant.wait_state("p_shared", "printer", {"stopped"})
    finally:
        tenant.close()


def ha_cluster(tenant: Tenant, name: str) -> None:
    """A running 3-master cluster (ZooKeeper quorum on the masters) with flink-2.2.1."""
    client, operator = tenant.client, tenant.operator
    zone = "zone_" + secrets.token_hex(3)
    ok(operator.post(f"{API}/zones", json={"name": zone, "capacity": {"4c16g": 5}}), 201)
    ok(client.post(f"{API}/ram/service-role"))
    ok(client.post(f"{API}/networks", json={"name": "vpc_h", "cidr": "10.31.0.0/16"}), 201)
    subnet = {"name": "vsw_h", "cidr": "10.31.1.0/24", "zone": zone}
    ok(client.post(f"{API}/networks/vpc_h/subnets", json=subnet), 201)
    tenant.bucket = "ha-" + secrets.token_hex(4)
    ok(client.post(f"{API}/buckets", json={"name": tenant.bucket}), 201)
    shape = {
        "mode": "exclusive",
        "master_type": "4c16g",
        "master_count": 3,
        "slave_type": "4c16g",
        "slave_count": 2,
        "months": 1,
        "agree_to_terms": True,
    }
    order = ok(client.post(f"{API}/orders", json=shape), 201)
    ok(client.post(f"{API}/orders/{order['id']}/pay"))
    placement = {"bucket": tenant.bucket, "network": "vpc_h", "subnet": "vsw_h", "zone": zone}
    ok(
        client.post(f"{API}/clusters", json={"order_id": order["id"], "name": name, **placement}),
        201,
    )
    wait_for(
        "the 3-master cluster to run",
        lambda: ok(client.get(f"{API}/clusters/{name}"))["state"] == "running",
        timeout=120,
    )
    path = f"{API}/clusters/{name}/versions"
    ok(client.post(path, json={"version": V2}), 201)
    wait_for(f"{V2} installed", installed(client, path, V2), 120)


def test_the_standby_jobmanager_takes_over_when_the_leader_dies(shared: World) -> None:
    server = shared.server
    tenant = Tenant(server)
    try:
        ha_cluster(tenant, "c_ha")
        tenant.project("p_ha", "c_ha")
        job, job_id = tenant.windows_job(server, "p_ha", "out_ha", rows=4000)
        online = ok(tenant.client.post(f"{job}:publish"))
        assert online["cu"] == 1.5  # a slot + two JobManagers' shares
        ok(tenant.client.post(f"{job}:start"))
        tenant.wait_state("p_ha", "windows", {"running"})
        managers = flink_processes(server.data_dir, "jobmanager", job_id)
        assert len(managers) == 2
        wait_for("a checkpoint", lambda: bool(tenant.savepoints(job, "checkpoint")), timeout=60)
        leader = next(pid for pid, line in managers if "/conf/jobmanager-0" in line)
        os.kill(leader, signal.SIGKILL)
        tenant.wait_state("p_ha", "windows", {"finished"}, timeout=300)
        rows = output_rows(out_dir(server.data_dir, "out_ha"))
        assert rows == expected_windows(4000)
        events = [e["message"] for e in ok(tenant.client.get(f"{job}/events"))]
        assert any("jobmanager-0" in m and "started again" in m for m in events)
        # one job, never submitted twice: the standby recovered it from ZooKeeper
        assert sum("submitted as" in m for m in events) == 1
    finally:
        tenant.close()
