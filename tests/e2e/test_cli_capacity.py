"""`rtc orders / projects / clusters / zones / networks / buckets / sizing / catalog` against
one live `rtc up` for the module: the guide's flows as a user types them.

A few commands run as a subprocess (what a user or a script sees, exit status and stderr
included); the rest run in-process through Typer's runner over HTTP against the same server.
The cluster test starts real node processes through the local provider: it releases what it
made, and the module's finalizer kills anything left under its data directory, by pid.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.main import get_command
from typer.testing import CliRunner, Result

from rtcompute import main
from tests.conftest import PASSWORD, LiveServer, start_server, stop_server
from tests.e2e.test_cli import rtc
from tests.e2e.test_cli_ram import _leaves, flat
from tests.integration.test_cluster_reconciler import kill_all_under, port_window, processes_under

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
GROUPS = ("orders", "clusters", "networks", "buckets", "zones", "sizing", "catalog", "projects")


@dataclass
class Signed:
    """A signed-in CLI profile (its own config directory) on the module's server."""

    server: LiveServer
    config_dir: Path
    alias: str

    def run(self, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> Result:
        """`rtc ARGS` in-process (`env`: more environment, e.g. a locale)."""
        given = {"RTC_CONFIG_DIR": str(self.config_dir), "COLUMNS": "200", "RTC_PROFILE": "default"}
        return CliRunner().invoke(
            main.build_app(), list(args), input=stdin, env=given | (env or {})
        )

    def json(self, *args: str) -> Any:
        result = self.run(*args, "-o", "json")
        assert result.exit_code == 0, (args, result.output)
        return json.loads(result.stdout)

    def sub(self, *args: str) -> Any:
        """`rtc ARGS` as a subprocess."""
        return rtc(self.config_dir, *args)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    window = port_window()
    env = {
        "RTC_LOCAL_PROVIDER__PORT_MIN": str(window["port_min"]),
        "RTC_LOCAL_PROVIDER__PORT_MAX": str(window["port_max"]),
    }
    data_dir = tmp_path_factory.mktemp("cli-capacity") / "data"
    live = start_server(data_dir, env)
    try:
        yield live
    finally:
        stop_server(live)
        kill_all_under(data_dir)


def sign_in(server: LiveServer, config_dir: Path, alias: str, password: str) -> Signed:
    result = rtc(
        config_dir,
        "login",
        "--endpoint",
        server.url,
        "--account",
        alias,
        "--password-stdin",
        stdin=password + "\n",
    )
    assert result.returncode == 0, result.stderr
    return Signed(server, config_dir, alias)


@pytest.fixture(scope="module")
def operator(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Signed:
    return sign_in(server, tmp_path_factory.mktemp("operator"), server.account, server.password)


@pytest.fixture(scope="module")
def tenant(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Signed:
    alias = "cap-" + secrets.token_hex(4)
    answer = httpx.post(
        server.url + "/api/v1/signup", json={"alias": alias, "password": PASSWORD}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    signed = sign_in(server, tmp_path_factory.mktemp("tenant"), alias, PASSWORD)
    assert signed.json("ram", "service-role", "authorize")["authorized"] is True
    return signed


def test_buy_shared_pay_create_a_project(tenant: Signed) -> None:
    placed = tenant.sub("orders", "buy", "shared", "--agree", "--cu", "2", "--months", "1")
    assert placed.returncode == 0, placed.stderr
    assert "pending_payment" in placed.stdout and "400.00" in placed.stdout
    order_id = next(
        line.split("│")[2].strip() for line in placed.stdout.splitlines() if "│ id " in line
    )
    assert f"rtc orders pay {order_id}" in flat(placed.stderr)
    assert tenant.json("orders", "counts") == {"shared": 0, "exclusive": 0}
    paid = tenant.sub("orders", "pay", order_id, "-o", "json")
    assert paid.returncode == 0, paid.stderr
    assert json.loads(paid.stdout)["state"] == "paid"
    counts = tenant.sub("orders", "counts")
    assert counts.returncode == 0 and "shared" in counts.stdout
    assert tenant.json("orders", "counts") == {"shared": 1, "exclusive": 0}
    assert [o["id"] for o in tenant.json("orders", "list", "--unconsumed")] == [order_id]

    made = tenant.sub("projects", "create", "shop_etl", "--order", order_id, "-o", "json")
    assert made.returncode == 0, made.stderr
    project = json.loads(made.stdout)
    assert (project["mode"], project["cu"], project["order_id"]) == ("shared", 2, order_id)
    listed = tenant.sub("projects", "list")
    assert listed.returncode == 0 and "shop_etl" in listed.stdout and "shared" in listed.stdout
    assert tenant.json("orders", "counts") == {"shared": 0, "exclusive": 0}
    assert tenant.json("orders", "show", order_id)["consumed_by"] == "shop_etl"
    again = tenant.run("projects", "create", "twice", "--order", order_id)
    assert again.exit_code == 1

    scale = tenant.run("projects", "scale", "shop_etl", "--cu", "4")
    assert scale.exit_code == 0, scale.output
    assert "scale_out" in scale.stdout and "rtc orders pay" in flat(scale.stderr)
    pending = tenant.json("orders", "list")[0]
    assert (pending["purpose"], pending["state"]) == ("scale_out", "pending_payment")
    assert tenant.json("projects", "show", "shop_etl")["cu"] == 2
    assert tenant.json("orders", "pay", pending["id"])["state"] == "consumed"
    assert tenant.json("projects", "show", "shop_etl")["cu"] == 4
    before = tenant.json("projects", "show", "shop_etl")["expires_at"]
    renewed = tenant.json("projects", "renew", "shop_etl", "--months", "1", "--pay")
    assert (renewed["purpose"], renewed["state"]) == ("renew", "consumed")
    assert tenant.json("projects", "show", "shop_etl")["expires_at"] > before
    described = tenant.json("projects", "update", "shop_etl", "--description", "orders")
    assert described["description"] == "orders"

    cancelled = tenant.json("orders", "buy", "shared", "--agree", "--cu", "1", "--months", "1")
    assert tenant.json("orders", "cancel", cancelled["id"])["state"] != "pending_payment"
    assert tenant.run("projects", "delete", "shop_etl", "--yes").exit_code == 0
    assert tenant.run("projects", "show", "shop_etl").exit_code == 1


def test_the_operator_approves_payment(tenant: Signed, operator: Signed) -> None:
    order = tenant.json("orders", "buy", "shared", "--agree", "--cu", "1", "--months", "1")
    assert tenant.run("orders", "pending").exit_code == 1  # the operator's view
    pending = operator.json("orders", "pending")
    assert order["id"] in [o["id"] for o in pending]
    assert order["id"] in operator.run("orders", "pending").stdout
    approved = operator.json("orders", "approve", order["id"])
    assert approved["state"] == "paid"
    assert tenant.json("orders", "show", order["id"])["state"] == "paid"
    made = tenant.json("projects", "create", "approved_p", "--order", order["id"])
    assert made["cu"] == 1
    assert tenant.run("projects", "delete", "approved_p", "--yes").exit_code == 0


def test_sizing_and_catalog(tenant: Signed, operator: Signed) -> None:
    simple = tenant.sub("sizing", "cu", "--qps", "50000", "--complexity", "simple")
    assert simple.returncode == 0, simple.stderr
    assert "50,000 records/s, simple: 5 CU" in simple.stdout
    assert "10,000 records/s per CU" in flat(simple.stdout)
    chinese = tenant.run("sizing", "cu", "--qps", "50000", env={"LC_ALL": "zh_CN.UTF-8"})
    assert chinese.exit_code == 0, chinese.output
    assert "每秒 50,000 条记录" in flat(chinese.stdout) and "需要 5 CU" in flat(chinese.stdout)
    complex_ = tenant.json("sizing", "cu", "--qps", "50000", "--complexity", "complex")
    assert (complex_["low"], complex_["high"]) == (10, 50) and complex_["reasoning"]
    assert (
        "10-50 CU" in tenant.run("sizing", "cu", "--qps", "50000", "--complexity", "complex").stdout
    )
    assert tenant.run("sizing", "cu", "--qps", "5", "--complexity", "hard").exit_code == 2

    quote = tenant.sub("sizing", "quote", "--cu", "40")
    assert quote.returncode == 0, quote.stderr
    single = tenant.json("sizing", "quote", "--cu", "40")
    assert single["usable_cu"] >= 40 and single["master_count"] == 1
    for expected in (
        f"{single['slave_type']} x {single['slave_count']}",
        f"{single['master_type']} x 1",
        single["month"],
        single["hour"],
    ):
        assert expected in quote.stdout, expected
    ha = tenant.json("sizing", "quote", "--cu", "40", "--ha")
    assert ha["master_count"] == 3 and ha["month_cents"] > single["month_cents"]

    catalog = tenant.json("catalog")
    slaves = {t["name"]: t["cu"] for t in catalog["machine_types"] if t["role"] == "slave"}
    assert slaves["4c16g"] == 3 and slaves["64c256g"] == 60
    shown = tenant.run("catalog")
    assert shown.exit_code == 0 and "56c224g" in shown.stdout and "local" in shown.stdout
    price = next(r for r in catalog["regions"] if r["name"] == catalog["region"])
    refused = tenant.run("catalog", "set-region", "local", "--shared-cu-month-cents", "1")
    assert refused.exit_code == 1 and "Forbidden" in flat(refused.output)
    kept = operator.json(
        "catalog",
        "set-region",
        catalog["region"],
        "--display-name",
        price["display_name"],
        "--shared-cu-month-cents",
        str(price["shared_cu_month_cents"]),
    )
    assert kept["shared_cu_month_cents"] == price["shared_cu_month_cents"]
    small = next(
        t for t in catalog["machine_types"] if (t["role"], t["name"]) == ("slave", "4c16g")
    )
    same = operator.json(
        "catalog",
        "set-type",
        "slave",
        "4c16g",
        "--cu",
        "3",
        "--month-cents",
        str(small["month_cents"]),
        "--hour-cents",
        str(small["hour_cents"]),
    )
    assert same == small


def test_buying_asks_to_accept_the_service_agreement(tenant: Signed) -> None:
    before = tenant.json("orders", "list")
    refused = tenant.sub("orders", "buy", "shared", "--cu", "1", "--months", "1")
    assert refused.returncode == 2, refused.stdout
    said = flat(refused.stderr)
    assert "--agree" in said and "rtc orders agreement" in said
    assert tenant.json("orders", "list") == before  # nothing was ordered
    shown = tenant.sub("orders", "agreement")
    assert shown.returncode == 0, shown.stderr
    assert "Service agreement" in shown.stdout and "服务协议" in shown.stdout
    payg = tenant.json(
        *("orders", "buy", "exclusive", "--agree", "--master-type", "4c16g", "--masters", "1"),
        *("--slave-type", "4c16g", "--slaves", "2", "--payg"),
    )
    # 3 machines of 4 cores at 0.30 per core and hour: the rate the meter records
    assert (payg["amount"], payg["hour"], payg["currency"]) == ("0.00", "3.60", "CNY")
    listed = {o["id"]: o for o in tenant.json("orders", "list")}
    assert listed[payg["id"]]["hour_cents"] == 360
    assert tenant.json("orders", "cancel", payg["id"])["state"] == "cancelled"


def test_exclusive_order_rules(tenant: Signed) -> None:
    two_masters = tenant.sub(
        "orders",
        "buy",
        "exclusive",
        "--agree",
        "--master-type",
        "4c16g",
        "--masters",
        "2",
        "--slave-type",
        "4c16g",
        "--slaves",
        "2",
        "--months",
        "1",
    )
    assert two_masters.returncode == 1, two_masters.stdout
    message = flat(two_masters.stderr)
    assert "InvalidParameter.Order" in message
    assert "a cluster has 1 master, or 3 for high availability; got 2" in message
    assert "Traceback" not in message
    exclusive = (
        "orders",
        "buy",
        "exclusive",
        "--agree",
        "--master-type",
        "4c16g",
        "--masters",
        "1",
    )
    slaves = ("--slave-type", "4c16g", "--slaves", "2")
    neither = tenant.run(*exclusive, *slaves)
    assert neither.exit_code == 2 and "exactly one of --months or --payg" in flat(neither.output)
    assert tenant.run(*exclusive, *slaves, "--months", "1", "--payg").exit_code == 2
    payg = tenant.json(*exclusive, *slaves, "--payg")
    assert (payg["billing"], payg["state"]) == ("payg", "pending_payment")
    assert tenant.json("orders", "cancel", payg["id"])["state"] != "pending_payment"


def test_zones_are_the_operators(tenant: Signed, operator: Signed) -> None:
    name = "zone_" + secrets.token_hex(3)
    refused = tenant.run("zones", "create", name, "--capacity", "4c16g=1")
    assert refused.exit_code == 1 and "rtc:CreateZone" in flat(refused.output)
    bad = operator.run("zones", "create", name, "--capacity", "4c16g")
    assert bad.exit_code == 2 and "TYPE=COUNT" in flat(bad.output)
    made = operator.json("zones", "create", name, "--capacity", "4c16g=10", "--capacity", "8c32g=4")
    assert made["capacity"] == {"4c16g": 10, "8c32g": 4} == made["remaining"]
    changed = operator.json("zones", "update", name, "--capacity", "4c16g=2")
    assert changed["capacity"] == {"4c16g": 2}
    listed = tenant.run("zones", "list")
    assert listed.exit_code == 0 and name in listed.stdout and "4c16g=2" in listed.stdout
    assert operator.run("zones", "delete", name).exit_code == 0
    assert name not in [z["name"] for z in tenant.json("zones", "list")]


def test_networks_buckets_and_objects(tenant: Signed, operator: Signed, tmp_path: Path) -> None:
    zone = "zone_" + secrets.token_hex(3)
    operator.json("zones", "create", zone, "--capacity", "4c16g=4")
    network = tenant.json("networks", "create", "vpc_objs", "--cidr", "10.8.0.0/16")
    assert network["subnets"] == 0
    subnet = tenant.json(
        "networks", "add-subnet", "vpc_objs", "vsw_a", "--cidr", "10.8.1.0/24", "--zone", zone
    )
    assert (subnet["zone"], subnet["free_addresses"]) == (zone, subnet["usable_addresses"])
    outside = tenant.run(
        "networks", "add-subnet", "vpc_objs", "vsw_b", "--cidr", "10.9.1.0/24", "--zone", zone
    )
    assert outside.exit_code == 1
    assert "vsw_a" in tenant.run("networks", "subnets", "vpc_objs").stdout
    assert tenant.json("networks", "show", "vpc_objs")["subnets"] == 1
    assert "vpc_objs" in tenant.run("networks", "list").stdout

    bucket = "objs-" + secrets.token_hex(4)
    made = tenant.json("buckets", "create", bucket)
    assert (made["storage_class"], made["acl"]) == ("standard", "private")
    content = bytes(range(256)) * 5
    source = tmp_path / "blob.bin"
    source.write_bytes(content)
    put = tenant.json("buckets", "put", bucket, "ckpt/1/blob.bin", str(source))
    assert (put["key"], put["size"]) == ("ckpt/1/blob.bin", len(content))
    tenant.json("buckets", "put", bucket, "other.txt", "-")
    listed = tenant.json("buckets", "ls", bucket, "--prefix", "ckpt/")
    assert [(o["key"], o["size"]) for o in listed] == [("ckpt/1/blob.bin", len(content))]
    assert "other.txt" in tenant.run("buckets", "ls", bucket).stdout
    target = tmp_path / "copy.bin"
    got = tenant.run("buckets", "get", bucket, "ckpt/1/blob.bin", "--output", str(target))
    assert got.exit_code == 0, got.output
    assert target.read_bytes() == content
    to_stdout = subprocess.run(
        [sys.executable, "-m", "rtcompute.main", "buckets", "get", bucket, "ckpt/1/blob.bin"],
        capture_output=True,
        env={**os.environ, "RTC_CONFIG_DIR": str(tenant.config_dir)},
        timeout=60,
    )
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert to_stdout.stdout == content
    missing = tenant.run("buckets", "get", bucket, "nope", "--output", str(tmp_path / "nope"))
    assert missing.exit_code == 1 and "NoSuchKey" in flat(missing.output)
    assert not (tmp_path / "nope").exists() and not (tmp_path / "nope.part").exists()
    escape = tenant.run("buckets", "put", bucket, "../escape", str(source))
    assert escape.exit_code == 1
    no_file = tenant.run("buckets", "put", bucket, "x", str(tmp_path / "absent"))
    assert no_file.exit_code == 2
    public = tenant.json("buckets", "update", bucket, "--acl", "public-read")
    assert public["acl"] == "public-read"
    assert tenant.run("buckets", "update", bucket).exit_code == 2
    assert tenant.json("buckets", "show", bucket)["acl"] == "public-read"
    not_empty = tenant.run("buckets", "delete", bucket)
    assert not_empty.exit_code == 1
    assert tenant.run("buckets", "rm", bucket, "ckpt/1/blob.bin").exit_code == 0
    assert tenant.run("buckets", "rm", bucket, "other.txt").exit_code == 0
    assert tenant.json("buckets", "ls", bucket) == []
    assert tenant.run("buckets", "delete", bucket).exit_code == 0
    assert bucket not in tenant.run("buckets", "list").stdout

    assert tenant.run("networks", "delete", "vpc_objs").exit_code == 1  # a subnet is left
    assert tenant.run("networks", "delete-subnet", "vpc_objs", "vsw_a").exit_code == 0
    assert tenant.run("networks", "delete", "vpc_objs").exit_code == 0
    assert operator.run("zones", "delete", zone).exit_code == 0


def test_cluster_create_wait_running_project_release(
    tenant: Signed, operator: Signed, server: LiveServer
) -> None:
    zone = "zone_" + secrets.token_hex(3)
    bucket = "ckpt-" + secrets.token_hex(4)
    operator.json("zones", "create", zone, "--capacity", "4c16g=6")
    tenant.json("networks", "create", "vpc_c", "--cidr", "10.20.0.0/16")
    tenant.json(
        "networks", "add-subnet", "vpc_c", "vsw_c", "--cidr", "10.20.1.0/24", "--zone", zone
    )
    tenant.json("buckets", "create", bucket)
    made: list[str] = []
    try:
        buy = ("orders", "buy", "exclusive", "--agree", "--master-type", "4c16g", "--masters", "1")
        order = tenant.json(
            *buy, "--slave-type", "4c16g", "--slaves", "2", "--months", "1", "--pay"
        )
        assert order["state"] == "paid"
        assert tenant.json("orders", "counts")["exclusive"] == 1
        place = ("--bucket", bucket, "--network", "vpc_c", "--subnet", "vsw_c", "--zone", zone)
        made.append("c_main")
        created = tenant.sub(
            "clusters",
            "create",
            "c_main",
            "--order",
            order["id"],
            *place,
            "--wait",
            "--timeout",
            "90",
        )
        assert created.returncode == 0, created.stderr
        assert "c_main starting: 0/3 nodes running" in created.stderr
        assert "c_main running: 3/3 nodes running" in created.stderr
        assert "running" in created.stdout and "agent" in created.stdout
        for column in ("node", "role", "type", "address", "component", "port", "pid", "restarts"):
            assert column in created.stdout, column
        cluster = tenant.json("clusters", "show", "c_main")
        assert cluster["state"] == "running" and cluster["usable_cu"] == 6
        assert [n["state"] for n in cluster["nodes"]] == ["running"] * 3
        pids = [c["pid"] for n in cluster["nodes"] for c in n["components"]]
        assert pids and all(pids)
        assert tenant.json("orders", "counts")["exclusive"] == 0
        assert "c_main" in tenant.run("clusters", "list").stdout

        inside = tenant.json("projects", "create", "in_main", "--cluster", "c_main", "--cu", "4")
        assert (inside["mode"], inside["cluster"], inside["cu"]) == ("exclusive", "c_main", 4)
        too_big = tenant.run("projects", "update", "in_main", "--cu", "7")
        assert too_big.exit_code == 1
        assert tenant.json("projects", "update", "in_main", "--cu", "5")["cu"] == 5
        held = tenant.sub("clusters", "release", "c_main", "--yes")
        assert held.returncode == 1 and "ClusterHasProjects" in flat(held.stderr)
        noted = tenant.json("clusters", "update", "c_main", "--description", "main")
        assert noted["description"] == "main"
        renewal = tenant.json("clusters", "renew", "c_main", "--months", "1")
        assert (renewal["purpose"], renewal["state"]) == ("renew", "pending_payment")
        tenant.json("orders", "cancel", renewal["id"])
        assert tenant.run("projects", "delete", "in_main", "--yes").exit_code == 0

        # a second cluster that the caller stops waiting for: exit 1, the cluster goes on
        second = tenant.json(
            *buy, "--slave-type", "4c16g", "--slaves", "2", "--months", "1", "--pay"
        )
        made.append("c_late")
        late = tenant.run(
            "clusters",
            "create",
            "c_late",
            "--order",
            second["id"],
            *place,
            "--wait",
            "--timeout",
            "0",
        )
        assert late.exit_code == 1 and "gave up after 0 s" in flat(late.stderr)

        for name in list(made):
            released = tenant.run("clusters", "release", name, "--yes", "--wait", "--timeout", "60")
            assert released.exit_code == 0, released.output
            assert f"{name} released: 0 nodes left" in released.stderr
            made.remove(name)
        assert processes_under(server.data_dir / "clusters") == []
    finally:
        for name in made:
            tenant.run("clusters", "release", name, "--yes", "--wait", "--timeout", "60")
        tenant.run("buckets", "delete", bucket)
        tenant.run("networks", "delete-subnet", "vpc_c", "vsw_c")
        tenant.run("networks", "delete", "vpc_c")


def test_placement_says_which_zones_and_subnets_hold_an_order(
    server: LiveServer, operator: Signed, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`rtc networks placement`: the cluster wizard's step 3 on the command line. Its own
    account, so that the paid order it leaves unused is no other test's count."""
    alias = "place-" + secrets.token_hex(4)
    answer = httpx.post(
        server.url + "/api/v1/signup", json={"alias": alias, "password": PASSWORD}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    buyer = sign_in(server, tmp_path_factory.mktemp("placement"), alias, PASSWORD)
    roomy, full = "zone_" + secrets.token_hex(3), "zone_" + secrets.token_hex(3)
    operator.json("zones", "create", roomy, "--capacity", "4c16g=6")
    operator.json("zones", "create", full, "--capacity", "4c16g=1")
    try:
        buyer.json("networks", "create", "vpc_p", "--cidr", "10.30.0.0/16")
        for name, cidr, zone in (
            ("vsw_ok", "10.30.1.0/24", roomy),
            ("vsw_tiny", "10.30.2.0/29", roomy),  # /29: 4 usable addresses for 5 nodes
            ("vsw_full", "10.30.3.0/24", full),
        ):
            subnet = ("networks", "add-subnet", "vpc_p", name, "--cidr", cidr, "--zone", zone)
            made = buyer.run(*subnet)
            assert made.exit_code == 0, made.output
        buy = ("orders", "buy", "exclusive", "--agree", "--master-type", "4c16g", "--masters", "1")
        order = buyer.json(*buy, "--slave-type", "4c16g", "--slaves", "4", "--months", "1", "--pay")
        assert order["state"] == "paid"

        options = buyer.json("networks", "placement", "vpc_p", "--order", order["id"])
        assert (options["order_id"], options["network"]) == (order["id"], "vpc_p")
        assert (options["addresses_needed"], options["nodes_needed"]) == (5, {"4c16g": 5})
        zones = {z["name"]: z for z in options["zones"]}
        assert (zones[roomy]["fits"], zones[roomy]["reason"]) == (True, None)
        assert zones[full]["fits"] is False
        assert zones[full]["code"] == "ZoneCapacityExceeded"
        assert f"zone {full} can place 1 more 4c16g nodes but 5 are needed" in zones[full]["reason"]
        subnets = {s["name"]: s for s in options["subnets"]}
        assert set(subnets) == {"vsw_ok", "vsw_tiny", "vsw_full"}
        assert subnets["vsw_ok"]["fits"] is True
        assert subnets["vsw_tiny"]["code"] == "SubnetAddressesExhausted"
        assert "has 4 free addresses but 5 are needed" in subnets["vsw_tiny"]["reason"]
        assert subnets["vsw_full"]["fits"] is False  # its zone has no room

        table = buyer.run("networks", "placement", "vpc_p", "--order", order["id"])
        assert table.exit_code == 0, table.output
        shown = flat(table.stdout)
        assert f"order {order['id']} needs 4c16g x 5 and 5 addresses" in shown
        for column in ("kind", "name", "zone", "room", "fits", "reason"):
            assert column in shown, column
        rows = {
            line.split("│")[2].strip(): line
            for line in table.stdout.splitlines()
            if line.count("│") >= 6
        }
        assert "yes" in rows["vsw_ok"] and "no" in rows["vsw_tiny"]
        assert "4c16g: 6 left" in rows[roomy] and "4c16g: 1 left" in rows[full]
        assert "ZoneCapacityExceeded" not in shown  # the reason in words, not the code

        # a Chinese locale gets the reasons in Chinese, as it gets errors
        chinese = buyer.run(
            "networks",
            "placement",
            "vpc_p",
            "--order",
            order["id"],
            "-o",
            "json",
            env={"LC_ALL": "zh_CN.UTF-8"},
        )
        assert chinese.exit_code == 0, chinese.output
        reasons = {z["name"]: z["reason"] for z in json.loads(chinese.stdout)["zones"]}
        assert f"可用区 {full} 还能放置 1 个 4c16g 节点" in reasons[full]

        unknown = buyer.sub("networks", "placement", "vpc_p", "--order", "999999")
        assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
        assert "999999" in flat(unknown.stderr)
        missing = buyer.sub("networks", "placement", "vpc_p")
        assert missing.returncode == 2 and "--order" in flat(missing.stderr)
    finally:
        for name in ("vsw_ok", "vsw_tiny", "vsw_full"):
            buyer.run("networks", "delete-subnet", "vpc_p", name)
        buyer.run("networks", "delete", "vpc_p")
        operator.run("zones", "delete", roomy)
        operator.run("zones", "delete", full)


def test_ram_users_do_not_buy(tenant: Signed, tmp_path: Path) -> None:
    assert tenant.json("ram", "users", "create", "buyer")["name"] == "buyer"
    admin = ("--user", "buyer", "--type", "System", "AdministratorAccess")
    assert tenant.run("ram", "attach", *admin).exit_code == 0
    secret = tenant.json("ram", "users", "access-keys", "create", "buyer")
    env = {
        "RTC_ENDPOINT": tenant.server.url,
        "RTC_ACCESS_KEY_ID": secret["id"],
        "RTC_ACCESS_KEY_SECRET": secret["secret"],
    }
    bought = rtc(
        tmp_path, "orders", "buy", "shared", "--agree", "--cu", "1", "--months", "1", env=env
    )
    assert bought.returncode == 1 and "Forbidden.MainAccountOnly" in flat(bought.stderr)
    seen = rtc(tmp_path, "orders", "list", "-o", "json", env=env)
    assert seen.returncode == 0, seen.stderr
    keys = ("ram", "users", "access-keys")
    assert tenant.run(*keys, "delete", "buyer", secret["id"]).exit_code == 0
    assert tenant.run("ram", "detach", *admin).exit_code == 0
    assert tenant.run("ram", "users", "delete", "buyer").exit_code == 0


def test_help_and_docs_cover_every_capacity_command(tmp_path: Path) -> None:
    top = rtc(tmp_path, "--help")
    for name in GROUPS:
        assert name in top.stdout, name
    docs = (ROOT / "docs" / "cli.md").read_text()
    seen = 0
    for path, command in _leaves(get_command(main.build_app())):
        if path[:1] not in tuple((g,) for g in GROUPS):
            continue
        assert (getattr(command, "help", None) or "").strip(), f"rtc {' '.join(path)} has no help"
        for param in getattr(command, "params", []):
            if param.name != "help":
                assert (getattr(param, "help", None) or "").strip(), (path, param.name)
        assert f"rtc {' '.join(path)}" in docs, f"docs/cli.md lacks rtc {' '.join(path)}"
        seen += 1
    assert seen >= 50
