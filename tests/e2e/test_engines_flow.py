"""The guide's chapter 7 end to end on a live `rtc up`, with real engines: a running cluster
gets two versions, a project in it checks SQL on a warm worker of each, versions switch,
the current one cannot be uninstalled, and an uninstalled version's copy leaves the machine
once nothing uses it. The shared pool shares the machine's copy (one copy, two targets).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import ports
from tests.conftest import LiveServer, login, signup, start_server, stop_server
from tests.integration.test_cluster_reconciler import kill_all_under
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

API = "/api/v1"
V2, V1 = "flink-2.2.1", "flink-1.20.5"
SCRIPT = """CREATE TABLE src (
  id BIGINT,
  name STRING
) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE snk (id BIGINT, name STRING) WITH ('connector' = 'blackhole');
INSERT INTO snk
SELECT id, name FROM src WHERE id > 0;
"""
# line 7 ends too early: Flink points at the dangling `AND`, column 39
BROKEN = SCRIPT.replace("WHERE id > 0;", "WHERE id > 0 AND;")


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
def world(
    tmp_path: Path, engine_home_with: Callable[[list[str]], Path]
) -> Iterator[tuple[LiveServer, Path]]:
    home = engine_home_with([V2, V1])
    env = {
        "RTC_ENGINES__HOME": str(home),
        **ports.node_env(),
    }
    data_dir = tmp_path / "data"
    server = start_server(data_dir, env)
    try:
        yield server, home
    finally:
        stop_server(server)
        kill_all_under(data_dir)
        kill_all_under(home)


def running_cluster(client: httpx.Client, operator: httpx.Client, name: str) -> None:
    zone = "zone_" + secrets.token_hex(3)
    ok(operator.post(f"{API}/zones", json={"name": zone, "capacity": {"4c16g": 3}}), 201)
    ok(client.post(f"{API}/ram/service-role"))
    ok(client.post(f"{API}/networks", json={"name": "vpc_e", "cidr": "10.30.0.0/16"}), 201)
    subnet = {"name": "vsw_e", "cidr": "10.30.1.0/24", "zone": zone}
    ok(client.post(f"{API}/networks/vpc_e/subnets", json=subnet), 201)
    bucket = "eng-" + secrets.token_hex(4)
    ok(client.post(f"{API}/buckets", json={"name": bucket}), 201)
    shape = {
        "mode": "exclusive",
        "master_type": "4c16g",
        "master_count": 1,
        "slave_type": "4c16g",
        "slave_count": 2,
        "months": 1,
        "agree_to_terms": True,
    }
    order = ok(client.post(f"{API}/orders", json=shape), 201)
    ok(client.post(f"{API}/orders/{order['id']}/pay"))
    placement = {"bucket": bucket, "network": "vpc_e", "subnet": "vsw_e", "zone": zone}
    body = {"order_id": order["id"], "name": name, **placement}
    ok(client.post(f"{API}/clusters", json=body), 201)
    wait_for(
        "the cluster to run",
        lambda: ok(client.get(f"{API}/clusters/{name}"))["state"] == "running",
        timeout=90,
    )


def installed(client: httpx.Client, path: str, version: str) -> Callable[[], bool]:
    def check() -> bool:
        found = ok(client.get(f"{path}/{version}"))
        assert found["state"] != "failed", found
        return bool(found["state"] == "installed")

    return check


def test_versions_and_syntax_check_on_real_engines(world: tuple[LiveServer, Path]) -> None:
    server, home = world
    with (
        httpx.Client(base_url=server.url, timeout=60) as client,
        httpx.Client(base_url=server.url, timeout=60) as operator,
    ):
        alias = "eng-" + secrets.token_hex(3)
        signup(client, alias)  # type: ignore[arg-type]
        client.headers.update(login(client, alias))  # type: ignore[arg-type]
        operator.headers.update(login(operator, server.account, server.password))  # type: ignore[arg-type]
        running_cluster(client, operator, "c_eng")
        versions = f"{API}/clusters/c_eng/versions"

        first = ok(client.post(versions, json={"version": V2}), 201)
        assert first["state"] == "installing"
        busy = client.post(versions, json={"version": V1})
        assert busy.status_code == 409 and busy.json()["code"] == "VersionDeploying"
        wait_for("flink-2.2.1 installed", installed(client, versions, V2), 120)
        cluster = ok(client.get(f"{API}/clusters/c_eng"))
        assert cluster["state"] == "running"
        ok(client.post(versions, json={"version": V1}), 201)
        wait_for("flink-1.20.5 installed", installed(client, versions, V1), 120)
        listed = {v["version"]: v for v in ok(client.get(versions))}
        assert listed[V2]["current"] and not listed[V1]["current"]
        again = ok(client.post(versions, json={"version": V2}), 409)
        assert again["message"] == f"{V2} already installed"

        project = {"name": "p_eng", "cluster": "c_eng", "cu": 2}
        ok(client.post(f"{API}/projects", json=project), 201)
        checks = f"{API}/projects/p_eng/sql"
        valid = ok(client.post(f"{checks}:validate", json={"sql": SCRIPT}))
        assert valid["ok"] is True and valid["problems"] == []
        assert (valid["engine_version"], valid["flink_version"]) == (V2, "2.2.1")
        broken = ok(client.post(f"{checks}:validate", json={"sql": BROKEN}))
        assert broken["ok"] is False
        problem = broken["problems"][0]
        assert (problem["line"], problem["column"]) == (7, 39), problem
        assert "AND" in problem["message"]
        on_v1 = ok(client.post(f"{checks}:validate", json={"sql": BROKEN, "engine_version": V1}))
        assert on_v1["flink_version"] == "1.20.5" and on_v1["problems"][0]["line"] == 7
        plan = ok(client.post(f"{checks}:explain", json={"sql": SCRIPT}))
        assert plan["ok"] is True and "snk" in plan["plan"] and "src" in plan["plan"]
        missing = ok(
            client.post(
                f"{checks}:validate", json={"sql": SCRIPT, "engine_version": "flink-2.1.3"}
            ),
            409,
        )
        assert missing["code"] == "30006"
        assert "engine script not exist, please check engine version" in missing["message"]

        current = ok(client.delete(f"{versions}/{V2}"), 409)
        assert current["code"] == "VersionIsCurrent"
        ok(client.post(f"{versions}/{V1}/current"))
        # the shared pool takes flink-1.20.5 too: the machine keeps one copy for both
        ok(operator.post(f"{API}/pool/versions", json={"version": V1}), 201)
        wait_for("the pool's flink-1.20.5", installed(operator, f"{API}/pool/versions", V1), 120)
        gone = ok(client.delete(f"{versions}/{V2}"))
        assert gone["version"] == V2
        wait_for("flink-2.2.1 removed from the machine", lambda: not (home / V2).exists(), 60)
        assert (home / V1 / "bin" / "python").exists()
        after = ok(client.post(f"{checks}:validate", json={"sql": SCRIPT}))
        assert after["engine_version"] == V1 and after["ok"] is True
