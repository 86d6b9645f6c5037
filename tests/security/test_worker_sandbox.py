"""Red team: the engine workers that plan tenants' SQL.

The shared worker of a version plans every tenant's checks: it runs as its own user
(`rtcworker`), sees no data, and nobody else may talk to its py4j gateway (which takes
calls without a token). A check with a tenant's JARs loads them in an isolated worker, in
that account's sandbox: a hostile class's static initializer, which runs while the check
plans, reads nothing of the platform or of other accounts, and says so in the check's
answer (it throws what it found).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rtcompute.runtime import sandbox
from rtcompute.runtime.engines import workers
from rtcompute.runtime.flink import cluster as flink_cluster
from tests.security.test_job_sandbox import knock

# no skip when the host cannot sandbox: `make test` installs bubblewrap and nftables and CI
# runs as root, and a skip would hide the red-team suite; a missing part fails below instead
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def sandbox_available() -> None:
    why = sandbox.unavailable()
    assert why is None, f"this host cannot sandbox tenants' processes: {why}"


V2 = "flink-2.2.1"
ACCOUNT = "7000000000000002"

HOSTILE = """
import java.nio.file.*;
import org.apache.flink.table.functions.ScalarFunction;

public class Hostile extends ScalarFunction {
    static String probe(String path) {
        try {
            return "READ " + new String(Files.readAllBytes(Paths.get(path))).trim();
        } catch (Throwable error) {
            return "FAILED " + error.getClass().getSimpleName();
        }
    }
    static String connect(int port) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 2000);
            return "CONNECTED";
        } catch (Throwable error) {
            return "FAILED " + error.getClass().getSimpleName();
        }
    }
    static {
        String uid = "?";
        try {
            uid = Files.readAllLines(Paths.get("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Uid:")).findFirst().orElse("?");
        } catch (Throwable error) { }
        if (!uid.isEmpty()) throw new RuntimeException("PROBES shadow: "
            + probe("/etc/shadow") + " | db: " + probe("DB_PATH") + " | other: "
            + probe("OTHER_PATH") + " | uid: " + uid
            + " | pg: " + connect(5432) + " | env: " + System.getenv().keySet());
    }
    public Long eval(Long value) { return value; }
}
"""


@pytest.fixture(scope="module")
def sandboxed_pool(installed_engines: Any) -> Iterator[workers.WorkerPool]:
    pool = workers.WorkerPool(
        installed_engines.home,
        idle_seconds=600,
        request_timeout=120,
        start_timeout=180,
        sandboxed=True,
    )
    yield pool
    pool.close()


def build_hostile_jar(home: Path, directory: Path, db: Path, other: Path) -> Path:
    directory.mkdir(parents=True)
    source = HOSTILE.replace("DB_PATH", str(db)).replace("OTHER_PATH", str(other))
    (directory / "Hostile.java").write_text(source)
    api = next((home / "lib").glob("flink-table-api-java-uber-*.jar"))
    subprocess.run(["javac", "-cp", str(api), "Hostile.java"], cwd=directory, check=True)
    subprocess.run(["jar", "cf", "hostile.jar", "Hostile.class"], cwd=directory, check=True)
    return directory / "hostile.jar"


def cmd(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as file:
        return file.read().split(b"\0")[0].decode(errors="replace")


def test_the_shared_worker_runs_as_its_own_user_and_nothing_reaches_the_gateway(
    sandboxed_pool: workers.WorkerPool,
) -> None:
    result = sandboxed_pool.validate(V2, "SELECT 1")
    assert result.ok, result.problems
    [status] = sandboxed_pool.status()
    tree = sandbox.process_tree(status.pid)
    worker_uid, _ = sandbox.ensure_user(sandbox.WORKER_USER)
    # the interpreter and its JVM run as the worker's user (bwrap's own processes as root)
    jvm = [p for p in tree if os.path.basename(cmd(p)).startswith(("python", "java"))]
    assert len(jvm) == 2 and {os.stat(f"/proc/{p}").st_uid for p in jvm} == {worker_uid}
    # py4j's gateway and callback server listen in the worker's own network namespace,
    # where nothing else is: no local user reaches them, not even the platform (it uses the
    # pipe) nor the worker's own user from outside
    ports = sandbox.listening_ports(jvm)
    assert ports, "py4j's gateway listens"
    own_net = os.readlink(f"/proc/{jvm[0]}/ns/net")
    assert own_net != os.readlink("/proc/self/ns/net")
    for port in ports:
        for uid in (65534, 0, worker_uid):
            assert knock(port, as_uid=uid) == "refused", (port, uid)


def test_a_hostile_class_in_a_check_reads_nothing(
    sandboxed_pool: workers.WorkerPool,
    installed_engines: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RTC_BOOTSTRAP_PASSWORD", "canary-secret-84")
    home = flink_cluster.flink_home(installed_engines.path(V2))
    assert home is not None
    data = tmp_path / "data"
    db = data / "rtc.db"
    other = data / "buckets" / "2" / "secret.csv"
    other.parent.mkdir(parents=True)
    db.write_text("password hashes")
    other.write_text("globex-secret")
    jar = build_hostile_jar(home, data / "buckets" / "1" / "udfs", db, other)
    sql = (
        "CREATE TEMPORARY FUNCTION hostile AS 'Hostile' LANGUAGE JAVA;\n"
        "CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen');\n"
        "CREATE TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');\n"
        "INSERT INTO sink SELECT hostile(id) FROM src"
    )
    result = sandboxed_pool.validate(V2, sql, [f"file://{jar}"], ACCOUNT)
    assert not result.ok
    message = " ".join(p.message for p in result.problems)
    assert "PROBES" in message, message  # the class ran, and told what it found
    uid, _ = sandbox.ensure_user(sandbox.user_of(ACCOUNT))
    assert f"Uid:\t{uid}\t{uid}" in message, message
    assert "db: FAILED" in message and "other: FAILED" in message, message
    assert "shadow: FAILED" in message, message
    assert "pg: FAILED" in message, message  # no network at all: not even loopback
    assert "RTC_BOOTSTRAP_PASSWORD" not in message and "password" not in message
    assert sandboxed_pool.isolated_pids() == []


def test_a_check_with_jars_must_name_its_account(
    sandboxed_pool: workers.WorkerPool, tmp_path: Path
) -> None:
    with pytest.raises(Exception, match="name it"):
        sandboxed_pool.validate(V2, "SELECT 1", [f"file://{tmp_path}/x.jar"])
