"""Red team: a tenant's JAR, running inside its job on real Flink, tries to reach what is not
its own.

The JAR is built here with javac: a scalar function `Probe` whose `eval(what)` tries one
thing and answers what it got (the bytes it read, "connected", or the exception). The job
runs every probe once and writes the answers into the tenant's own state directory, which
the test reads. Each attempt must fail, and the test says what it got instead. A control
probe reads a file the tenant owns, so a sandbox that breaks everything fails the test too.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import pwd
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rtcompute.domain import flinkconf
from rtcompute.runtime import cgroups, netrules, sandbox
from rtcompute.runtime.engines import workers
from rtcompute.runtime.flink import cluster as flink_cluster
from rtcompute.runtime.flink import rest
from tests import ports as test_ports
from tests.integration.test_flink_runtime import HOST, Run, pool  # noqa: F401
from tests.security import programs
from tests.waiting import wait_for

# no skip when the host cannot sandbox: `make test` installs bubblewrap and nftables and CI
# runs as root, and a skip would hide the red-team suite; a missing part fails below instead
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def sandbox_available() -> None:
    why = sandbox.unavailable()
    assert why is None, f"this host cannot sandbox tenants' processes: {why}"


ACCOUNT = "7000000000000001"

PROBE_SOURCE = """
import java.io.*;
import java.net.*;
import java.nio.file.*;
import org.apache.flink.table.functions.ScalarFunction;

public class Probe extends ScalarFunction {
    public String eval(String what) {
        try {
            if (what.startsWith("read:")) {
                byte[] got = Files.readAllBytes(Paths.get(what.substring(5)));
                return "READ " + new String(got).replace('\\n', ' ').trim();
            }
            if (what.startsWith("list:")) {
                String[] names = new File(what.substring(5)).list();
                return names == null ? "no listing" : "LISTED " + String.join(" ", names);
            }
            if (what.startsWith("write:")) {
                Files.write(Paths.get(what.substring(6)), "pwned".getBytes());
                return "WROTE";
            }
            if (what.startsWith("connect:")) {
                String[] hp = what.substring(8).split(":");
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), 2000);
                    return "CONNECTED";
                }
            }
            if (what.equals("env")) {
                return "ENV " + System.getenv().keySet();
            }
            if (what.equals("user")) {
                return "USER " + new String(Files.readAllBytes(Paths.get("/proc/self/status")))
                    .lines().filter(l -> l.startsWith("Uid:")).findFirst().orElse("?");
            }
            if (what.equals("allocate")) {
                java.util.List<byte[]> held = new java.util.ArrayList<>();
                for (int i = 0; i < 64; i++) { held.add(new byte[256 * 1024 * 1024]); }
                return "ALLOCATED " + held.size() * 256 + " MB";
            }
            if (what.equals("processes")) {
                String[] names = new File("/proc").list((d, n) -> n.matches("[0-9]+"));
                return "PROCESSES " + (names == null ? 0 : names.length);
            }
            return "unknown probe";
        } catch (Throwable error) {
            return "FAILED " + error.getClass().getSimpleName() + ": " + error.getMessage();
        }
    }
}
"""


def build_probe_jar(flink_home: Path, directory: Path) -> Path:
    directory.mkdir()
    (directory / "Probe.java").write_text(PROBE_SOURCE)
    api = next((flink_home / "lib").glob("flink-table-api-java-uber-*.jar"))
    subprocess.run(["javac", "-cp", str(api), "Probe.java"], cwd=directory, check=True)
    subprocess.run(["jar", "cf", "probe.jar", "Probe.class"], cwd=directory, check=True)
    return directory / "probe.jar"


@dataclasses.dataclass
class Scene:
    """What lies around the tenant's job on the node."""

    state: Path  # the tenant's own state directory (mounted writable)
    owned: Path  # a file of the tenant's, inside its state directory
    database: Path  # the platform's database, beside the run directories
    other_bucket: Path  # another account's bucket
    other_port: int  # a port another account's job listens on
    block: int  # the first port of the job's own block


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    data = tmp_path / "data"
    state = data / "buckets" / "1" / "rtcompute" / "jobs"
    state.mkdir(parents=True)
    owned = state / "owned.txt"
    owned.write_text("tenant-owned-data")
    database = data / "rtc.db"
    database.write_text("password hashes and session secrets")
    other_bucket = data / "buckets" / "2"
    other_bucket.mkdir(parents=True)
    (other_bucket / "secret.csv").write_text("globex-secret")
    block, _ = test_ports.window(test_ports.JOBS, 64)
    with socket.socket() as other_job:  # another run's block follows this one's
        other_job.bind((HOST, block + 40))
        other_job.listen()
        yield Scene(state, owned, database, other_bucket, block + 40, block)


KNOCK = """
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).close()
    print("connected")
except OSError:
    print("refused")
"""


def knock(port: int, *, as_uid: int) -> str:
    """Connect to a local port as another user (setpriv), the way a neighbour would."""
    argv = ["setpriv", f"--reuid={as_uid}", f"--regid={as_uid}", "--clear-groups"]
    argv += [sys.executable, "-c", KNOCK, str(port)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.strip()


def quoted(text: str) -> str:
    return text.replace("'", "''")


def probes(scene: Scene, own_port: int) -> dict[str, str]:
    return {
        "its own JobManager (control)": f"connect:127.0.0.1:{own_port}",
        "another job's port": f"connect:127.0.0.1:{scene.other_port}",
        "the platform's PostgreSQL": "connect:127.0.0.1:5432",
        "own file (control)": f"read:{scene.owned}",
        "the platform's database": f"read:{scene.database}",
        "the data directory": f"list:{scene.database.parent}",
        "another account's bucket": f"read:{scene.other_bucket / 'secret.csv'}",
        "/etc/shadow": "read:/etc/shadow",
        "root's home": "list:/root",
        "a file beside the database": f"write:{scene.database.parent / 'planted'}",
        "the environment": "env",
        "its user": "user",
        "other processes": "processes",
        "past its memory": "allocate",
    }


def test_a_hostile_jar_reaches_nothing_but_its_own(
    installed_engines: Any,
    pool: workers.WorkerPool,  # noqa: F811
    tmp_path: Path,
    scene: Scene,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RTC_BOOTSTRAP_PASSWORD", "canary-secret-83")
    version = "flink-2.2.1"
    home = flink_cluster.flink_home(installed_engines.path(version))
    assert home is not None
    jar = build_probe_jar(home, tmp_path / "jar")
    run = Run(installed_engines, version, tmp_path / "data" / "flink" / "job-9-run-1", slots=1)
    # the tenant's state: its checkpoints and savepoints (Run keeps them beside its run
    # directory), and its bucket directory where the answers go
    flink_state = [tmp_path / "data" / "flink" / name for name in ("checkpoints", "savepoints")]
    for directory in flink_state:
        directory.mkdir(parents=True)
    mounts = tuple(sandbox.Mount(str(p), True, owned=True) for p in (scene.state, *flink_state))
    tenant = sandbox.Tenant(sandbox.user_of(ACCOUNT), mounts)
    # a run's block as placement makes it: JobManager ports, then the TaskManager's
    low = scene.block
    manager = flink_cluster.FlinkProcess(
        "jobmanager", 0, "pool", HOST, low + 1, flinkconf.JOBMANAGER_MEMORY_MB,
        rest_port=low, blob_port=low + 2, metrics_port=low + 3,
    )  # fmt: skip
    worker = flink_cluster.FlinkProcess(
        "taskmanager", 0, "pool", HOST, low + 8, flinkconf.taskmanager_memory_mb(1),
        data_port=low + 9, slots=1, metrics_port=low + 10,
    )  # fmt: skip
    run.cluster = dataclasses.replace(run.cluster, processes=(manager, worker), tenant=tenant)
    run.rest = rest.FlinkRest(HOST, low)
    out = scene.state / "answers"
    leader = run.cluster.leader()
    asked = probes(scene, leader.rest_port)
    rows = ", ".join(f"('{quoted(name)}', '{quoted(what)}')" for name, what in asked.items())
    sql = f"""
CREATE TEMPORARY FUNCTION probe AS 'Probe' LANGUAGE JAVA;
CREATE TABLE answers (name STRING, answer STRING)
WITH ('connector' = 'filesystem', 'path' = 'file://{out}', 'format' = 'csv');
INSERT INTO answers SELECT name, probe(what) FROM (VALUES {rows}) AS t(name, what);
"""
    uid, _ = sandbox.ensure_user(tenant.user)
    ports = [
        port
        for p in run.cluster.processes
        for port in (p.rest_port, p.rpc_port, p.blob_port, p.data_port, p.metrics_port)
        if port
    ]
    netrules.guard_run(run.cluster.run_key, (min(ports), max(ports)), uid, [])
    try:
        run.start()
        # the JVMs run as the account's user, in cgroups sized from their CU
        assert pwd.getpwnam(tenant.user).pw_uid == uid
        for process in run.cluster.processes:
            pid = run.launcher.find(run.cluster, process)
            assert pid is not None
            assert os.stat(f"/proc/{pid}").st_uid == uid
            memory = cgroups.of(pid, "memory")
            assert memory is not None and memory.name == f"{run.cluster.run_key}-{process.name}"
            limit = int((memory / "memory.limit_in_bytes").read_text())
            expected = (
                sandbox.taskmanager_limits(process.slots, process.memory_mb)
                if process.kind == "taskmanager"
                else sandbox.jobmanager_limits(process.memory_mb)
            )
            assert limit == expected.memory_mb * 1024 * 1024
            cpu = cgroups.of(pid, "cpu")
            assert cpu is not None
            quota = int((cpu / "cpu.cfs_quota_us").read_text())
            assert quota == int(expected.cpu_cores * cgroups.CPU_CEILING * cgroups.CPU_PERIOD_US)
            shares = int((cpu / "cpu.shares").read_text())
            assert shares == int(expected.cpu_cores * cgroups.SHARES_PER_CORE)
        config = run.submit_config(**{"pipeline.jars": f"file://{jar}"})
        submitted = pool.submit(version, sql, config)
        assert submitted.problems == () and submitted.job_id
        job_id = submitted.job_id
        wait_for("FINISHED", lambda: run.state(job_id) in ("FINISHED", "FAILED"), 90)
        assert run.state(job_id) == "FINISHED", run.rest.exceptions(job_id)
        got: dict[str, str] = {}
        for path in sorted(out.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                got.update({r[0]: r[1] for r in csv.reader(path.open()) if r})
        # another local user (another tenant's job, anyone on the node) cannot reach the
        # job's unauthenticated REST API; the platform can
        assert knock(leader.rest_port, as_uid=65534) == "refused"
        assert knock(leader.rest_port, as_uid=0) == "connected"
        run.stop()
    finally:
        run.launcher.stop(run.cluster)
        netrules.release_run(run.cluster.run_key)
    assert set(got) == set(asked), got
    assert got["own file (control)"] == "READ tenant-owned-data"
    assert got["its own JobManager (control)"] == "CONNECTED"
    for name in ("another job's port", "the platform's PostgreSQL"):
        assert got[name].startswith("FAILED ConnectException"), f"{name}: {got[name]}"
    for name in (
        "the platform's database",
        "another account's bucket",
        "/etc/shadow",
        "a file beside the database",
    ):
        assert got[name].startswith("FAILED "), f"{name}: {got[name]}"
    assert got["the data directory"] in ("no listing",) or "rtc.db" not in got["the data directory"]
    assert got["root's home"] == "no listing" or got["root's home"] == "LISTED ", got
    assert "RTC_" not in got["the environment"] and "canary" not in got["the environment"]
    assert got["its user"].split()[2] == str(uid), got["its user"]
    assert got["other processes"] in ("PROCESSES 1", "PROCESSES 2", "PROCESSES 3"), got
    assert not (scene.database.parent / "planted").exists()
    # 16 GB asked of a 1-CU TaskManager: its heap refuses (the cgroup is the backstop)
    assert got["past its memory"].startswith("FAILED OutOfMemoryError"), got["past its memory"]
    assert not any(cgroups.exists(f"{run.cluster.run_key}-{p.name}")
               for p in run.cluster.processes)  # fmt: skip


def test_a_process_over_its_memory_limit_is_killed_by_it_and_counted(tmp_path: Path) -> None:
    """Memory outside the JVM's heap (native buffers, a leaking library) is held by the
    cgroup: the process is killed, not the node, and the kill is counted for the job's
    event (reconcilers/jobs.py); a start again gets fresh cgroups and a fresh count."""
    key = f"rtc-test-oom-{os.getpid()}"
    limits = cgroups.Limits(cpu_cores=1.0, memory_mb=64)
    argv = sandbox.wrap(
        ["env", "-i", "/usr/bin/python3", "-c", "held = bytearray(512 * 1024 * 1024)"],
        key=key,
        tenant=sandbox.Tenant(sandbox.user_of(ACCOUNT), ()),
        limits=limits,
        readable=[],
        workdir=tmp_path,
    )
    try:
        done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
        assert done.returncode != 0, "512 MB fit in a 64 MB limit"
        assert cgroups.oom_killed(key) >= 1, done.stderr[-500:]
        cgroups.make(key, limits)  # what a start again does
        assert cgroups.oom_killed(key) == 0
    finally:
        cgroups.remove(key)
    assert not cgroups.exists(key)


def test_a_bucket_mounted_read_only_is_read_never_written(tmp_path: Path) -> None:
    """A bucket the service role may only read (job_runs.sandbox_mounts: not writable) is
    there for the job's processes to read, and refuses every write, as root's files would."""
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    (bucket / "in.csv").write_text("reference-data")
    workdir = tmp_path / "run"
    workdir.mkdir()
    key = f"rtc-test-ro-{os.getpid()}"
    uid, gid = sandbox.ensure_user(sandbox.user_of(ACCOUNT))
    sandbox.own([bucket, workdir], uid, gid)  # its own bucket: only the mount forbids
    probe = (
        "import sys\n"
        f"print(open('{bucket}/in.csv').read())\n"
        "try:\n"
        f"    open('{bucket}/planted', 'w').write('x')\n"
        "    print('WROTE')\n"
        "except OSError as error:\n"
        "    print('REFUSED', error.errno)\n"
    )
    argv = sandbox.wrap(
        ["env", "-i", "/usr/bin/python3", "-c", probe],
        key=key,
        tenant=sandbox.Tenant(sandbox.user_of(ACCOUNT), (sandbox.Mount(str(bucket), False),)),
        limits=cgroups.Limits(cpu_cores=1.0, memory_mb=256),
        readable=[],
        workdir=workdir,
    )
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    finally:
        cgroups.remove(key)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.split() == ["reference-data", "REFUSED", "30"]  # EROFS
    assert not (bucket / "planted").exists()


def test_a_process_that_spins_gets_no_more_cpu_than_its_ceiling(tmp_path: Path) -> None:
    """A quarter of a core (the ceiling twice that: half a core) for two processes that
    spin for 1.5 s: together they get about 0.75 CPU-seconds, not the 3 two free cores give,
    and the cgroup records the throttling."""
    ceiling = 0.5 * 1.5  # CPU-seconds two processes may get in 1.5 s under a 0.5-core ceiling
    for attempt in range(3):
        key = f"rtc-test-spin-{os.getpid()}-{attempt}"
        argv = sandbox.wrap(
            ["env", "-i", "/usr/bin/python3", "-c", programs.SPIN],
            key=key,
            tenant=sandbox.Tenant(sandbox.user_of(ACCOUNT), ()),
            limits=cgroups.Limits(cpu_cores=0.25, memory_mb=256),
            readable=[],
            workdir=tmp_path,
        )
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
            stat = cgroups.host().file(key, "cpu", "cpu.stat").read_text()
        finally:
            cgroups.remove(key)
        assert done.returncode == 0, done.stderr[-500:]
        used = float(done.stdout.split()[-1])
        assert used <= ceiling + 0.25, f"{used} CPU-seconds in 1.5 s under a 0.5-core ceiling"
        throttled = dict(line.split() for line in stat.splitlines())
        if int(throttled["nr_throttled"]) > 0:
            return
        # not throttled: fair only when the busy host gave the spinners less than the ceiling
        # (the suite's other workers): then spin again; a process that got its ceiling and
        # was never throttled fails here
        assert used < 0.8 * ceiling, (used, stat)
    raise AssertionError(f"the host never let the spinners reach their ceiling: {stat}")


def test_the_host_layout_is_found_and_a_host_without_controllers_is_told_what_is_missing(
    tmp_path: Path,
) -> None:
    """Jobs do not start unsandboxed on a host the sandbox cannot use: v1 where its
    controllers are mounted, v2 where the root is the unified hierarchy (its files written
    on a real v2 kernel: tests/security/test_cgroup_v2.py), and what is missing said."""
    v1 = tmp_path / "v1"
    for controller in ("cpu", "memory"):
        (v1 / controller).mkdir(parents=True)
    found = cgroups.layout(v1, lambda controller: v1 / controller)
    assert isinstance(found, cgroups.V1)
    assert found.problem() == f"the cgroup v1 controller `pids` is not mounted at {v1}"
    (v1 / "pids").mkdir()
    assert cgroups.layout(v1, lambda controller: v1 / controller).problem() is None
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cgroup.controllers").write_text("cpuset cpu io memory\n")
    (v2 / "cgroup.subtree_control").write_text("")
    found = cgroups.layout(v2, lambda controller: v2 / controller)
    assert isinstance(found, cgroups.V2)
    assert found.problem() == f"the cgroup v2 controller `pids` is not available at {v2}"
    assert isinstance(cgroups.host(), cgroups.V1)  # this host
    assert sandbox.unavailable() is None  # this host: v1, root, bwrap, nft


def test_cgroup_limits_follow_the_cu_in_both_layouts() -> None:
    """The same CU in v1's and v2's words: shares and weight by the kernel's conversion,
    the ceiling twice the CU."""
    one = cgroups.Limits(cpu_cores=1.0, memory_mb=4096)
    assert (one.shares, one.weight, one.quota_us) == (1024, 39, 200_000)
    assert one.memory_bytes == 4096 * 1024 * 1024
    assert cgroups.Limits(cpu_cores=0.001, memory_mb=1).weight == 1
    assert cgroups.Limits(cpu_cores=1000.0, memory_mb=1).weight == 10000
