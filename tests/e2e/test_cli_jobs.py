"""`rtc folders` and `rtc jobs` against a live `rtc up`: folders, drafts and their revisions
(edit, diff, restore), the read-only paths of a job that never went online, and, on a server
whose shared pool has a real flink-2.2.1, the syntax check (`NAME.sql:LINE:COLUMN`, exit 4),
going online, and a start the project's CU cannot hold (JobQuotaExceeded).

Nothing here runs a Flink job: the refused start stops before the reconciler acts; starting,
stopping and watching a real job are the lead's tests (tests/integration, tests/e2e of jobs).
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
from tests.conftest import PASSWORD, LiveServer, start_server, stop_server
from tests.e2e.test_cli import rtc
from tests.e2e.test_cli_capacity import Signed, sign_in
from tests.e2e.test_cli_engines import BROKEN, SCRIPT
from tests.e2e.test_cli_ram import _leaves, flat
from tests.integration.test_cluster_reconciler import kill_all_under

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
V2 = "flink-2.2.1"
GROUPS = ("folders", "jobs")
FIRST = "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\n"
SECOND = FIRST + "CREATE TABLE b (x INT) WITH ('connector' = 'blackhole');\n"


def shared_project(server: LiveServer, config_dir: Path, project: str, cu: int) -> Signed:
    """A new tenant with a shared project of `cu` CU (no cluster needed)."""
    alias = "job-" + secrets.token_hex(4)
    answer = httpx.post(
        server.url + "/api/v1/signup", json={"alias": alias, "password": PASSWORD}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    tenant = sign_in(server, config_dir, alias, PASSWORD)
    assert tenant.json("ram", "service-role", "authorize")["authorized"] is True
    order = tenant.json(
        "orders", "buy", "shared", "--agree", "--cu", str(cu), "--months", "1", "--pay"
    )
    tenant.json("projects", "create", project, "--order", order["id"])
    return tenant


def test_folders_drafts_revisions_and_a_job_that_never_went_online(
    live_server: LiveServer, tmp_path: Path
) -> None:
    tenant = shared_project(live_server, tmp_path / "tenant", "p_jobs", 2)
    p = ("--project", "p_jobs")

    # folders
    assert tenant.json("folders", "list", *p) == {"folders": ["/"]}
    assert tenant.json("folders", "create", "/etl", *p) == {"folders": ["/etl"]}
    tenant.json("folders", "create", "/etl/daily", *p)
    moved = tenant.json("folders", "move", "/etl/daily", "/etl/hourly", *p)
    assert moved == {"folders": ["/etl/hourly"]}
    table = tenant.run("folders", "list", *p)
    assert table.exit_code == 0 and "/etl/hourly" in table.stdout, table.output
    orphan = tenant.run("folders", "create", "/nope/x", *p)
    assert orphan.exit_code == 1 and "FolderNotFound" in flat(orphan.output), orphan.output

    # a draft from a file, settings from the options and a settings file
    first, second = tmp_path / "first.sql", tmp_path / "second.sql"
    first.write_text(FIRST)
    second.write_text(SECOND)
    extra = tmp_path / "settings.json"
    extra.write_text(json.dumps({"checkpoint_mode": "at_least_once"}))
    made = tenant.json(
        *("jobs", "create", "orders_etl", *p, "--folder", "/etl", "--file", str(first)),
        *("--parallelism", "2", "--set", "table.exec.mini-batch.enabled=true"),
        *("--settings-file", str(extra), "--description", "orders"),
    )
    assert (made["revision"], made["state"], made["folder"]) == (1, "draft", "/etl")
    assert made["settings"]["parallelism"] == 2
    assert made["settings"]["checkpoint_mode"] == "at_least_once"
    assert made["settings"]["flink_config"] == {"table.exec.mini-batch.enabled": "true"}
    listed = tenant.run("jobs", "list", *p)
    assert listed.exit_code == 0 and "orders_etl" in listed.stdout and "draft" in listed.stdout
    assert [j["name"] for j in tenant.json("jobs", "list", *p, "--folder", "/etl/hourly")] == []
    shown = tenant.run("jobs", "show", "orders_etl", *p, "--sql")
    assert shown.exit_code == 0 and shown.stdout == FIRST
    described = tenant.run("jobs", "show", "orders_etl", *p)
    assert described.exit_code == 0, described.output
    assert "table.exec.mini-batch.enabled=true" in flat(described.stdout)

    # every save is a revision; --set joins the job's flink_config
    saved = tenant.run("jobs", "edit", "orders_etl", *p, "--file", str(second), "-m", "sink b")
    assert saved.exit_code == 0, saved.output
    assert "saved as revision 2" in saved.stderr
    tuned = tenant.json(
        *("jobs", "edit", "orders_etl", *p, "--parallelism", "3", "--checkpoint-interval", "30"),
        *("--set", "pipeline.name=orders"),
    )
    assert tuned["revision"] == 3
    assert tuned["settings"]["flink_config"] == {
        "table.exec.mini-batch.enabled": "true",
        "pipeline.name": "orders",
    }
    assert tuned["settings"]["checkpoint_interval_seconds"] == 30
    same = tenant.run("jobs", "edit", "orders_etl", *p, "--file", str(second))
    assert same.exit_code == 0 and "no change: revision 3" in same.stderr, same.output
    refused = tenant.run("jobs", "edit", "orders_etl", *p, "--set", "jobmanager.rpc.port=1")
    assert refused.exit_code == 1 and "InvalidParameter.JobSettings" in flat(refused.output)
    revisions = tenant.json("jobs", "revisions", "orders_etl", *p)
    assert [r["number"] for r in revisions] == [3, 2, 1]
    assert revisions[1]["message"] == "sink b"
    history = tenant.run("jobs", "revisions", "orders_etl", *p)
    assert history.exit_code == 0 and "sink b" in history.stdout
    diff = tenant.run("jobs", "diff", "orders_etl", "1", "2", *p)
    assert diff.exit_code == 0, diff.output
    assert "+CREATE TABLE b (x INT) WITH ('connector' = 'blackhole');" in diff.stdout
    as_json = tenant.json("jobs", "diff", "orders_etl", "1", "2", *p)["diff"]
    assert as_json.rstrip("\n") == diff.stdout.rstrip("\n")
    old = tenant.run("jobs", "show", "orders_etl", *p, "--revision", "1", "--sql")
    assert old.exit_code == 0 and old.stdout == FIRST
    restored = tenant.run("jobs", "restore", "orders_etl", "1", *p)
    assert restored.exit_code == 0, restored.output
    assert "revision 1 restored as revision 4" in restored.stderr
    assert tenant.run("jobs", "show", "orders_etl", *p, "--sql").stdout == FIRST
    no_revision = tenant.run("jobs", "restore", "orders_etl", "9", *p)
    assert no_revision.exit_code == 1 and "RevisionNotFound" in flat(no_revision.output)

    # usage mistakes: exit 2, nothing sent
    both = tenant.run("jobs", "edit", "orders_etl", *p, "--file", str(first), "--sql", "x")
    assert both.exit_code == 2 and "not both" in flat(both.output)
    assert tenant.run("jobs", "edit", "orders_etl", *p).exit_code == 2
    assert tenant.run("jobs", "edit", "orders_etl", *p, "--set", "novalue").exit_code == 2
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{")
    not_json = tenant.run("jobs", "create", "x1", *p, "--settings-file", str(bad_json))
    assert not_json.exit_code == 2 and "is not JSON" in flat(not_json.output)

    # rename and move; the folder is no longer empty
    assert tenant.json("jobs", "rename", "orders_etl", "orders", *p)["name"] == "orders"
    assert tenant.json("jobs", "move", "orders", "/etl/hourly", *p)["folder"] == "/etl/hourly"
    busy = tenant.run("folders", "delete", "/etl/hourly", *p)
    assert busy.exit_code == 1 and "FolderNotEmpty" in flat(busy.output)

    # a job that never went online: the online-only paths say so
    status = tenant.sub("jobs", "status", "orders", *p)
    assert status.returncode == 1
    assert "JobNotOnline: job orders is not online" in flat(status.stderr), status.stderr
    start = tenant.run("jobs", "start", "orders", *p)
    assert start.exit_code == 1 and "JobNotOnline" in flat(start.output)
    logs = tenant.run("jobs", "logs", "orders", *p)
    assert logs.exit_code == 1 and "JobLogsNotFound" in flat(logs.output)
    assert tenant.json("jobs", "savepoints", "orders", *p) == []
    assert tenant.json("jobs", "metrics", "orders", *p) == []
    events = tenant.run("jobs", "events", "orders", *p)
    assert events.exit_code == 0 and "kind" in events.stdout
    mode = tenant.run("jobs", "start", "orders", *p, "--mode", "savepoint")
    assert mode.exit_code == 2 and "--savepoint" in flat(mode.output)
    missing = tenant.run("jobs", "show", "absent", *p)
    assert missing.exit_code == 1 and "JobNotFound" in flat(missing.output)

    # alert rules: set, show, clear
    rules = tenant.json(
        *("jobs", "alerts", "orders", *p, "--failed", "--restarts", "3", "--window", "300")
    )
    assert rules == [
        {"kind": "failed", "threshold": 0, "window_seconds": 300},
        {"kind": "restarts", "threshold": 3, "window_seconds": 300},
    ]
    assert tenant.json("jobs", "alerts", "orders", *p) == rules
    narrow = tenant.run("jobs", "alerts", "orders", *p, "--restarts", "1", "--window", "10")
    assert narrow.exit_code == 1 and "InvalidParameter.Window" in flat(narrow.output)
    assert tenant.json("jobs", "alerts", "orders", *p, "--clear") == []

    # delete: the job, then its folders
    assert tenant.json("jobs", "delete", "orders", *p) == {"deleted": "orders"}
    assert tenant.json("jobs", "list", *p) == []
    tenant.json("folders", "delete", "/etl/hourly", *p)
    assert tenant.json("folders", "delete", "/etl", *p) == {"deleted": "/etl"}
    assert tenant.json("folders", "list", *p) == {"folders": ["/"]}


@pytest.fixture
def pool_world(
    tmp_path: Path, engine_home_with: Callable[[list[str]], Path]
) -> Iterator[LiveServer]:
    """A server whose engines home has a ready flink-2.2.1 (the pool adopts it)."""
    home = engine_home_with([V2])
    data_dir = tmp_path / "data"
    server = start_server(data_dir, {"RTC_ENGINES__HOME": str(home)})
    try:
        yield server
    finally:
        stop_server(server)
        kill_all_under(data_dir)
        kill_all_under(home)


def test_check_publish_and_a_start_over_quota(pool_world: LiveServer, tmp_path: Path) -> None:
    operator = sign_in(pool_world, tmp_path / "operator", pool_world.account, pool_world.password)
    installed = operator.run("pool", "versions", "install", V2, "--wait", "--timeout", "120")
    assert installed.exit_code == 0, installed.output
    tenant = shared_project(pool_world, tmp_path / "tenant", "p_pool", 2)
    p = ("--project", "p_pool")
    broken = tmp_path / "broken.sql"
    broken.write_text(BROKEN)
    made = tenant.json("jobs", "create", "q", *p, "--file", str(broken), "--parallelism", "2")
    assert made["state"] == "draft"

    # the syntax check on the pool's warm worker: compiler-style lines, exit 4
    checked = tenant.sub("jobs", "validate", "q", *p)
    assert checked.returncode == 4, (checked.stdout, checked.stderr)
    first = checked.stdout.splitlines()[0]
    assert first.startswith("q.sql:7:35: ") and "AND" in first, checked.stdout
    as_json = tenant.run("jobs", "validate", "q", *p, "-o", "json")
    assert as_json.exit_code == 4 and json.loads(as_json.stdout)["problems"][0]["line"] == 7
    refused = tenant.sub("jobs", "publish", "q", *p)
    assert refused.returncode == 4, (refused.stdout, refused.stderr)
    assert refused.stdout.startswith("q.sql:7:35: "), refused.stdout
    assert "JobCheckFailed" in flat(refused.stderr)

    # fixed: OK, the plan, online (a shared project names its state bucket)
    good = tmp_path / "good.sql"
    good.write_text(SCRIPT)
    tenant.run("jobs", "edit", "q", *p, "--file", str(good), "-m", "fixed")
    valid = tenant.sub("jobs", "validate", "q", *p)
    assert valid.returncode == 0 and valid.stdout.startswith(f"OK ({V2}, "), valid.stdout
    plan = tenant.sub("jobs", "explain", "q", *p)
    assert plan.returncode == 0 and "snk" in plan.stdout, plan.stderr
    no_bucket = tenant.run("jobs", "publish", "q", *p)
    assert no_bucket.exit_code == 1 and "JobStateBucketRequired" in flat(no_bucket.output)
    bucket = "jobs-" + secrets.token_hex(4)
    tenant.json("buckets", "create", bucket)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"state_bucket": bucket}))
    tenant.json("jobs", "edit", "q", *p, "--settings-file", str(state))
    online = tenant.json("jobs", "publish", "q", *p)
    assert (online["state"], online["cu"], online["engine_version"]) == ("online", 2.25, V2)
    status = tenant.run("jobs", "status", "q", *p)
    assert status.exit_code == 0 and "online" in status.stdout

    # 2 CU of parallelism + 0.25 for the JobManager do not fit a 2-CU project
    over = tenant.sub("jobs", "start", "q", *p, "--wait")
    assert over.returncode == 1, (over.stdout, over.stderr)
    message = flat(over.stderr)
    assert "JobQuotaExceeded: job q needs 2.25 CU" in message, message
    assert "project p_pool has 2 CU free of 2" in message, message
    assert tenant.json("jobs", "status", "q", *p)["state"] == "online"

    # offline: status says the job is not online any more; the draft stays
    assert tenant.json("jobs", "offline", "q", *p) == {"offline": "q"}
    gone = tenant.run("jobs", "status", "q", *p)
    assert gone.exit_code == 1 and "JobNotOnline" in flat(gone.output)
    assert tenant.json("jobs", "show", "q", *p)["state"] == "offline"


def test_help_and_docs_cover_every_jobs_command(tmp_path: Path) -> None:
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
    assert seen >= 30
