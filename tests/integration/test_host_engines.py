"""Engine versions on joined hosts: each host's agent installs the version its cluster
installs, on its own disk, from the platform's install source (here the offline wheelhouse),
reporting its progress; the cluster stays `deploying` until every host has it. A host whose
install fails fails the version (its cluster runs on, the operator is alerted); a host no
longer serving a cluster removes its copies. Real agents on namespace hosts (tests/netlab.py),
a real `rtc up`, real pip installs.
"""

from __future__ import annotations

import ipaddress
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rtcompute.runtime.engines import installer
from tests import netlab
from tests.conftest import free_port, start_server, stop_server
from tests.engines_fixtures import InstalledEngines, copy_engine, engine_home
from tests.integration.test_cluster_reconciler import kill_all_under
from tests.integration.test_clusters_api import SMALL
from tests.integration.test_host_agent import operator, reporting, start_agent
from tests.integration.test_ram_support import API, account, authorize_service_role, ok
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

V2 = "flink-2.2.1"
HOSTS = 3


@pytest.fixture
def lab() -> Iterator[netlab.Lab]:
    yield from netlab.for_test(HOSTS)


def copy_on(state: Path, version: str) -> Path:
    return state / "engines" / version / installer.MARKER


def test_hosts_install_their_cluster_s_version_and_remove_it_when_freed(
    lab: netlab.Lab,
    installed_engines: InstalledEngines,
    engine_wheelhouse: Path,
    tmp_path: Path,
) -> None:
    home = engine_home(installed_engines, tmp_path / "engines", [V2])  # this machine's copy
    port = free_port()
    env = {
        "RTC_HOST": "0.0.0.0",
        "RTC_HOSTS__HEARTBEAT_SECONDS": "0.5",
        "RTC_ENGINES__HOME": str(home),
        # first a source the hosts cannot install from
        "RTC_ENGINE_WHEELHOUSE": str(tmp_path / "no-wheelhouse"),
        "RTC_RECONCILERS__JOBS__ENABLED": "false",
        "RTC_HOSTS__UNUSED_ENGINE_SECONDS": "1",  # a copy no cluster holds goes at once
    }
    server = start_server(tmp_path / "data", env, port=port)
    agents: list[subprocess.Popen[str]] = []
    try:
        admin = operator(server)
        ok(admin.post("/zones", json={"name": "rack1", "provider": "hosts"}), 201)
        for i in range(HOSTS):
            token = admin.post("/hosts/join-tokens", json={"zone": "rack1"}).json()["token"]
            agents.append(start_agent(lab, server, i, tmp_path / f"h{i}", token))
        wait_for("the hosts reporting", lambda: len(reporting(admin)) == HOSTS, 30)
        tenant = httpx.Client(base_url=server.url, timeout=10)
        owner = account(tenant)  # type: ignore[arg-type]
        tenant.headers.update(owner.headers)
        authorize_service_role(tenant, owner)  # type: ignore[arg-type]
        network = str(ipaddress.ip_network(lab.subnet).supernet(new_prefix=16))
        ok(tenant.post(f"{API}/networks", json={"name": "net1", "cidr": network}), 201)
        subnet = {"name": "sub1", "cidr": lab.subnet, "zone": "rack1"}
        ok(tenant.post(f"{API}/networks/net1/subnets", json=subnet), 201)
        ok(tenant.post(f"{API}/buckets", json={"name": "acme-udfs"}), 201)
        order = ok(tenant.post(f"{API}/orders", json=SMALL), 201)
        ok(tenant.post(f"{API}/orders/{order['id']}/pay"))
        body = {"order_id": order["id"], "name": "cluster1", "bucket": "acme-udfs"}
        body |= {"network": "net1", "subnet": "sub1", "zone": "rack1"}
        ok(tenant.post(f"{API}/clusters", json=body), 201)

        def cluster() -> dict[str, Any]:
            found: dict[str, Any] = ok(tenant.get(f"{API}/clusters/cluster1"))
            return found

        def version() -> dict[str, Any]:
            found: dict[str, Any] = ok(tenant.get(f"{API}/clusters/cluster1/versions/{V2}"))
            return found

        wait_for("the cluster running on its hosts", lambda: cluster()["state"] == "running", 90)

        # the hosts cannot install: the version fails, the cluster runs on
        ok(tenant.post(f"{API}/clusters/cluster1/versions", json={"version": V2}), 201)
        wait_for("the version failed", lambda: version()["state"] == "failed", 120)
        assert "flink-2.2.1" in version()["message"]
        wait_for("the cluster running again", lambda: cluster()["state"] == "running", 10)
        assert "installing flink-2.2.1 on cluster1 failed" in server.log()
        assert "the platform's wheelhouse" in server.log()  # the operator reads the cause
        assert "is not visible on this host" in server.log()

        # from the wheelhouse: every host installs it, the cluster deploys until then
        # this machine's copy goes too (no target uses it), then comes back at once, so that
        # the next install waits on the hosts alone
        wait_for("this machine's unused copy removed", lambda: not (home / V2).exists(), 30)
        stop_server(server)
        copy_engine(installed_engines.path(V2), home / V2)
        env["RTC_ENGINE_WHEELHOUSE"] = str(engine_wheelhouse)
        server = start_server(tmp_path / "data", env, port=port)  # the sessions carry on
        ok(tenant.post(f"{API}/clusters/cluster1/versions", json={"version": V2}), 201)
        seen: list[tuple[str, str, int]] = []

        def installed() -> bool:
            found = version()
            assert found["state"] != "failed", found
            seen.append((cluster()["state"], found["phase"], found["progress"]))
            return bool(found["state"] == "installed")

        wait_for(f"{V2} installed on every host", installed, 420, every=0.5)
        assert any(s[:2] == ("deploying", "hosts") and s[2] < 100 for s in seen), seen[:20]
        for i in range(HOSTS):
            assert copy_on(tmp_path / f"h{i}", V2).exists()
        hosts = ok(admin.get("/hosts"))
        assert all(h["report"]["engines"][V2]["state"] == "ready" for h in hosts), hosts
        assert cluster()["state"] == "running"

        # released: the hosts serve no cluster, their copies go
        ok(tenant.delete(f"{API}/clusters/cluster1"))
        wait_for(
            "the hosts' copies removed",
            lambda: not any(copy_on(tmp_path / f"h{i}", V2).exists() for i in range(HOSTS)),
            90,
        )
    finally:
        for agent in agents:
            agent.kill()
            agent.wait(5)
        stop_server(server)
        kill_all_under(tmp_path / "data")
