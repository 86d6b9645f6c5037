"""Benchmark cluster start: order paid -> cluster running, against a bare ZooKeeper quorum.

What it does, in one invocation:

  1. spawns `rtc up` (as `python -m rtcompute.main up`) on a temporary data directory and
     SQLite, with auto payment, signs in as the operator and, through the REST API, authorizes
     the service role, registers a zone, creates a network, a subnet and a bucket;
  2. per round:
       baseline   starts a 3-member ZooKeeper quorum by hand with the very command the local
                  provider uses (`runtime.zookeeper.command`, same zoo.cfg settings), and
                  times it until every member answers `ruok` -> `imok` and `srvr` with a
                  mode, one of them leader (probing every 50 ms);
       1m+2s      POST /orders (exclusive, 1 master 4c16g, 2 slaves 4c16g), POST /pay, then
                  the clock starts: POST /clusters, GET /clusters/{name} every 100 ms until
                  `running` (the reconciler runs inside `rtc up`, every 1 s by default);
       3m+2s      the same with 3 masters: 5 agents and a 3-member quorum;
     then releases both (DELETE, until `released`);
  3. prints the medians over `--rounds`, the ratio of each start to the bare quorum, and
     PASS/FAIL against the target (<= 20 s); then times `domain.sizing.quote` (target
     <= 10 ms per call) on the default catalog for a spread of CU, with and without HA.

Exits 1 if a target is missed. Everything it started is stopped (by pid) on the way out.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from rtcompute import settings as settings_module
from rtcompute.domain import catalog, sizing
from rtcompute.runtime import processes, zookeeper

API = "/api/v1"
START_TARGET_SECONDS = 20.0
QUOTE_TARGET_MS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One `rtc up` on a scratch data directory."""

    def __init__(
        self, data_dir: Path, port_min: int, extra_env: dict[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.password = "operator-" + secrets.token_hex(6)
        env = {
            **os.environ,
            "RTC_DATA_DIR": str(data_dir),
            "RTC_PORT": str(self.port),
            "RTC_BOOTSTRAP_ACCOUNT": "operator",
            "RTC_BOOTSTRAP_PASSWORD": self.password,
            "RTC_BILLING__PAYMENT": "auto",
            "RTC_ENGINES__INSTALL_DEFAULT": "false",
            "RTC_LOCAL_PROVIDER__PORT_MIN": str(port_min),
            "RTC_LOCAL_PROVIDER__PORT_MAX": str(port_min + 999),
            **(extra_env or {}),
        }
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = (data_dir / "server.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rtcompute.main", "up"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"rtc up exited:\n{(data_dir / 'server.log').read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit("rtc up did not become healthy in 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class Api:
    def __init__(self, server: Server) -> None:
        self.http = httpx.Client(base_url=server.url + API, timeout=30)
        token = self.call("POST", "/sessions", {"account": "operator", "password": server.password})
        self.http.headers["Authorization"] = f"Bearer {token['token']}"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, path, json=body)
        if response.status_code >= 400:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None


def set_up(api: Api) -> None:
    api.call("POST", "/ram/service-role")
    api.call("POST", "/zones", {"name": "bench-zone", "capacity": {"4c16g": 100}})
    api.call("POST", "/networks", {"name": "bench-net", "cidr": "10.0.0.0/16"})
    subnet = {"name": "bench-subnet", "cidr": "10.0.0.0/20", "zone": "bench-zone"}
    api.call("POST", "/networks/bench-net/subnets", subnet)
    api.call("POST", "/buckets", {"name": "bench-bucket-" + secrets.token_hex(3)})


def start_cluster(api: Api, bucket: str, name: str, masters: int) -> float:
    """Order, pay; then time create -> `running`."""
    order = api.call(
        "POST",
        "/orders",
        {
            "mode": "exclusive",
            "billing": "subscription",
            "months": 1,
            "master_type": "4c16g",
            "master_count": masters,
            "slave_type": "4c16g",
            "slave_count": 2,
            "agree_to_terms": True,
        },
    )
    paid = api.call("POST", f"/orders/{order['id']}/pay")
    assert paid["state"] == "paid", paid
    started = time.perf_counter()
    placement = {"network": "bench-net", "subnet": "bench-subnet", "zone": "bench-zone"}
    api.call(
        "POST",
        "/clusters",
        {"order_id": order["id"], "name": name, "bucket": bucket, **placement},
    )
    while True:
        cluster = api.call("GET", f"/clusters/{name}")
        if cluster["state"] == "running":
            return time.perf_counter() - started
        if cluster["state"] == "failed" or time.perf_counter() - started > 120:
            raise SystemExit(f"cluster {name} did not start: {cluster}")
        time.sleep(0.1)


def release(api: Api, name: str) -> None:
    api.call("DELETE", f"/clusters/{name}")
    deadline = time.monotonic() + 60
    while api.call("GET", f"/clusters/{name}")["state"] != "released":
        if time.monotonic() > deadline:
            raise SystemExit(f"cluster {name} was not released in 60 s")
        time.sleep(0.2)


def bare_quorum(directory: Path, port_base: int) -> float:
    """Start 3 members by hand (the provider's own command); time until all serve."""
    config = settings_module.Settings().local_provider
    peers = [
        zookeeper.Peer(i, "127.0.0.1", port_base + 10 * i + 2, port_base + 10 * i + 3)
        for i in (1, 2, 3)
    ]
    client_ports = [port_base + 10 * i + 1 for i in (1, 2, 3)]
    started = time.perf_counter()
    children = []
    for peer, client_port in zip(peers, client_ports, strict=True):
        member = directory / f"member-{peer.myid}"
        member.mkdir(parents=True)
        cfg = zookeeper.write_config(
            member_dir=member,
            myid=peer.myid,
            host="127.0.0.1",
            client_port=client_port,
            peers=peers,
        )
        argv = zookeeper.command(
            java=config.java,
            heap_mb=config.zookeeper_heap_mb,
            zookeeper_home=config.zookeeper_home,
            config=cfg,
        )
        children.append(
            processes.spawn(
                argv, log_file=member / "zookeeper.log", pid_file=member / "zk.pid", cwd=member
            )
        )
    try:
        while time.perf_counter() - started < 60:
            modes = []
            for port in client_ports:
                if zookeeper.four_letter("127.0.0.1", port, "ruok", timeout=0.5) != "imok":
                    break
                modes.append(
                    zookeeper.mode(zookeeper.four_letter("127.0.0.1", port, "srvr", timeout=0.5))
                )
            if (
                len(modes) == 3
                and "leader" in modes
                and all(m in zookeeper.SERVING_MODES for m in modes)
            ):
                return time.perf_counter() - started
            time.sleep(0.05)
        raise SystemExit("the bare quorum did not serve within 60 s")
    finally:
        for child in children:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(10)


def time_quotes(calls: int) -> list[float]:
    """Milliseconds per `sizing.quote` call over a spread of CU, with and without HA."""
    spread = [1, 6, 13, 40, 100, 250, 600, 799, 1500, 5000]
    timings = []
    for i in range(calls):
        cu, ha = spread[i % len(spread)], bool(i % 2)
        begin = time.perf_counter_ns()
        sizing.quote(cu, ha, catalog.DEFAULT_CATALOG)
        timings.append((time.perf_counter_ns() - begin) / 1e6)
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port-min", type=int, default=26000)
    parser.add_argument("--quote-calls", type=int, default=2000)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="rtc-bench-clusters-"))
    server = Server(scratch / "data", args.port_min)
    results: dict[str, list[float]] = {"bare quorum": [], "1m+2s": [], "3m+2s": []}
    try:
        api = Api(server)
        set_up(api)
        bucket = api.call("GET", "/buckets")[0]["name"]
        for number in range(1, args.rounds + 1):
            baseline = bare_quorum(scratch / f"bare-{number}", args.port_min + 2000)
            results["bare quorum"].append(baseline)
            small = start_cluster(api, bucket, f"small_{number}", masters=1)
            results["1m+2s"].append(small)
            ha = start_cluster(api, bucket, f"ha_{number}", masters=3)
            results["3m+2s"].append(ha)
            print(
                f"round {number}: bare quorum {baseline:.2f} s, "
                f"1m+2s {small:.2f} s, 3m+2s {ha:.2f} s",
                flush=True,
            )
            release(api, f"small_{number}")
            release(api, f"ha_{number}")
    finally:
        server.stop()
        for pid in processes_under(scratch):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(scratch, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in results.items()}
    ok = True
    print(f"\nmedians over {args.rounds} rounds (cores: {os.cpu_count()}):")
    for name, value in medians.items():
        line = f"  {name:12s} {value:6.2f} s"
        if name != "bare quorum":
            passed = value <= START_TARGET_SECONDS
            ok &= passed
            ratio = value / medians["bare quorum"]
            verdict = "PASS" if passed else "FAIL"
            line += f"   x{ratio:.2f} of the bare quorum"
            line += f"   target <= {START_TARGET_SECONDS:.0f} s: {verdict}"
        print(line)
    timings = time_quotes(args.quote_calls)
    p50, p99, worst = percentile(timings, 0.5), percentile(timings, 0.99), max(timings)
    passed = p99 <= QUOTE_TARGET_MS
    ok &= passed
    print(
        f"  sizing.quote {args.quote_calls} calls: p50 {p50:.3f} ms, p99 {p99:.3f} ms, "
        f"max {worst:.3f} ms   target <= {QUOTE_TARGET_MS:.0f} ms: {'PASS' if passed else 'FAIL'}"
    )
    return 0 if ok else 1


def processes_under(directory: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and str(directory) in "\0".join(processes.cmdline(int(entry.name))):
            found.append(int(entry.name))
    return found


if __name__ == "__main__":
    sys.exit(main())
