"""Benchmark clusters and jobs on joined hosts, against the same on this machine.

What it does, in one invocation:

  1. makes three test hosts out of network namespaces (tests/netlab.py), spawns `rtc up`
     (bound to every address, so that the hosts reach it) on a scratch data directory with
     an engines home that already holds the version (`--engines-home`), joins the hosts
     through their own `rtc agent` (4 cores, 16 GB each: a 4c16g node), and registers a
     local zone and a hosts zone;
  2. cluster start, per round: order paid -> a 1 master + 2 slaves 4c16g cluster `running`
     (POST /clusters, then GET every 100 ms), on this machine (baseline: the `local`
     provider) and on the hosts (every node's processes started by its host's agent); both
     are released after the round;
  3. job start, per round, on a running cluster of each kind with the version installed:
     POST :start -> `running` (polled every 100 ms) of a datagen -> blackhole job at
     parallelism 1, then stopped;
  4. a slave's host lost, once: a long exactly-once job runs on the hosts cluster; the
     TaskManager's host is cut off (its link down) and the clock runs until the job's
     TaskManager runs on the other slave's host and Flink says RUNNING again. Baseline: the
     same job on this machine with its TaskManager killed (SIGKILL), until RUNNING again;
  5. the leading JobManager's master host lost, once: the same job on a 3 masters + 2
     slaves cluster (a JobManager and its standby, ZooKeeper on the masters); the leader's
     master host dies (every process in it killed, its agent included) and the clock runs
     until Flink says RUNNING again under the standby. Baseline: the same on this machine
     with the leading JobManager killed (SIGKILL).

The hosts have the version already (a hardlinked copy in each agent's engines folder, as an
operator may provision machines), so the figures do not include installs.

Prints medians, the ratio of each figure to its baseline, and PASS/FAIL against the
targets of issue 19 (cluster on hosts <= 10 s; job start across hosts p50 <= 6 s; slave host
lost -> RUNNING <= 30 s; leader master host lost -> RUNNING <= 30 s); exits 1 if one is
missed. Run as root (namespaces):

    .venv/bin/python bench/hosts.py --engines-home DIR [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests import netlab  # noqa: E402
from tests.flink_runs import leading_jobmanager  # noqa: E402

import clusters as cluster_bench  # noqa: E402
from rtcompute.runtime import processes  # noqa: E402

CLUSTER_TARGET = 10.0
JOB_START_TARGET = 6.0
LOST_TARGET = 30.0
VERSION = "flink-2.2.1"
HOSTS = 5
SHAPE = {
    "mode": "exclusive",
    "master_type": "4c16g",
    "master_count": 1,
    "slave_type": "4c16g",
    "slave_count": 2,
    "months": 1,
    "agree_to_terms": True,
}
SHORT_JOB = """CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen',
  'rows-per-second' = '100');
CREATE TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO dst SELECT id FROM src;
"""


def long_job(bucket: str) -> str:
    return f"""CREATE TABLE src (id BIGINT, ts AS TO_TIMESTAMP_LTZ(id * 10, 3),
  WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence',
  'fields.id.start' = '1', 'fields.id.end' = '100000', 'rows-per-second' = '200');
CREATE TABLE windows (cnt BIGINT, total BIGINT) WITH ('connector' = 'filesystem',
  'path' = 'oss://{bucket}/bench-out/', 'format' = 'csv');
INSERT INTO windows SELECT COUNT(*), SUM(id)
FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND))
GROUP BY window_start, window_end;
"""


def wait(what: str, check: Any, timeout: float, every: float = 0.1) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(every)
    raise SystemExit(f"timed out after {timeout:g} s waiting for {what}")


def command_lines(lab: netlab.Lab, i: int) -> str:
    lines = []
    for pid in netlab.namespace_pids(lab.names[i]):
        try:
            lines.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return " ".join(lines)


class Bench:
    def __init__(self, lab: netlab.Lab, work: Path, engines_home: Path) -> None:
        self.lab = lab
        self.work = work
        env = {
            "RTC_HOST": "0.0.0.0",
            "RTC_ENGINES__HOME": str(engines_home),
            "RTC_JOBS__PORT_MIN": "32000",
            "RTC_JOBS__PORT_MAX": "32999",
        }
        self.server = cluster_bench.Server(work / "data", 31000, env)
        self.api = cluster_bench.Api(self.server)
        self.agents: list[subprocess.Popen[bytes]] = []
        self.bucket = "bench-hosts-" + secrets.token_hex(3)
        self.engines_home = engines_home

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.api.call(method, path, body)

    def set_up(self) -> None:
        call = self.call
        call("POST", "/ram/service-role")
        call("POST", "/zones", {"name": "local-z", "capacity": {"4c16g": 10}})
        call("POST", "/zones", {"name": "rack", "provider": "hosts"})
        call("POST", "/networks", {"name": "net-l", "cidr": "10.0.0.0/16"})
        call(
            "POST",
            "/networks/net-l/subnets",
            {"name": "sub-l", "cidr": "10.0.0.0/20", "zone": "local-z"},
        )
        supernet = str(ipaddress.ip_network(self.lab.subnet).supernet(new_prefix=16))
        call("POST", "/networks", {"name": "net-h", "cidr": supernet})
        call(
            "POST",
            "/networks/net-h/subnets",
            {"name": "sub-h", "cidr": self.lab.subnet, "zone": "rack"},
        )
        call("POST", "/buckets", {"name": self.bucket})
        server = f"http://{self.lab.gateway}:{self.server.port}"
        for i in range(len(self.lab.names)):
            engines = self.work / f"h{i}" / "engines"
            engines.mkdir(parents=True)
            subprocess.run(
                ["cp", "-al", str(self.engines_home / VERSION), str(engines / VERSION)], check=True
            )
            token = call("POST", "/hosts/join-tokens", {"zone": "rack"})["token"]
            argv = [sys.executable, "-m", "rtcompute.main", "agent", "--server", server]
            argv += ["--token", token, "--state-dir", str(self.work / f"h{i}"), "--name", f"h{i}"]
            argv += ["--address", self.lab.address(i), "--cores", "4", "--memory-gb", "16"]
            log = (self.work / f"h{i}.log").open("w")
            self.agents.append(self.lab.popen(i, argv, stdout=log, stderr=subprocess.STDOUT))
        wait(
            "hosts ready",
            lambda: (
                len([h for h in call("GET", "/hosts") if h["state"] == "ready"])
                == len(self.lab.names)
            ),
            60,
        )

    def cluster(self, name: str, hosts: bool, masters: int = 1) -> float:
        order = self.call("POST", "/orders", SHAPE | {"master_count": masters})
        self.call("POST", f"/orders/{order['id']}/pay")
        where = (
            {"network": "net-h", "subnet": "sub-h", "zone": "rack"}
            if hosts
            else {"network": "net-l", "subnet": "sub-l", "zone": "local-z"}
        )
        started = time.monotonic()
        self.call(
            "POST",
            "/clusters",
            {"order_id": order["id"], "name": name, "bucket": self.bucket, **where},
        )
        wait(
            f"{name} running",
            lambda: self.call("GET", f"/clusters/{name}")["state"] == "running",
            120,
        )
        return time.monotonic() - started

    def clear(self, name: str) -> None:
        """Delete the cluster's project (its stopped jobs first), then release it."""
        project = f"/projects/p_{name}"
        for job in self.call("GET", f"{project}/jobs"):
            self.call("POST", f"{project}/jobs/{job['name']}:offline")
            self.call("DELETE", f"{project}/jobs/{job['name']}")
        self.call("DELETE", project)
        self.release(name)

    def release(self, name: str) -> None:
        self.call("DELETE", f"/clusters/{name}")
        wait(
            f"{name} released",
            lambda: self.call("GET", f"/clusters/{name}")["state"] == "released",
            120,
        )

    def with_version(self, name: str) -> None:
        self.call("POST", f"/clusters/{name}/versions", {"version": VERSION})
        wait(
            f"{VERSION} on {name}",
            lambda: (
                self.call("GET", f"/clusters/{name}/versions/{VERSION}")["state"] == "installed"
            ),
            180,
        )
        self.call("POST", "/projects", {"name": f"p_{name}", "cluster": name, "cu": 3})

    def job(self, project: str, name: str, sql: str) -> str:
        body = {
            "name": name,
            "sql": sql,
            "settings": {"parallelism": 1, "checkpoint_interval_seconds": 1},
        }
        self.call("POST", f"/projects/{project}/jobs", body)
        path = f"/projects/{project}/jobs/{name}"
        self.call("POST", f"{path}:publish")
        return path

    def state(self, path: str) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", f"{path}/deployment")
        return found

    def start(self, path: str) -> float:
        started = time.monotonic()
        self.call("POST", f"{path}:start", {"mode": "stateless"})
        wait(f"{path} running", lambda: self.state(path)["state"] == "running", 120)
        return time.monotonic() - started

    def running_again(self, path: str) -> None:
        """Flink leaves RUNNING (the failover begins), then says RUNNING again."""
        wait("restarted", lambda: self.state(path)["flink_state"] != "RUNNING", 60, every=0.05)
        wait(
            "running again",
            lambda: (
                self.state(path)["flink_state"] == "RUNNING"
                and self.state(path)["state"] == "running"
            ),
            120,
        )

    def checkpointed(self, path: str) -> None:
        wait(
            "a checkpoint",
            lambda: any(s["kind"] == "checkpoint" for s in self.call("GET", f"{path}/savepoints")),
            60,
        )

    def run_dir(self, path: str) -> Path:
        """The run's directory of the job's live run (its JobManagers' logs are there)."""
        project, job = path.split("/")[2], path.split("/")[4]
        for found in sorted((self.work / "data" / "flink").glob("job-*-run-*")):
            conf = found / "conf" / "jobmanager-0" / "config.yaml"
            if conf.exists() and f"{project}.{job}" in conf.read_text():
                latest = found
        return latest

    def stop(self, path: str) -> None:
        self.call("POST", f"{path}:stop", {"mode": "cancel"})
        wait(f"{path} stopped", lambda: self.state(path)["state"] in ("stopped", "offline"), 120)

    def close(self) -> None:
        for agent in self.agents:
            agent.kill()
        self.server.stop()
        for pid in cluster_bench.processes_under(self.work):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def java_processes(root: Path, *markers: str) -> list[int]:
    """The JVMs under `root` whose command line names every marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        argv = processes.cmdline(int(entry.name))
        line = " ".join(argv)
        if (
            argv
            and os.path.basename(argv[0]) == "java"
            and str(root) in line
            and all(marker in line for marker in markers)
        ):
            found.append(int(entry.name))
    return found


def leader_drill(bench: Bench, lab: netlab.Lab) -> tuple[float, float]:
    """(this machine, hosts): seconds from the leading JobManager's death (its process on
    this machine; its whole master host on the hosts) to the job RUNNING again."""
    figures = []
    for name, hosts in (("ha_local", False), ("ha_hosts", True)):
        bench.cluster(name, hosts=hosts, masters=3)
        bench.with_version(name)
        path = bench.job(f"p_{name}", "long", long_job(bench.bucket))
        bench.start(path)
        bench.checkpointed(path)
        run_dir = bench.run_dir(path)
        leader = leading_jobmanager(run_dir)
        marker = f"{run_dir}/conf/{leader}"
        if hosts:
            (host,) = [i for i in range(HOSTS) if marker in command_lines(lab, i)]
            killed = time.monotonic()
            lab.kill_all(host)
        else:
            (pid,) = java_processes(run_dir, marker)
            killed = time.monotonic()
            os.kill(pid, signal.SIGKILL)
        bench.running_again(path)
        figures.append(time.monotonic() - killed)
        print(f"leader master lost ({name}): RUNNING again after {figures[-1]:.1f} s", flush=True)
        bench.stop(path)
    return figures[0], figures[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engines-home", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    reason = netlab.available()
    if reason is not None:
        raise SystemExit(f"bench/hosts.py needs network namespaces: {reason}")
    work = Path(tempfile.mkdtemp(prefix="rtc-bench-hosts-"))
    results: dict[str, list[float]] = {k: [] for k in ("c_local", "c_hosts", "j_local", "j_hosts")}
    with netlab.Lab(HOSTS) as lab:
        bench = Bench(lab, work, args.engines_home)
        try:
            bench.set_up()
            for r in range(args.rounds):
                results["c_local"].append(bench.cluster(f"cl{r}", hosts=False))
                results["c_hosts"].append(bench.cluster(f"ch{r}", hosts=True))
                print(
                    f"round {r}: cluster local {results['c_local'][-1]:.1f} s, "
                    f"hosts {results['c_hosts'][-1]:.1f} s",
                    flush=True,
                )
                if r < args.rounds - 1:
                    bench.release(f"cl{r}")
                    bench.release(f"ch{r}")
            last = args.rounds - 1
            local, hosts = f"cl{last}", f"ch{last}"
            bench.with_version(local)
            bench.with_version(hosts)
            jl = bench.job(f"p_{local}", "short", SHORT_JOB)
            jh = bench.job(f"p_{hosts}", "short", SHORT_JOB)
            for r in range(args.rounds):
                results["j_local"].append(bench.start(jl))
                bench.stop(jl)
                results["j_hosts"].append(bench.start(jh))
                bench.stop(jh)
                print(
                    f"round {r}: job start local {results['j_local'][-1]:.1f} s, "
                    f"hosts {results['j_hosts'][-1]:.1f} s",
                    flush=True,
                )
            # a slave lost: killed TaskManager on this machine (baseline), cut host (hosts)
            ll = bench.job(f"p_{local}", "long", long_job(bench.bucket))
            lh = bench.job(f"p_{hosts}", "long", long_job(bench.bucket))
            bench.start(ll)
            bench.checkpointed(ll)
            (pid,) = java_processes(work / "data", "taskmanager-0", "TaskManagerRunner")
            killed = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            bench.running_again(ll)
            lost_local = time.monotonic() - killed
            print(f"slave lost (local): RUNNING again after {lost_local:.1f} s", flush=True)
            bench.stop(ll)
            bench.start(lh)
            bench.checkpointed(lh)
            nodes = {
                n["address"]: n["name"] for n in bench.call("GET", f"/clusters/{hosts}")["nodes"]
            }
            slaves = [i for i in range(3) if nodes.get(lab.address(i), "").startswith("slave")]
            (tm_host,) = [i for i in slaves if "TaskManagerRunner" in command_lines(lab, i)]
            (other,) = [i for i in slaves if i != tm_host]
            cut = time.monotonic()
            lab.link_down(tm_host)
            wait(
                "running again on the other slave",
                lambda: (
                    "TaskManagerRunner" in command_lines(lab, other)
                    and bench.state(lh)["flink_state"] == "RUNNING"
                ),
                120,
                every=0.2,
            )
            lost_hosts = time.monotonic() - cut
            print(f"slave lost (hosts): RUNNING again after {lost_hosts:.1f} s", flush=True)
            lab.link_up(tm_host)
            bench.stop(lh)
            # the leading JobManager's master lost: 3-master clusters, with a standby
            bench.clear(hosts)
            lead_local, lead_hosts = leader_drill(bench, lab)
        finally:
            bench.close()
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"\nmedians over {args.rounds} rounds (cores: {os.cpu_count()}):")
    rows = [
        ("order paid -> cluster running", med["c_hosts"], med["c_local"], CLUSTER_TARGET),
        ("job start -> running (p50)", med["j_hosts"], med["j_local"], JOB_START_TARGET),
        ("slave lost -> RUNNING again", lost_hosts, lost_local, LOST_TARGET),
        ("leader master lost -> RUNNING", lead_hosts, lead_local, LOST_TARGET),
    ]
    failed = False
    for what, on_hosts, here, target in rows:
        verdict = "PASS" if on_hosts <= target else "FAIL"
        failed |= verdict == "FAIL"
        print(
            f"  {what:32s} hosts {on_hosts:6.1f} s   this machine {here:6.1f} s   "
            f"ratio {on_hosts / here:5.2f}   target <= {target:g} s {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
