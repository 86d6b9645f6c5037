"""`rtc engines / clusters versions / pool versions / sql` against a live `rtc up` with its
reconcilers, real engines and a running cluster (1 master + 2 slaves): the guide's chapter 7
as a user types it.

The server's engines home already holds a ready flink-2.2.1 (installing it adopts that copy);
flink-1.20.5 is installed for real from the wheelhouse, the one real install of this file,
and its `--wait` progress is what a user sees on stderr. The syntax checks run on the real
warm workers of those versions.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from typer.main import get_command

from rtcompute import main
from rtcompute.cli import engine_versions
from tests import ports
from tests.conftest import PASSWORD, LiveServer, start_server, stop_server
from tests.e2e.test_cli import rtc
from tests.e2e.test_cli_capacity import Signed, sign_in
from tests.e2e.test_cli_ram import _leaves, flat
from tests.integration.test_cluster_reconciler import kill_all_under

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
V2, V1, BETA, ABSENT = "flink-2.2.1", "flink-1.20.5", "flink-2.3.0", "flink-2.1.3"
GROUPS = ("engines", "pool", "sql")
SCRIPT = """CREATE TABLE src (
  id BIGINT,
  name STRING
) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE snk (id BIGINT, name STRING) WITH ('connector' = 'blackhole');
INSERT INTO snk
SELECT id, name FROM src WHERE id > 0;
"""
# line 7 lacks the comparison's right side: Flink reports `> AND` at column 35
BROKEN = SCRIPT.replace("WHERE id > 0;", "WHERE id > AND name = 'x';")


@pytest.fixture
def world(
    tmp_path: Path, engine_home_with: Callable[[list[str]], Path], engine_wheelhouse: Path
) -> Iterator[LiveServer]:
    """A server whose engines home has a ready flink-2.2.1 only, and the wheelhouse."""
    home = engine_home_with([V2])
    assert not (home / V1).exists()
    env = {
        "RTC_ENGINES__HOME": str(home),
        "RTC_ENGINE_WHEELHOUSE": str(engine_wheelhouse),
        **ports.node_env(),
    }
    data_dir = tmp_path / "data"
    server = start_server(data_dir, env)
    try:
        yield server
    finally:
        stop_server(server)
        kill_all_under(data_dir)
        kill_all_under(home)


def running_cluster(tenant: Signed, operator: Signed, name: str) -> None:
    """A running cluster of 1 master and 2 slaves, made through the CLI."""
    zone = "zone_" + secrets.token_hex(3)
    operator.json("zones", "create", zone, "--capacity", "4c16g=3")
    assert tenant.json("ram", "service-role", "authorize")["authorized"] is True
    tenant.json("networks", "create", "vpc_e", "--cidr", "10.40.0.0/16")
    tenant.json(
        "networks", "add-subnet", "vpc_e", "vsw_e", "--cidr", "10.40.1.0/24", "--zone", zone
    )
    bucket = "eng-" + secrets.token_hex(4)
    tenant.json("buckets", "create", bucket)
    order = tenant.json(
        *("orders", "buy", "exclusive", "--agree", "--master-type", "4c16g", "--masters", "1"),
        *("--slave-type", "4c16g", "--slaves", "2", "--months", "1", "--pay"),
    )
    place = ("--bucket", bucket, "--network", "vpc_e", "--subnet", "vsw_e", "--zone", zone)
    made = tenant.run(
        "clusters", "create", name, "--order", order["id"], *place, "--wait", "--timeout", "90"
    )
    assert made.exit_code == 0, made.output


def signed_tenant(server: LiveServer, config_dir: Path) -> Signed:
    alias = "eng-" + secrets.token_hex(4)
    answer = httpx.post(
        server.url + "/api/v1/signup", json={"alias": alias, "password": PASSWORD}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    return sign_in(server, config_dir, alias, PASSWORD)


def test_versions_and_sql_checks_through_the_cli(
    world: LiveServer, engine_wheelhouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    operator = sign_in(world, tmp_path / "operator", world.account, world.password)
    tenant = signed_tenant(world, tmp_path / "tenant")

    # the catalog: tags, the default, and a version past its end of service flagged
    catalog = tenant.json("engines", "catalog")
    names = [e["name"] for e in catalog]
    assert {V2, V1, BETA, ABSENT} <= set(names)
    assert [e["name"] for e in catalog if e["default"]] == [V2]
    retire = ("--tag", "none", "--released-on", "2024-01-02", "--end-of-service", "2025-01-02")
    changed = operator.json("engines", "set", "flink-2.0.2", *retire, "--notes", "old")
    assert (changed["retired"], changed["end_of_service"], changed["listed"]) == (
        True,
        "2025-01-02",
        True,
    )
    refused = tenant.run("engines", "set", "flink-2.0.2", *retire)
    assert refused.exit_code == 1 and "Forbidden" in flat(refused.output)
    shown = tenant.run("engines", "catalog")
    assert shown.exit_code == 0, shown.output
    retired_row = next(line for line in shown.stdout.splitlines() if "flink-2.0.2" in line)
    assert "RETIRED" in retired_row and "2025-01-02" in retired_row
    default_row = next(line for line in shown.stdout.splitlines() if V2 in line)
    assert "default" in default_row and "stable" in default_row
    assert "beta" in next(line for line in shown.stdout.splitlines() if BETA in line)
    assert "retired: past its end of service" in flat(shown.stdout)

    running_cluster(tenant, operator, "c_cli")
    versions = ("clusters", "versions")

    # flink-2.2.1: the machine's ready copy is adopted; the first version becomes current
    adopted = tenant.run(*versions, "install", "c_cli", V2, "--wait", "--timeout", "120")
    assert adopted.exit_code == 0, adopted.output
    assert f"{V2} installed; cluster c_cli:" in adopted.stderr
    assert "installed" in adopted.stdout and "current" in adopted.stdout

    # flink-1.20.5: a real install from the wheelhouse, followed with --wait
    real = tenant.run(*versions, "install", "c_cli", V1, "--wait", "--timeout", "600")
    assert real.exit_code == 0, real.output
    progress = real.stderr.splitlines()
    assert any(line.startswith(f"{V1} installing ") and "%" in line for line in progress), (
        real.stderr
    )
    assert any(line.endswith("; cluster c_cli: deploying") for line in progress), real.stderr
    assert progress[-1].startswith(f"{V1} installed; cluster c_cli:"), real.stderr
    assert tenant.json("clusters", "show", "c_cli")["state"] == "running"
    listed = {v["version"]: v for v in tenant.json(*versions, "list", "c_cli")}
    assert listed[V2]["current"] and not listed[V1]["current"]
    assert listed[V1]["state"] == "installed"
    table = tenant.run(*versions, "list", "c_cli")
    assert table.exit_code == 0
    assert "current" in next(line for line in table.stdout.splitlines() if V2 in line)

    again = tenant.sub(*versions, "install", "c_cli", V2)
    assert again.returncode == 1
    assert f"VersionAlreadyInstalled: {V2} already installed" in flat(again.stderr)

    # beta: no question possible and no --yes -> refused, nothing installed
    beta = tenant.sub(*versions, "install", "c_cli", BETA)
    assert beta.returncode == 1, beta.stdout
    assert "BetaNotConfirmed" in flat(beta.stderr)
    assert "run it again with --yes" in flat(beta.stderr)
    # at a terminal it asks; "n" keeps it off the cluster
    monkeypatch.setattr(engine_versions, "interactive", lambda: True)
    declined = tenant.run(*versions, "install", "c_cli", BETA, stdin="n\n")
    assert declined.exit_code == 1, declined.output
    assert "Install anyway? [y/N]" in declined.output and "not installed" in declined.output
    assert BETA not in [v["version"] for v in tenant.json(*versions, "list", "c_cli")]
    # --yes confirms up front; the wheelhouse has no flink-2.3.0, so the install fails (fast):
    # --wait prints why and exits 1, the cluster runs on with its versions
    assert not list(engine_wheelhouse.glob("apache_flink-2.3.0*"))
    failed = tenant.run(*versions, "install", "c_cli", BETA, "--yes", "--wait", "--timeout", "300")
    assert failed.exit_code == 1, failed.output
    assert f"installing {BETA} failed: " in flat(failed.stderr)
    assert tenant.json("clusters", "show", "c_cli")["state"] == "running"
    states = {v["version"]: v["state"] for v in tenant.json(*versions, "list", "c_cli")}
    assert states == {V2: "installed", V1: "installed", BETA: "failed"}

    # SQL checks on the project's engine (the cluster's current version, flink-2.2.1)
    tenant.json("projects", "create", "p_cli", "--cluster", "c_cli", "--cu", "2")
    good, bad = tmp_path / "good.sql", tmp_path / "bad.sql"
    good.write_text(SCRIPT)
    bad.write_text(BROKEN)
    valid = tenant.sub("sql", "validate", str(good), "--project", "p_cli")
    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.startswith(f"OK ({V2}, ") and valid.stdout.rstrip().endswith(" ms)")
    broken = tenant.sub("sql", "validate", str(bad), "--project", "p_cli")
    assert broken.returncode == 4, (broken.stdout, broken.stderr)
    first = broken.stdout.splitlines()[0]
    assert first.startswith(f"{bad}:7:35: ") and "AND" in first, broken.stdout
    piped = tenant.run("sql", "validate", "-", "--project", "p_cli", "--engine", V1, stdin=BROKEN)
    assert piped.exit_code == 4 and piped.stdout.startswith("<stdin>:7:"), piped.output
    as_json = tenant.run("sql", "validate", str(bad), "--project", "p_cli", "-o", "json")
    assert as_json.exit_code == 4
    assert json.loads(as_json.stdout)["problems"][0]["line"] == 7
    missing = tenant.sub("sql", "validate", str(good), "--project", "p_cli", "--engine", ABSENT)
    assert missing.returncode == 1
    message = flat(missing.stderr)
    assert "30006" in message and "engine script not exist, please check engine version" in message
    plan = tenant.sub("sql", "explain", str(good), "--project", "p_cli")
    assert plan.returncode == 0, plan.stderr
    assert "snk" in plan.stdout and "src" in plan.stdout
    no_file = tenant.run("sql", "validate", str(tmp_path / "absent.sql"), "--project", "p_cli")
    assert no_file.exit_code == 2

    # set current; the current version cannot be uninstalled; another one can
    switched = tenant.json(*versions, "set-current", "c_cli", V1)
    assert switched["current"] is True
    current = tenant.sub(*versions, "uninstall", "c_cli", V1)
    assert current.returncode == 1
    assert (
        f"VersionIsCurrent: {V1} is the current version; set another version as current first"
        in flat(current.stderr)
    )
    gone = tenant.json(*versions, "uninstall", "c_cli", V2)
    assert gone["version"] == V2
    left = tenant.json(*versions, "list", "c_cli")
    assert [v["version"] for v in left if v["state"] == "installed"] == [V1]
    not_there = tenant.run(*versions, "set-current", "c_cli", V2)
    assert not_there.exit_code == 1 and "VersionNotInstalled" in flat(not_there.output)

    # the shared pool: the operator's; nothing installed there on this server
    pool = operator.run("pool", "versions", "list")
    assert pool.exit_code == 0, pool.output
    assert "version" in pool.stdout and "state" in pool.stdout
    assert operator.json("pool", "versions", "list") == []
    monkeypatch.setattr(engine_versions, "interactive", lambda: False)
    pool_beta = operator.run("pool", "versions", "install", BETA)
    assert pool_beta.exit_code == 1 and "BetaNotConfirmed" in flat(pool_beta.output)
    tenant_writes = tenant.run("pool", "versions", "install", V2)
    assert tenant_writes.exit_code == 1 and "Forbidden" in flat(tenant_writes.output)

    assert tenant.run("projects", "delete", "p_cli", "--yes").exit_code == 0
    released = tenant.run("clusters", "release", "c_cli", "--yes", "--wait", "--timeout", "60")
    assert released.exit_code == 0, released.output


def test_help_and_docs_cover_every_engine_command(tmp_path: Path) -> None:
    top = rtc(tmp_path, "--help")
    for name in GROUPS:
        assert name in top.stdout, name
    docs = (ROOT / "docs" / "cli.md").read_text()
    seen = 0
    for path, command in _leaves(get_command(main.build_app())):
        if path[:1] not in tuple((g,) for g in GROUPS) and path[:2] != ("clusters", "versions"):
            continue
        assert (getattr(command, "help", None) or "").strip(), f"rtc {' '.join(path)} has no help"
        for param in getattr(command, "params", []):
            if param.name != "help":
                assert (getattr(param, "help", None) or "").strip(), (path, param.name)
        assert f"rtc {' '.join(path)}" in docs, f"docs/cli.md lacks rtc {' '.join(path)}"
        seen += 1
    assert seen >= 15
