"""Benchmark the API: an authenticated read route under wrk, against a bare FastAPI app.

What it does, in one invocation:

  1. starts a real `rtc up` on a free port with a temporary data directory (the first start
     migrates the database and bootstraps the account "operator"), signs in, creates an
     access key, and stops it;
  2. starts it again `--rounds` times on the same data directory and measures, from process
     spawn, the time until /healthz answers (polled every 20 ms) and the resident memory
     (VmRSS) of the server process once it is idle;
  3. starts bench/bare_app.py (same uvicorn settings, no auth, no database) next to the last
     `rtc up`, and loads `GET /api/v1/me` on both with wrk in a separate process,
     alternating bare/rtc for `--rounds` rounds; the rtc requests carry
     `Authorization: Bearer <access-key-id>:<secret>`;
  4. fills the account through the API (the service role, a zone, a network, a bucket,
     `--items` shared projects, `--items` jobs in one of them, two exclusive clusters, the
     audit events all that left) and loads the list routes of projects, jobs, clusters and
     audit events the same way, each round right after `/me`: a list route answers within
     `LIST_RATIO` of `/me`'s rate (the codebase issue: within 2x);
  5. prints the medians and PASS/FAIL against the targets; exits 1 if any target fails.

Needs wrk (Debian package `wrk`): `make bench` installs it when it is missing and runs this.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

import clusters as cluster_bench

BENCH_DIR = Path(__file__).resolve().parent
ROUTE = "/api/v1/me"
PASSWORD = "bench-" + secrets.token_urlsafe(12)

# Targets of the benchmark issue (2-core machine).
MIN_RPS = 1500.0
MAX_P99_MS = 50.0
MIN_RATIO = 0.5
MAX_HEALTHY_S = 3.0
MAX_IDLE_RSS_MB = 150.0  # decimal megabytes: 150,000,000 bytes
LIST_RATIO = 0.5  # a list route's req/s over /me's, same round
LIST_ROUTES = (
    "/api/v1/projects",
    "/api/v1/projects/bench_0/jobs",
    "/api/v1/clusters",
    "/api/v1/audit-events",
)

# wrk prints its text report, then this line; parsing it is sturdier than the text.
WRK_REPORT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\"requests\":%d,\"duration_us\":%d,\"p50_us\":%d,\"p90_us\":%d," ..
    "\"p99_us\":%d,\"max_us\":%d,\"connect\":%d,\"read\":%d,\"write\":%d," ..
    "\"status\":%d,\"timeout\":%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int


@dataclass(frozen=True)
class StartResult:
    healthy_s: float
    cpu_s: float
    idle_rss_mb: float
    children: int


class Server:
    """A server process whose output goes to a log file (a full pipe would stall it)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.log = log_path.open("ab")
        self.spawned = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def wait_healthy(self, port: int, timeout: float, interval: float = 0.02) -> float:
        """Seconds from spawn until /healthz answers 200."""
        deadline = self.spawned + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; {self.tail()}")
            if healthz_ok(port):
                return time.perf_counter() - self.spawned
            time.sleep(interval)
        raise RuntimeError(f"{self.name} not healthy after {timeout:.0f} s; {self.tail()}")

    def tail(self) -> str:
        self.log.flush()
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return "log tail:\n  " + "\n  ".join(text[-15:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def healthz_ok(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=0.5)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6  # the kernel's "kB" are KiB
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def child_count(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        total += len(children)
    return total


def rtc_executable() -> str:
    beside = Path(sys.executable).parent / "rtc"
    found = str(beside) if beside.exists() else shutil.which("rtc")
    if not found:
        sys.exit("error: `rtc` not found; run from the project's virtualenv (.venv/bin/python)")
    return found


# --- PostgreSQL (optional) --------------------------------------------------------------


@contextlib.contextmanager
def temporary_database(server_url: str | None) -> Iterator[str]:
    """Yield RTC_DATABASE_URL: "" for SQLite, or a fresh PostgreSQL database, dropped after."""
    if not server_url:
        yield ""
        return
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    if not url.drivername.startswith("postgresql"):
        sys.exit(f"error: --database-url must be a postgresql URL, not {url.drivername}")
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"rtc_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    print(f"created temporary database {name}", flush=True)
    try:
        yield url.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"dropped temporary database {name}", flush=True)


# --- load -------------------------------------------------------------------------------


def run_wrk(
    wrk: str,
    port: int,
    *,
    duration: float,
    connections: int,
    threads: int,
    script: Path,
    headers: list[str],
    route: str = ROUTE,
) -> LoadResult:
    argv = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(script),
    ]
    for header in headers:
        argv += ["-H", header]
    argv.append(f"http://127.0.0.1:{port}{route}")
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        requests=data["requests"],
        errors=errors,
    )


# --- the rtc server ---------------------------------------------------------------------


def rtc_env(data_dir: Path, port: int, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTC_")}
    env.update(
        RTC_DATA_DIR=str(data_dir),
        RTC_PORT=str(port),
        RTC_BOOTSTRAP_PASSWORD=PASSWORD,
        PYTHONUNBUFFERED="1",
        RTC_ENGINES__INSTALL_DEFAULT="false",
        RTC_BILLING__PAYMENT="auto",
    )
    if database_url:
        env["RTC_DATABASE_URL"] = database_url
    return env


def first_start(argv: list[str], env: dict[str, str], port: int, log: Path) -> tuple[str, float]:
    """Bootstrap, sign in, create an access key; return the bearer token and the start time."""
    server = Server("rtc up (first start)", argv, env, log)
    try:
        took = server.wait_healthy(port, timeout=120)
        base = f"http://127.0.0.1:{port}/api/v1"
        with httpx.Client(base_url=base, timeout=30) as client:
            signed = client.post("/sessions", json={"account": "operator", "password": PASSWORD})
            signed.raise_for_status()
            session = {"Authorization": f"Bearer {signed.json()['token']}"}
            created = client.post("/access-keys", headers=session)
            created.raise_for_status()
            key = created.json()
            bearer = f"{key['id']}:{key['secret']}"
            me = client.get("/me", headers={"Authorization": f"Bearer {bearer}"})
            me.raise_for_status()
            if me.json().get("auth_method") != "access_key":
                raise RuntimeError(f"unexpected {ROUTE} answer: {me.text}")
        return bearer, took
    finally:
        server.stop()


def measure_start(
    argv: list[str], env: dict[str, str], port: int, log: Path, idle_s: float
) -> tuple[Server, StartResult]:
    server = Server("rtc up", argv, env, log)
    try:
        healthy = server.wait_healthy(port, timeout=60)
        cpu = cpu_seconds(server.proc.pid)
        time.sleep(idle_s)
        rss = vm_rss_mb(server.proc.pid)
        return server, StartResult(healthy, cpu, rss, child_count(server.proc.pid))
    except BaseException:
        server.stop()
        raise


# --- report -----------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def machine() -> str:
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    uname = os.uname()
    return (
        f"{os.cpu_count()} CPUs, {mem_kib / 1024**2:.1f} GiB RAM, "
        f"{uname.sysname} {uname.release} {uname.machine}, "
        f"Python {platform.python_version()}"
    )


def print_load_table(bare: list[LoadResult], rtc: list[LoadResult]) -> None:
    print("\nper round (req/s, p50 ms, p99 ms, errors):")
    for i, (b, r) in enumerate(zip(bare, rtc, strict=True), start=1):
        print(
            f"  round {i}: bare {b.rps:8.0f} {b.p50_ms:6.2f} {b.p99_ms:6.2f} {b.errors}   "
            f"rtc {r.rps:8.0f} {r.p50_ms:6.2f} {r.p99_ms:6.2f} {r.errors}"
        )
    print("\nmedians of the rounds:")
    print(f"  {'app':<36} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for label, runs in (
        ("bare FastAPI  GET /api/v1/me", bare),
        ("rtc up  GET /api/v1/me (key)", rtc),
    ):
        print(
            f"  {label:<36} {med(runs, 'rps'):8.0f} {med(runs, 'p50_ms'):8.2f} "
            f"{med(runs, 'p90_ms'):8.2f} {med(runs, 'p99_ms'):8.2f} "
            f"{sum(x.errors for x in runs):7d}"
        )


def med(runs: list[LoadResult], field: str) -> float:
    return float(statistics.median(getattr(x, field) for x in runs))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/api.py",
        description=(
            "Load GET /api/v1/me of a real `rtc up` (authenticated with an access key) and of\n"
            "a bare FastAPI app (bench/bare_app.py) with wrk, alternating; measure how fast a\n"
            "second `rtc up` start is healthy and its idle memory. Prints medians and\n"
            "PASS/FAIL against the targets:\n"
            f"  rtc req/s >= {MIN_RPS:.0f}, rtc p99 <= {MAX_P99_MS:.0f} ms, "
            f"rtc/bare req/s >= {MIN_RATIO},\n"
            f"  healthy <= {MAX_HEALTHY_S:.0f} s after spawn, "
            f"idle VmRSS <= {MAX_IDLE_RSS_MB:.0f} MB.\n"
            "Exit status: 0 all targets met, 1 a target missed, 2 wrk missing."
        ),
        epilog=(
            "Needs wrk (Debian package `wrk`): `make bench` installs it when missing and runs\n"
            "this script (flags via BENCH_ARGS). Example:\n"
            "  .venv/bin/python bench/api.py --duration 10 --connections 32 --rounds 3"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds of load per measurement (default %(default)g)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=32,
        help="keep-alive connections (wrk -c; default %(default)s)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="wrk threads (wrk -t; default %(default)s: one core for wrk, one for the server)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="load rounds, alternating bare/rtc, and `rtc up` restarts; medians are reported "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=3.0,
        help="seconds of unmeasured load on each app first (default %(default)g)",
    )
    parser.add_argument(
        "--idle",
        type=float,
        default=3.0,
        help="seconds to wait after /healthz answers before reading VmRSS (default %(default)g)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        default=None,
        help=(
            "run `rtc up` on PostgreSQL instead of the default SQLite. URL of the server, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres: a temporary database "
            "rtc_bench_<random> is created there (psycopg) and dropped afterwards"
        ),
    )
    parser.add_argument(
        "--items",
        type=int,
        default=20,
        help="projects, and jobs in one of them, the list routes list (default %(default)s)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary work directory (data, rtc.log, bare.log)",
    )
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.connections < 1 or args.threads < 1 or args.rounds < 1:
        parser.error("--duration, --connections, --threads and --rounds must be positive")
    if args.threads > args.connections:
        parser.error("--threads must not exceed --connections (wrk needs one connection each)")
    return args


def fill_account(port: int, bearer: str, items: int) -> None:
    """What the list routes list, made through the API as a tenant would."""
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api/v1",
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=60,
    )

    def call(method: str, path: str, body: dict[str, object] | None = None) -> dict[str, str]:
        response = api.request(method, path, json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else {}

    call("POST", "/ram/service-role")
    call("POST", "/zones", {"name": "bench-zone", "capacity": {"4c16g": 100}})
    call("POST", "/networks", {"name": "bench-net", "cidr": "10.0.0.0/16"})
    subnet = {"name": "bench-subnet", "cidr": "10.0.0.0/20", "zone": "bench-zone"}
    call("POST", "/networks/bench-net/subnets", subnet)
    bucket = "bench-bucket-" + secrets.token_hex(3)
    call("POST", "/buckets", {"name": bucket})
    for number in range(items):
        order = call(
            "POST", "/orders", {"mode": "shared", "cu": 2, "months": 1, "agree_to_terms": True}
        )
        call("POST", f"/orders/{order['id']}/pay")
        call("POST", "/projects", {"name": f"bench_{number}", "order_id": order["id"]})
    for number in range(items):
        job = {"name": f"job-{number}", "sql": "SELECT 1"}
        call("POST", "/projects/bench_0/jobs", job)
    for number in range(2):
        shape = {"master_type": "4c16g", "master_count": 1, "slave_type": "4c16g"}
        body = {"mode": "exclusive", "months": 1, **shape, "slave_count": 2, "agree_to_terms": True}
        order = call("POST", "/orders", body)
        call("POST", f"/orders/{order['id']}/pay")
        placement = {"network": "bench-net", "subnet": "bench-subnet", "zone": "bench-zone"}
        cluster = {"order_id": order["id"], "name": f"bench_c{number}", "bucket": bucket}
        call("POST", "/clusters", {**cluster, **placement})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print(
            "error: wrk is not installed. Run `make bench` (installs the Debian package wrk "
            "when it is missing, then runs this benchmark) or `apt-get install -y wrk`.",
            file=sys.stderr,
        )
        return 2
    rtc = rtc_executable()
    work = Path(tempfile.mkdtemp(prefix="rtc-bench-"))
    script = work / "report.lua"
    script.write_text(WRK_REPORT)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"machine: {machine()}; load average {load_average()}")
    print(
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency, "
        f"{args.rounds} rounds, database {database}, work dir {work}",
        flush=True,
    )
    servers: list[Server] = []
    errors_in_lists: list[int] = []
    try:
        with temporary_database(args.database_url) as database_url:
            port = free_port()
            env = rtc_env(work / "data", port, database_url)
            argv_rtc = [rtc, "up"]
            bearer, first = first_start(argv_rtc, env, port, work / "rtc.log")
            print(f"first start (migrate + bootstrap): healthy after {first:.2f} s", flush=True)

            starts: list[StartResult] = []
            server: Server | None = None
            for i in range(args.rounds):
                server, result = measure_start(argv_rtc, env, port, work / "rtc.log", args.idle)
                starts.append(result)
                print(
                    f"start {i + 1}: healthy after {result.healthy_s:.2f} s "
                    f"({result.cpu_s:.2f} s CPU), idle VmRSS {result.idle_rss_mb:.1f} MB, "
                    f"child processes {result.children}",
                    flush=True,
                )
                if i < args.rounds - 1:
                    server.stop()
            assert server is not None
            servers.append(server)
            rtc_pid = server.proc.pid

            bare_port = free_port()
            bare = Server(
                "bare app",
                [sys.executable, str(BENCH_DIR / "bare_app.py"), "--port", str(bare_port)],
                {**os.environ, "PYTHONUNBUFFERED": "1"},
                work / "bare.log",
            )
            servers.append(bare)
            bare.wait_healthy(bare_port, timeout=60)
            bare_idle_rss = vm_rss_mb(bare.proc.pid)

            auth = [f"Authorization: Bearer {bearer}"]

            def load(
                target_port: int, headers: list[str], seconds: float, route: str = ROUTE
            ) -> LoadResult:
                return run_wrk(
                    wrk,
                    target_port,
                    duration=seconds,
                    connections=args.connections,
                    threads=args.threads,
                    script=script,
                    headers=headers,
                    route=route,
                )

            if args.warmup > 0:
                load(bare_port, [], args.warmup)
                load(port, auth, args.warmup)
            bare_runs: list[LoadResult] = []
            rtc_runs: list[LoadResult] = []
            for i in range(args.rounds):
                bare_runs.append(load(bare_port, [], args.duration))
                rtc_runs.append(load(port, auth, args.duration))
                b, r = bare_runs[-1], rtc_runs[-1]
                print(
                    f"round {i + 1}: bare {b.rps:.0f} req/s p99 {b.p99_ms:.1f} ms; "
                    f"rtc {r.rps:.0f} req/s p99 {r.p99_ms:.1f} ms",
                    flush=True,
                )
            rtc_loaded_rss = vm_rss_mb(rtc_pid)
            bare_loaded_rss = vm_rss_mb(bare.proc.pid)

            fill_account(port, bearer, args.items)
            lists: dict[str, list[float]] = {route: [] for route in LIST_ROUTES}
            list_p99: dict[str, list[float]] = {route: [] for route in LIST_ROUTES}
            for route in LIST_ROUTES:
                load(port, auth, min(args.warmup, 1.0) or 0.5, route)
            for i in range(args.rounds):
                me = load(port, auth, args.duration)
                for route in LIST_ROUTES:
                    listed = load(port, auth, args.duration, route)
                    lists[route].append(listed.rps / me.rps)
                    list_p99[route].append(listed.p99_ms)
                    errors_in_lists.append(listed.errors)
                    print(
                        f"round {i + 1}: {route} {listed.rps:.0f} req/s "
                        f"p99 {listed.p99_ms:.1f} ms, /me {me.rps:.0f} req/s: "
                        f"{listed.rps / me.rps:.2f}",
                        flush=True,
                    )
    finally:
        for s in reversed(servers):
            s.stop()
        # the clusters' node agents lead their own sessions: they outlive `rtc up`
        for pid in cluster_bench.processes_under(work):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    print_load_table(bare_runs, rtc_runs)
    rps = med(rtc_runs, "rps")
    p99 = med(rtc_runs, "p99_ms")
    ratio = rps / med(bare_runs, "rps")
    healthy = statistics.median(s.healthy_s for s in starts)
    start_cpu = statistics.median(s.cpu_s for s in starts)
    idle_rss = statistics.median(s.idle_rss_mb for s in starts)
    errors = sum(r.errors for r in rtc_runs + bare_runs)
    print(f"  ratio rtc/bare req/s: {ratio:.2f}")
    print(
        f"\n`rtc up` second start ({args.rounds}x, median): healthy after {healthy:.2f} s "
        f"({start_cpu:.2f} s CPU); "
        f"idle VmRSS {idle_rss:.1f} MB (after load: {rtc_loaded_rss:.1f} MB); "
        f"bare app VmRSS idle {bare_idle_rss:.1f} MB, after load {bare_loaded_rss:.1f} MB"
    )
    checks = [
        (f"rtc req/s >= {MIN_RPS:.0f}", f"{rps:.0f}", rps >= MIN_RPS),
        (f"rtc p99 <= {MAX_P99_MS:.0f} ms", f"{p99:.1f} ms", p99 <= MAX_P99_MS),
        (f"rtc/bare req/s >= {MIN_RATIO}", f"{ratio:.2f}", ratio >= MIN_RATIO),
        (f"healthy <= {MAX_HEALTHY_S:.0f} s", f"{healthy:.2f} s", healthy <= MAX_HEALTHY_S),
        (
            f"idle RSS <= {MAX_IDLE_RSS_MB:.0f} MB",
            f"{idle_rss:.1f} MB",
            idle_rss <= MAX_IDLE_RSS_MB,
        ),
        ("no wrk errors (non-2xx, timeouts)", str(errors), errors == 0),
    ]
    for route in LIST_ROUTES:
        ratio_of_list = statistics.median(lists[route])
        print(
            f"  {route}: median {ratio_of_list:.2f} of /me's req/s, "
            f"p99 {statistics.median(list_p99[route]):.1f} ms"
        )
        checks.append(
            (
                f"{route} / me req/s >= {LIST_RATIO}",
                f"{ratio_of_list:.2f}",
                ratio_of_list >= LIST_RATIO,
            )
        )
    checks.append(
        ("no wrk errors on the lists", str(sum(errors_in_lists)), not any(errors_in_lists))
    )
    print("\ntargets:")
    for name, value, ok in checks:
        print(f"  {verdict(ok)}  {name:<36} measured {value}")
    print(
        f"\nload average at the end: {load_average()} (other work on the machine skews all figures)"
    )
    if args.keep:
        print(f"\nkept {work} (rtc.log, bare.log)")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
