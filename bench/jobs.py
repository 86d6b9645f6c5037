"""Benchmark jobs on real Flink: throughput per CU, start latency, memory of a 1-CU job.

What it does, in one invocation:

  1. installs the engine version into a scratch engines home from the wheelhouse (or uses
     `--engines-home`), spawns `rtc up` on a scratch data directory, and through the REST
     API makes a running exclusive cluster (1 master + 2 slaves 4c16g, 3 CU each), installs
     the version on it and creates a project of 4 CU;
  2. throughput, per query (a filter + projection, and a 1 s processing-time tumbling-window
     aggregate, on datagen), per round, at parallelism 1 (1 slot = 1 CU):
       baseline   the same SQL in a fresh process of the version's own interpreter, bare
                  PyFlink on a local mini-cluster;
       platform   the job created, published and started through the API: it runs as its
                  own Flink cluster on the cluster's nodes;
     both are rows / the time Flink's own timestamps give from the moment the job's last
     task began processing (its RUNNING in `subtasktimes`: deployed and initialised) to
     the job's end: the platform's `flink_duration_ms`, the baseline read from its
     mini-cluster's REST API and its net runtime. Neither side counts a cluster's, a
     client's or a task's start-up: a fresh TaskManager spends 0.6-1 s loading classes and
     compiling the generated code before its first record (0.3-0.6 s in the baseline's warm
     JVM), which the start-latency figure below measures;
  3. start latency, per round: POST :start -> `running` (polled every 100 ms) for a fresh
     per-job cluster, against the baseline of a bare standalone cluster started by Flink's
     own scripts (`jobmanager.sh start`, `taskmanager.sh start`) plus `flink run -d -py` of
     the same job, until Flink's REST says RUNNING;
  4. memory: the resident size of a running 1-CU job's JobManager and TaskManager against
     the CU's 4 GB.

Prints medians, ratios and PASS/FAIL against the targets (throughput ratio >= 0.95, start
p50 <= 6 s); exits 1 if a target is missed. The throughput verdict is on the median of the
rounds' ratios: each round runs the two sides back to back (in alternating order), so a
shared host's drift over minutes, which moves single runs by +-20% here, hits both sides of a
ratio alike; the ratio of the two medians is printed beside it. Everything it started is
stopped on the way out.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx

import clusters as cluster_bench
from rtcompute.domain import engines, flinkconf
from rtcompute.runtime.engines import installer

THROUGHPUT_TARGET = 0.95
START_TARGET_SECONDS = 6.0  # issue 16: with the sandbox on
CU_BYTES = 4 * 1024**3
# guide: one CU handles ~10,000 records/s of simple logic, 1,000-5,000 of complex logic
GUIDE_SIMPLE, GUIDE_COMPLEX = 10_000, (1_000, 5_000)

# random fields, not a `sequence`: Flink's sequence generator keeps the whole range in the
# heap (an ArrayDeque of every number), which would measure the garbage collector
SOURCE = """CREATE TABLE src (
  id BIGINT, amount INT, name STRING, pt AS PROCTIME()
) WITH (
  'connector' = 'datagen', 'rows-per-second' = '{rate}',{bound}
  'fields.amount.min' = '1', 'fields.amount.max' = '1000', 'fields.name.length' = '8'
);
CREATE TABLE snk (a BIGINT, b BIGINT) WITH ('connector' = 'blackhole');
"""
# Nexmark-style q23 (issue 16): bids joined with their auctions over 10-second tumbling
# windows; each window keeps ten seconds of both streams in the heap state, which is what
# a CU's memory must hold. `{rows}` rows in all: a tenth auctions, the rest bids.
Q23 = """CREATE TABLE auctions (
  id BIGINT, seller BIGINT, category INT, reserve BIGINT, description STRING,
  ts AS LOCALTIMESTAMP, WATERMARK FOR ts AS ts
) WITH (
  'connector' = 'datagen', 'rows-per-second' = '{rate}', 'number-of-rows' = '{auctions}',
  'fields.id.min' = '1', 'fields.id.max' = '100000', 'fields.category.min' = '1',
  'fields.category.max' = '20', 'fields.description.length' = '40'
);
CREATE TABLE bids (
  auction BIGINT, bidder BIGINT, price BIGINT, extra STRING,
  ts AS LOCALTIMESTAMP, WATERMARK FOR ts AS ts
) WITH (
  'connector' = 'datagen', 'rows-per-second' = '{rate}', 'number-of-rows' = '{bids}',
  'fields.auction.min' = '1', 'fields.auction.max' = '100000', 'fields.price.min' = '1',
  'fields.price.max' = '100000', 'fields.extra.length' = '60'
);
INSERT INTO snk SELECT B.auction, B.price + A.reserve
FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND)) B
JOIN TABLE(TUMBLE(TABLE auctions, DESCRIPTOR(ts), INTERVAL '10' SECOND)) A
ON B.auction = A.id AND B.window_start = A.window_start AND B.window_end = A.window_end"""
QUERIES = {
    "filter": "INSERT INTO snk SELECT id, CAST(amount AS BIGINT) * 2 FROM src WHERE amount > 100",
    "window": (
        "INSERT INTO snk SELECT COUNT(*), SUM(amount) FROM TABLE(TUMBLE(TABLE src, "
        "DESCRIPTOR(pt), INTERVAL '1' SECOND)) GROUP BY window_start, window_end"
    ),
    "q23": Q23,
}


def script(query: str, rows: int | None, rate: int = 1_000_000_000) -> str:
    """The job's SQL; `rows` None: unbounded (not q23)."""
    bound = f" 'number-of-rows' = '{rows}'," if rows else ""
    if query == "q23":
        assert rows, "q23 is bounded"
        sink = SOURCE.split(";", 1)[1].strip()
        join = Q23.format(rate=rate, auctions=rows // 10, bids=rows - rows // 10)
        return f"{sink}\n{join};\n"
    return SOURCE.format(rate=rate, bound=bound) + QUERIES[query] + ";\n"


BARE = textwrap.dedent(
    """
    import sys, json, time, urllib.request
    from pyflink.common import Configuration
    from pyflink.table import EnvironmentSettings, TableEnvironment
    conf = Configuration()
    conf.set_string("parallelism.default", "1")
    conf.set_string("rest.port", sys.argv[2])  # the mini-cluster's REST: Flink's timestamps
    env = TableEnvironment.create(
        EnvironmentSettings.new_instance().in_streaming_mode().with_configuration(conf).build())
    statements = [s for s in open(sys.argv[1]).read().split(";") if s.strip()]
    for ddl in statements[:-1]:
        env.execute_sql(ddl)
    client = env.execute_sql(statements[-1]).get_job_client()
    job = "/jobs/" + str(client.get_job_id())
    def get(path):
        return json.load(urllib.request.urlopen("http://127.0.0.1:" + sys.argv[2] + path))
    # when the last task began processing, as the platform reads it (runtime/flink/rest.py)
    tasks_at = None
    while tasks_at is None:
        time.sleep(0.05)
        try:
            details = get(job)
            stamps = [s.get("timestamps", {}).get("RUNNING") or 0
                      for v in details["vertices"]
                      for s in get(job + "/vertices/" + v["id"] + "/subtasktimes")["subtasks"]]
        except OSError:
            continue
        tasks_at = max(stamps) if stamps and all(stamps) else None
    net = client.get_job_execution_result().result().get_net_runtime()
    # the job's end by Flink's clock: its start (INITIALIZING) plus its net runtime
    print(json.dumps({"running_ms": details["start-time"] + net - tasks_at}))
    """
)


def python_of(home: Path, version: str) -> Path:
    return home / version / "bin" / "python"


def flink_home(home: Path, version: str) -> Path:
    return next((home / version).glob("lib/python3*/site-packages/pyflink"))


def bare_throughput(home: Path, version: str, query: str, rows: int, work: Path) -> float:
    sql_file = work / f"bare-{query}.sql"
    sql_file.write_text(script(query, rows))
    driver = work / "bare.py"
    driver.write_text(BARE)
    tmp = work / "bare-tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "JAVA_TOOL_OPTIONS": f"-Djava.io.tmpdir={tmp}"}
    out = subprocess.run(
        [str(python_of(home, version)), str(driver), str(sql_file), str(cluster_bench.free_port())],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=600,
    ).stdout
    running_ms = json.loads(out.strip().splitlines()[-1])["running_ms"]
    return rows / (running_ms / 1000)


class Tenant:
    def __init__(self, api: cluster_bench.Api) -> None:
        self.api = api
        self.count = 0

    def job(self, name: str, sql: str) -> str:
        self.api.call(
            "POST",
            "/projects/bench/jobs",
            {"name": name, "sql": sql, "settings": {"parallelism": 1}},
        )
        self.api.call("POST", f"/projects/bench/jobs/{name}:publish")
        return f"/projects/bench/jobs/{name}"

    def wait(
        self, path: str, states: set[str], timeout: float = 600, poll: float = 0.1
    ) -> dict[str, Any]:
        started = time.monotonic()
        while True:
            found: dict[str, Any] = self.api.call("GET", f"{path}/deployment")
            if found["state"] in states:
                return found
            if found["state"] == "failed" or time.monotonic() - started > timeout:
                raise SystemExit(f"{path}: {found['state']}: {found['message']}")
            time.sleep(poll)

    def finish(self, path: str) -> None:
        self.api.call("POST", f"{path}:offline")
        self.api.call("DELETE", path)


def platform_throughput(tenant: Tenant, query: str, rows: int) -> float:
    tenant.count += 1
    path = tenant.job(f"{query}_{tenant.count}", script(query, rows))
    tenant.api.call("POST", f"{path}:start", {"mode": "stateless"})
    # Flink's timestamps time the job: poll the API once a second, not to load `rtc up`
    done = tenant.wait(path, {"finished"}, poll=1.0)
    tenant.finish(path)
    return rows / (done["flink_duration_ms"] / 1000)


def platform_start(tenant: Tenant, data_dir: Path) -> tuple[float, int, int]:
    """Seconds from :start to running; RSS of the running job's JobManager and TaskManager."""
    tenant.count += 1
    path = tenant.job(f"start_{tenant.count}", script("filter", None, rate=1000))
    started = time.perf_counter()
    tenant.api.call("POST", f"{path}:start", {"mode": "stateless"})
    tenant.wait(path, {"running"})
    elapsed = time.perf_counter() - started
    time.sleep(3)
    jm, tm = rss_of(data_dir / "flink", "jobmanager"), rss_of(data_dir / "flink", "taskmanager")
    tenant.api.call("POST", f"{path}:stop", {"mode": "cancel"})
    tenant.wait(path, {"stopped"})
    tenant.finish(path)
    return elapsed, jm, tm


def rss_of(root: Path, kind: str) -> int:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:
            continue
        joined = b" ".join(argv).decode(errors="replace")
        if str(root) in joined and f"/conf/{kind}-" in joined and argv[0].endswith(b"java"):
            kb = next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
            )
            total += kb * 1024
    return total


def bare_start(home: Path, version: str, work: Path, port: int) -> float:
    """A fresh standalone cluster by Flink's scripts + `flink run -d -py`, until RUNNING."""
    flink = flink_home(home, version)
    conf = work / f"conf-{port}"
    shutil.rmtree(conf, ignore_errors=True)
    (conf / "log").mkdir(parents=True)
    for item in (flink / "conf").iterdir():
        if item.name.startswith(("log4j", "logback")):
            shutil.copy(item, conf / item.name)
    flat = flinkconf.flatten_yaml((flink / "conf" / "config.yaml").read_text())
    flat.update(
        {
            "rest.port": str(port),
            "rest.address": "127.0.0.1",
            "rest.bind-address": "127.0.0.1",
            "jobmanager.rpc.address": "127.0.0.1",
            "jobmanager.bind-host": "127.0.0.1",
            "taskmanager.bind-host": "127.0.0.1",
            "taskmanager.host": "127.0.0.1",
            "jobmanager.rpc.port": str(port + 1),
            "taskmanager.numberOfTaskSlots": "1",
            "jobmanager.memory.process.size": "1024m",
            "taskmanager.memory.process.size": "1280m",
            "env.pid.dir": str(conf),
            "io.tmp.dirs": str(conf),
        }
    )
    (conf / "config.yaml").write_text(flinkconf.render_config(version, flat))
    job = work / "start_job.py"
    job.write_text(
        textwrap.dedent(
            f"""
            from pyflink.common import Configuration
            from pyflink.table import EnvironmentSettings, TableEnvironment
            conf = Configuration()
            conf.set_string("parallelism.default", "1")
            env = TableEnvironment.create(EnvironmentSettings.new_instance()
                .in_streaming_mode().with_configuration(conf).build())
            text = {script("filter", None, rate=1000)!r}
            statements = [s for s in text.split(";") if s.strip()]
            for ddl in statements[:-1]:
                env.execute_sql(ddl)
            env.execute_sql(statements[-1])
            """
        )
    )
    env = {
        **os.environ,
        "FLINK_CONF_DIR": str(conf),
        "FLINK_LOG_DIR": str(conf / "log"),
        "PYFLINK_CLIENT_EXECUTABLE": str(python_of(home, version)),
        "JAVA_TOOL_OPTIONS": f"-Djava.io.tmpdir={conf}",
    }
    bin_dir = flink / "bin"
    started = time.perf_counter()
    try:
        subprocess.run(
            ["bash", str(bin_dir / "jobmanager.sh"), "start"],
            env=env,
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["bash", str(bin_dir / "taskmanager.sh"), "start"],
            env=env,
            check=True,
            capture_output=True,
        )
        wait_rest(port, lambda o: int(o.get("slots-total") or 0) >= 1)
        subprocess.run(
            [
                str(bin_dir / "flink"),
                "run",
                "-d",
                "-py",
                str(job),
                "-pyexec",
                str(python_of(home, version)),
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            jobs = httpx.get(f"http://127.0.0.1:{port}/jobs/overview", timeout=2).json()["jobs"]
            if any(j["state"] == "RUNNING" for j in jobs):
                return time.perf_counter() - started
            time.sleep(0.1)
        raise SystemExit("the bare job did not reach RUNNING")
    finally:
        subprocess.run(
            ["bash", str(bin_dir / "taskmanager.sh"), "stop-all"], env=env, capture_output=True
        )
        subprocess.run(
            ["bash", str(bin_dir / "jobmanager.sh"), "stop-all"], env=env, capture_output=True
        )


def wait_rest(port: int, ready: Any) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if ready(httpx.get(f"http://127.0.0.1:{port}/overview", timeout=1).json()):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"no Flink REST on {port}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--version", default=engines.DEFAULT_VERSION)
    parser.add_argument("--wheelhouse", type=Path, default=Path(".cache/wheelhouse"))
    parser.add_argument("--engines-home", type=Path, default=None)
    parser.add_argument("--filter-rows", type=int, default=20_000_000)
    parser.add_argument("--window-rows", type=int, default=12_000_000)
    parser.add_argument("--q23-rows", type=int, default=12_000_000)
    parser.add_argument(
        "--queries", default=",".join(QUERIES), help="throughput queries, comma-separated"
    )
    parser.add_argument("--no-start", action="store_true", help="skip start latency and memory")
    parser.add_argument(
        "--single-tenant",
        action="store_true",
        help="run the platform without the sandbox (RTC_JOBS__SINGLE_TENANT): its cost is "
        "the difference to a run without this flag",
    )
    args = parser.parse_args()
    queries = [q for q in args.queries.split(",") if q]
    if unknown := sorted(set(queries) - set(QUERIES)):
        parser.error(f"unknown queries {unknown}: choose from {', '.join(QUERIES)}")
    work = Path(tempfile.mkdtemp(prefix="rtc-bench-jobs-"))
    home = args.engines_home or work / "engines"
    if args.engines_home is None:
        print(f"installing {args.version} from {args.wheelhouse} ...", flush=True)
        installer.Installer(home, wheelhouse=args.wheelhouse.resolve()).install(
            args.version, lambda _e: None
        )
    low = 30000 + random.randrange(0, 100) * 32
    server = cluster_bench.Server(
        work / "data",
        21000 + random.randrange(0, 50) * 100,
        extra_env={
            "RTC_ENGINES__HOME": str(home),
            "RTC_JOBS__PORT_MIN": str(low),
            "RTC_JOBS__PORT_MAX": str(low + 32 * 16 - 1),
            "RTC_JOBS__SINGLE_TENANT": "true" if args.single_tenant else "false",
        },
    )
    failed = False
    try:
        api = cluster_bench.Api(server)
        cluster_bench.set_up(api)
        bucket = api.call("GET", "/buckets")[0]["name"]
        cluster_bench.start_cluster(api, bucket, "bench", masters=1)
        api.call("POST", "/clusters/bench/versions", {"version": args.version})
        while api.call("GET", f"/clusters/bench/versions/{args.version}")["state"] != "installed":
            time.sleep(0.5)
        api.call("POST", "/projects", {"name": "bench", "cluster": "bench", "cu": 4})
        tenant = Tenant(api)
        rows = {"filter": args.filter_rows, "window": args.window_rows, "q23": args.q23_rows}
        sandbox = "off (single-tenant)" if args.single_tenant else "on"
        print(
            f"engine {args.version}, {args.rounds} rounds, sandbox {sandbox}, "
            f"load {os.getloadavg()[0]:.1f}"
        )
        for query in queries:
            bare, ours = [], []
            for round_ in range(args.rounds):
                # pairs, in alternating order: the host's speed drifts over minutes
                for side in ("bare", "ours") if round_ % 2 == 0 else ("ours", "bare"):
                    if side == "bare":
                        bare.append(bare_throughput(home, args.version, query, rows[query], work))
                    else:
                        ours.append(platform_throughput(tenant, query, rows[query]))
            b, o = statistics.median(bare), statistics.median(ours)
            paired = statistics.median(x / y for x, y in zip(ours, bare, strict=True))
            failed |= paired < THROUGHPUT_TARGET
            guide = GUIDE_SIMPLE if query == "filter" else f"{GUIDE_COMPLEX[0]}-{GUIDE_COMPLEX[1]}"
            verdict = "PASS" if paired >= THROUGHPUT_TARGET else "FAIL"
            print(
                f"throughput {query:6}  bare {b:,.0f} rec/s per CU   platform {o:,.0f} rec/s per "
                f"slot CU ({o / 1.25:,.0f} per charged CU incl. the JobManager)   "
                f"ratio: median of the rounds' ratios {paired:.3f} (target >= "
                f"{THROUGHPUT_TARGET}) {verdict}, of the medians {o / b:.3f}"
                f"   guide: {guide} rec/s per CU"
            )
            print(f"  rounds bare {[round(x) for x in bare]} platform {[round(x) for x in ours]}")
        starts, bare_starts, memory = [], [], []
        for round_ in range(0 if args.no_start else args.rounds):
            bare_starts.append(bare_start(home, args.version, work, low + 32 * 15 + 2 * round_))
            elapsed, jm, tm = platform_start(tenant, server.data_dir)
            starts.append(elapsed)
            memory.append((jm, tm))
        if args.no_start:
            return 1 if failed else 0
        p50, base = statistics.median(starts), statistics.median(bare_starts)
        failed |= p50 > START_TARGET_SECONDS
        print(
            f"start to RUNNING   platform p50 {p50:.2f} s (rounds {[round(s, 2) for s in starts]})"
            f"   bare standalone + flink run -d p50 {base:.2f} s   ratio {p50 / base:.2f}   "
            f"target p50 <= {START_TARGET_SECONDS:.0f} s "
            f"{'PASS' if p50 <= START_TARGET_SECONDS else 'FAIL'}"
        )
        jm, tm = max(m[0] for m in memory), max(m[1] for m in memory)
        fits = jm + tm <= CU_BYTES
        failed |= not fits
        print(
            f"memory of a running 1-CU job (max over rounds): JobManager {jm / 2**20:.0f} MB + "
            f"TaskManager {tm / 2**20:.0f} MB = {(jm + tm) / 2**20:.0f} MB of the CU's 4096 MB "
            f"{'PASS' if fits else 'FAIL'}"
        )
    finally:
        server.stop()
        subprocess.run(["pkill", "-f", str(work)], check=False)
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
