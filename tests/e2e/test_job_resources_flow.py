"""Job resources end to end on a live `rtc up` with real Flink: a Java scalar UDF is built
with javac, uploaded to the tenant's bucket through the API and attached to a job; the job's
SQL creates the function from its class name only (no USING JAR), passes its check, goes
online, runs on its own Flink cluster and writes the UDF's values.

The UDF's static initializer writes a marker naming the JVM that loaded it (its pid and
main class) into a directory of the test: the check's JVM (an isolated PyFlink gateway) and
the cluster's TaskManager must appear, and the shared warm worker's JVM, still alive and
used by a check of the same SQL without the resource (which fails: the class is unknown
there), must never.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rtcompute.runtime import processes
from rtcompute.runtime.flink import cluster as flink_cluster
from tests.conftest import LiveServer
from tests.e2e.test_engines_flow import ok
from tests.e2e.test_jobs_flow import V2, Tenant, World, live_world, webhook  # noqa: F401
from tests.engines_fixtures import InstalledEngines

pytestmark = pytest.mark.slow

API = "/api/v1"
ROWS = 20

UDF_SOURCE = """
import org.apache.flink.table.functions.ScalarFunction;

public class Twice extends ScalarFunction {
    static {
        try {
            long pid = ProcessHandle.current().pid();
            java.nio.file.Files.writeString(
                java.nio.file.Path.of(MARKERS, Long.toString(pid)),
                pid + " " + System.getProperty("sun.java.command"));
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    public Long eval(Long value) {
        return value == null ? null : value * 2;
    }
}
"""


def build_jar(flink_home: Path, directory: Path, markers: Path) -> bytes:
    directory.mkdir()
    source = UDF_SOURCE.replace("MARKERS,", f'"{markers}",')
    (directory / "Twice.java").write_text(source)
    api = next((flink_home / "lib").glob("flink-table-api-java-uber-*.jar"))
    subprocess.run(["javac", "-cp", str(api), "Twice.java"], cwd=directory, check=True)
    subprocess.run(["jar", "cf", "twice.jar", "Twice.class"], cwd=directory, check=True)
    return (directory / "twice.jar").read_bytes()


def job_sql(bucket: str) -> str:
    return f"""CREATE TEMPORARY FUNCTION twice AS 'Twice' LANGUAGE JAVA;
CREATE TABLE src (id BIGINT) WITH (
  'connector' = 'datagen', 'number-of-rows' = '{ROWS}',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '{ROWS}'
);
CREATE TABLE doubled (id BIGINT, twice BIGINT) WITH (
  'connector' = 'filesystem', 'path' = 'oss://{bucket}/doubled/', 'format' = 'csv'
);
INSERT INTO doubled SELECT id, twice(id) FROM src;
"""


def descendants(root: int) -> set[int]:
    """Live processes below `root` (by parent pid)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def gateway_jvms(server: LiveServer) -> set[int]:
    """The PyFlink gateway JVMs of the server's engine workers alive now."""
    return {
        pid
        for pid in descendants(server.process.pid)
        if "PythonGatewayServer" in " ".join(processes.cmdline(pid))
    }


def output_rows(directory: Path) -> list[tuple[int, int]]:
    rows: list[tuple[int, int]] = []
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.parts[-2:]):
            with path.open() as handle:
                rows.extend((int(a), int(b)) for a, b in csv.reader(handle))
    return sorted(rows)


@pytest.fixture
def markers(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "markers"
    directory.mkdir()
    os.chmod(directory, 0o777)
    yield directory


@pytest.fixture
def world(
    installed_engines: InstalledEngines,
    tmp_path: Path,
    webhook: Any,  # noqa: F811
    markers: Path,
) -> Iterator[World]:
    """A server that shares the markers directory with every tenant sandbox (the operator's
    `RTC_JOBS__SANDBOX_PATHS`): the only way the UDF can leave a trace the test sees."""
    extra = {"RTC_JOBS__SANDBOX_PATHS": json.dumps([str(markers)])}
    with live_world(tmp_path, installed_engines, webhook, extra) as made:
        yield made


def test_an_attached_udf_jar_reaches_the_check_and_the_cluster_never_the_shared_worker(
    world: World,
    markers: Path,
    tmp_path: Path,
) -> None:
    server, home = world.server, world.home
    flink_home = flink_cluster.flink_home(home / V2)
    assert flink_home is not None
    jar = build_jar(flink_home, tmp_path / "udf", markers)
    tenant = Tenant(server)
    try:
        tenant.cluster_with_versions("c_res", [V2])
        body = {"name": "p_res", "cluster": "c_res", "cu": 3}
        ok(tenant.client.post(f"{API}/projects", json=body), 201)
        bucket = tenant.bucket
        ok(tenant.client.put(f"{API}/buckets/{bucket}/objects/udfs/twice.jar", content=jar), 201)
        sql = job_sql(bucket)
        jobs = f"{API}/projects/p_res/jobs"
        for name in ("plain", "doubled"):
            ok(tenant.client.post(jobs, json={"name": name, "sql": sql}), 201)
        # without the resource the check runs on the shared worker: the class is unknown
        plain = ok(tenant.client.post(f"{jobs}/plain:validate"), 200)
        assert plain["ok"] is False and "Twice" in plain["problems"][0]["message"], plain
        shared = gateway_jvms(server)
        assert len(shared) == 1, shared  # the warm worker of flink-2.2.1
        job = f"{jobs}/doubled"
        attached = ok(
            tenant.client.put(
                f"{job}/resources",
                json={"resources": [{"bucket": bucket, "key": "udfs/twice.jar"}]},
            )
        )
        assert [(r["key"], r["kind"]) for r in attached["resources"]] == [("udfs/twice.jar", "jar")]
        checked = ok(tenant.client.post(f"{job}:validate"))
        assert checked["ok"] is True, checked
        assert gateway_jvms(server) == shared  # the isolated worker is gone again
        ok(tenant.client.post(f"{job}:publish"))
        ok(tenant.client.post(f"{job}:start", json={"mode": "stateless"}))
        finished = tenant.wait_state("p_res", "doubled", {"finished"}, timeout=240)
        assert finished["flink_job_id"]
        out = next(
            d / "doubled"
            for d in (server.data_dir / "buckets").iterdir()
            if (d / "doubled").is_dir()
        )
        assert output_rows(out) == [(i, 2 * i) for i in range(1, ROWS + 1)]
        loaded = {int(p.name): p.read_text() for p in markers.iterdir()}
        commands = list(loaded.values())
        assert any("PythonGatewayServer" in c for c in commands), commands  # the checks
        assert any("TaskManagerRunner" in c for c in commands), commands  # the cluster
        assert gateway_jvms(server) == shared  # still the same warm worker...
        assert not shared & set(loaded), (shared, loaded)  # ...which never loaded the UDF
    finally:
        tenant.close()
