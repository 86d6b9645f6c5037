"""The pure rules of jobs: settings parsing, CU, the declared actions and moves, folder paths
(domain/jobs.py); what a job's SQL may point at (domain/jobpaths.py); where its Flink
processes go (domain/job_placement.py)."""

from __future__ import annotations

import re

import pytest

from rtcompute import errors
from rtcompute.domain import flinkconf, jobpaths, names, sqlscript
from rtcompute.domain import job_placement as placement
from rtcompute.domain import jobs as job_rules

# ---------------------------------------------------------------- settings


def test_default_settings_round_trip() -> None:
    parsed = job_rules.parse_settings(None)
    assert parsed == job_rules.JobSettings()
    assert job_rules.parse_settings(parsed.as_dict()) == parsed
    # a bounded default: Flink gives up after too many failures in a window (docs/jobs.md)
    assert parsed.as_dict()["restart"]["type"] == "failure-rate"


def test_a_partial_update_keeps_the_rest() -> None:
    base = job_rules.parse_settings({"parallelism": 4, "state_bucket": "acme-state"})
    changed = job_rules.parse_settings({"checkpoint_mode": "at_least_once"}, base)
    assert (changed.parallelism, changed.checkpoint_mode, changed.state_bucket) == (
        4,
        "at_least_once",
        "acme-state",
    )
    restart = job_rules.parse_settings({"restart": {"type": "fixed-delay", "attempts": 3}}, base)
    assert (restart.restart.type, restart.restart.attempts, restart.parallelism) == (
        "fixed-delay",
        3,
        4,
    )


@pytest.mark.parametrize(
    ("raw", "field", "says"),
    [
        ({"parallelism": 0}, "parallelism", "from 1 to 256"),
        ({"parallelism": 257}, "parallelism", "from 1 to 256"),
        ({"parallelism": True}, "parallelism", "whole number"),
        ({"parallelism": 1.5}, "parallelism", "whole number"),
        ({"parallelism": "2"}, "parallelism", "whole number"),
        ({"checkpoint_interval_seconds": 0}, "checkpoint_interval_seconds", "from 1"),
        ({"checkpoint_mode": "twice"}, "checkpoint_mode", "exactly_once, at_least_once"),
        ({"state_ttl_seconds": -1}, "state_ttl_seconds", "from 0"),
        ({"restart": "fixed"}, "restart", "an object"),
        ({"restart": {"type": "sometimes"}}, "type", "none, fixed-delay"),
        ({"restart": {"attempts": 0}}, "restart.attempts", "from 1"),
        ({"restart": {"bogus": 1}}, "restart.bogus", "unknown setting"),
        ({"flink_config": []}, "flink_config", "an object"),
        ({"flink_config": {"a b": "1"}}, "flink_config", "not a Flink key"),
        ({"flink_config": {"table.exec.x": ["1"]}}, "flink_config.table.exec.x", "string"),
        ({"flink_config": {"table.exec.x": "x" * 1001}}, "flink_config.table.exec.x", "1000"),
        # a value is one line of the config file: a line break could smuggle another key
        (
            {"flink_config": {"table.exec.x": "1\nrest.port: 1"}},
            "flink_config.table.exec.x",
            "line",
        ),
        ({"state_bucket": "Bad_Bucket"}, "state_bucket", "bucket name"),
        ({"state_bucket": 5}, "state_bucket", "bucket name"),
        ({"nope": 1}, "nope", "unknown setting"),
        ([1, 2], "settings", "an object"),
    ],
)
def test_wrong_settings_name_the_field(raw: object, field: str, says: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        job_rules.parse_settings(raw)
    wrong = caught.value
    assert wrong.code == "InvalidParameter.JobSettings"
    prefix = "settings:" if field == "settings" else f"settings.{field}: "
    assert says in wrong.message and wrong.message.startswith(prefix), wrong.message
    assert re.search(r"[\u4e00-\u9fff]", wrong.zh) and (field in wrong.zh or field == "settings")


def test_flink_config_allow_list() -> None:
    allowed = job_rules.parse_settings(
        {"flink_config": {"table.exec.mini-batch.enabled": True, "pipeline.name": "x"}}
    )
    assert allowed.flink_config == {"table.exec.mini-batch.enabled": "true", "pipeline.name": "x"}
    for key in (
        "rest.port",
        "taskmanager.memory.process.size",
        "state.checkpoints.dir",
        "execution.checkpointing.dir",
        "pipeline.jars",
        "high-availability.type",
        "table.exec.resource.default-parallelism",
    ):
        with pytest.raises(errors.Invalid) as caught:
            job_rules.parse_settings({"flink_config": {key: "1"}})
        assert caught.value.message == (
            f"settings.flink_config: key '{key}' is not allowed: the platform sets state "
            "locations, ports, memory, classpath and HA itself; allowed keys are "
            + flinkconf.allowed_text()
        )
    too_many = {f"table.exec.k{i}": "1" for i in range(job_rules.MAX_CONFIG_ENTRIES + 1)}
    with pytest.raises(errors.Invalid, match="at most 64 keys"):
        job_rules.parse_settings({"flink_config": too_many})


def test_flink_config_of_a_job_per_version() -> None:
    settings = job_rules.parse_settings(
        {
            "parallelism": 3,
            "state_ttl_seconds": 3600,
            "restart": {"type": "fixed-delay", "attempts": 5, "delay_seconds": 7},
            "flink_config": {"table.exec.mini-batch.enabled": "true"},
        }
    )
    v2 = job_rules.flink_config(
        "flink-2.2.1", settings, checkpoint_dir="file:///c", savepoint_dir="s"
    )
    assert v2["execution.checkpointing.dir"] == "file:///c"
    assert v2["execution.checkpointing.savepoint-dir"] == "s"
    assert v2["execution.checkpointing.mode"] == "EXACTLY_ONCE"
    assert v2["parallelism.default"] == "3"
    assert v2["table.exec.state.ttl"] == "3600 s"
    assert v2["restart-strategy.fixed-delay.attempts"] == "5"
    assert v2["restart-strategy.fixed-delay.delay"] == "7 s"
    assert v2["table.exec.mini-batch.enabled"] == "true"
    v1 = job_rules.flink_config("flink-1.20.5", settings, checkpoint_dir="c", savepoint_dir="s")
    assert v1["state.checkpoints.dir"] == "c" and "execution.checkpointing.dir" not in v1
    none = job_rules.restart_config(job_rules.RestartStrategy(type="none"))
    assert none == {"restart-strategy.type": "none"}
    rate = job_rules.restart_config(job_rules.RestartStrategy(type="failure-rate", max_failures=2))
    assert rate["restart-strategy.failure-rate.max-failures-per-interval"] == "2"
    assert job_rules.restore_config("flink-2.2.1", None, True) == {}
    assert job_rules.restore_config("flink-2.2.1", "file:///sp", True) == {
        "execution.state-recovery.path": "file:///sp",
        "execution.state-recovery.ignore-unclaimed-state": "true",
    }
    assert job_rules.restore_config("flink-1.20.5", "file:///sp", False) == {
        "execution.savepoint.path": "file:///sp",
        "execution.savepoint.ignore-unclaimed-state": "false",
    }


# ---------------------------------------------------------------- CU


def test_cu_of_a_job() -> None:
    assert job_rules.cu_milli(1) == 1250
    assert job_rules.cu_milli(4, jobmanagers=2) == 4500
    assert [job_rules.cu_text(m) for m in (0, 1000, 1250, 2500, 2050, 3000, 125)] == [
        "0",
        "1",
        "1.25",
        "2.5",
        "2.05",
        "3",
        "0.125",
    ]


# ---------------------------------------------------------------- actions and moves


def test_actions_allow_only_their_sources() -> None:
    start = job_rules.ACTIONS["start"]
    assert job_rules.READY in start.sources and job_rules.RUNNING not in start.sources
    assert job_rules.ACTIONS["resume"].sources == {job_rules.SUSPENDED}
    assert job_rules.ACTIONS["suspend"].sources == {job_rules.RUNNING}
    assert job_rules.ACTIONS["stop"].sources == {
        job_rules.STARTING,
        job_rules.RUNNING,
        job_rules.RESTARTING,
    }
    assert not job_rules.ACTIONS["offline"].sources & job_rules.ACTIVE
    for action in job_rules.ACTIONS.values():
        assert action.why
    refused = job_rules.refusal(job_rules.ACTIONS["start"], "running", "etl")
    assert refused.message == (
        "job etl is running: it can be started only when failed, finished, online, stopped"
    )
    assert refused.zh == "作业 etl 当前运行中：只有在失败、已完成、已上线、已停止时才能启动"
    assert refused.code == "JobStateConflict"
    assert job_rules.refusal(job_rules.ACTIONS["offline"], "running", "etl").message.startswith(
        "job etl is running: it can be taken offline only when "
    )


def test_moves() -> None:
    assert job_rules.can_move(job_rules.READY, job_rules.STARTING)
    assert job_rules.can_move(job_rules.STARTING, job_rules.RUNNING)
    assert job_rules.can_move(job_rules.STOPPING, job_rules.RUNNING)  # a failed stop with savepoint
    assert job_rules.can_move(job_rules.STOPPING, job_rules.SUSPENDED)
    assert not job_rules.can_move(job_rules.RUNNING, job_rules.SUSPENDED)  # only through stopping
    assert not job_rules.can_move(job_rules.STOPPED, job_rules.RUNNING)  # only through starting
    assert not job_rules.can_move(job_rules.READY, job_rules.RUNNING)
    assert not job_rules.can_move(job_rules.FAILED, job_rules.FAILED)
    assert not job_rules.can_move(job_rules.RUNNING, "bogus")
    # a suspended job holds its CU; a stopped one does not
    assert job_rules.SUSPENDED in job_rules.HOLDING and job_rules.STOPPED not in job_rules.HOLDING


# ---------------------------------------------------------------- names and folders


def test_folder_paths() -> None:
    assert job_rules.folder_path("/") == "/"
    assert job_rules.folder_path("/etl//daily/") == "/etl/daily"
    assert job_rules.folder_path("/a b/c.d") == "/a b/c.d"
    for bad, says in (
        ("etl", "starts with /"),
        ("/a/../b", "'..'"),
        ("/a/./b", "'.'"),
        ("/.hidden", "'.hidden'"),
        ("/trailing /x", "'trailing '"),
        ("/" + "/".join("abcdefghi"), "at most 8"),
        ("/" + "x" * 65, "1-64"),
        ("/a\x00b", "1-64"),
        ("/\u4e2d", "1-64"),
    ):
        with pytest.raises(errors.Invalid) as caught:
            job_rules.folder_path(bad)
        assert caught.value.code == "InvalidParameter.Folder"
        assert says in str(caught.value), (bad, str(caught.value))
        assert re.search(r"[\u4e00-\u9fff]", caught.value.zh), bad
    assert job_rules.parent_of("/a/b") == "/a" and job_rules.parent_of("/a") == "/"


def test_job_names() -> None:
    assert names.JOB.fits("orders_etl-2")
    for bad in ("2etl", "_x", "a b", "a/b", "x" * 129, ""):
        assert not names.JOB.fits(bad)


# ---------------------------------------------------------------- locations in SQL


def found(script: str) -> jobpaths.Found:
    return jobpaths.find(sqlscript.split(script))


def messages(script: str) -> list[tuple[int, int, str]]:
    return [(p.line, p.column, p.message) for p in found(script).problems]


SINK = "CREATE TABLE t (a INT) WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'csv')"


def test_an_oss_location_is_found_with_its_position() -> None:
    script = "SELECT 1;\n" + SINK.format("oss://acme-data/out/")
    result = found(script)
    assert result.problems == ()
    (location,) = result.locations
    assert (location.scheme, location.bucket, location.path, location.option) == (
        "oss",
        "acme-data",
        "out/",
        "path",
    )
    assert (location.line, location.column) == (2, SINK.index("'{}'") + 1)
    statement = sqlscript.split(script)[location.statement]
    assert statement.sql[location.start : location.end] == "'oss://acme-data/out/'"


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("file:///etc/passwd", None),  # lexically fine: the service refuses it (no bucket)
        ("/etc/passwd", None),
        ("out/data", "relative paths are not allowed"),
        ("./out", "relative paths are not allowed"),
        ("../etc", "relative paths are not allowed"),
        ("file:out", "relative paths are not allowed"),
        ("oss://acme-data/../other/x", "'..' and '.' are not allowed"),
        ("oss://acme-data/./x", "'..' and '.' are not allowed"),
        ("file:///data/buckets/1/../../etc", "'..' and '.' are not allowed"),
        ("oss://acme-data/a\\..\\b", "'..' and '.' are not allowed"),
        ("oss://Bad_Bucket/x", "oss://<bucket>/<key>"),
        ("oss:/acme-data/x", "oss://<bucket>/<key>"),
        ("hdfs://namenode/x", "the hdfs: scheme is not allowed"),
        ("s3://bucket/x", "the s3: scheme is not allowed"),
        ("http://evil.example/x.jar", "the http: scheme is not allowed"),
    ],
)
def test_location_refusals(path: str, says: str | None) -> None:
    problems = messages(SINK.format(path))
    if says is None:
        assert problems == []
        (location,) = found(SINK.format(path)).locations
        assert (location.scheme, location.path) == ("file", "/etc/passwd")
        return
    assert len(problems) == 1, problems
    line, column, message = problems[0]
    assert (line, column) == (1, SINK.index("'{}'") + 1)
    assert message.startswith(f"path {path!r}: ") and says in message, message


def test_option_keys_that_name_locations() -> None:
    script = (
        "CREATE TABLE t (a INT) WITH (\n"
        "  'connector' = 'filesystem',\n"
        "  'sink.dir' = 'hdfs://x/y',\n"
        "  'format.schema-url' = 'relative',\n"
        "  'anything' = 's3a://bucket/key',\n"
        "  'other' = '/abs/olute',\n"
        "  'note' = 'just text'\n"
        ")"
    )
    got = messages(script)
    assert [(line, column) for line, column, _ in got] == [(3, 16), (4, 25), (5, 16)]
    assert "hdfs:" in got[0][2] and "relative" in got[1][2] and "s3a:" in got[2][2]
    assert [loc.path for loc in found(script).locations] == ["/abs/olute"]


def test_jars() -> None:
    script = (
        "CREATE FUNCTION f AS 'x.F' USING JAR 'oss://acme-udfs/f.jar';\n"
        "ADD JAR '/tmp/evil.jar';\n"
        "add  jar 'http://x/y.jar'"
    )
    result = found(script)
    assert [(loc.option, loc.bucket, loc.path) for loc in result.locations] == [
        ("jar", "acme-udfs", "f.jar"),
        ("jar", "", "/tmp/evil.jar"),
    ]
    ((line, column, message),) = messages(script)
    assert (line, column) == (3, 10) and message.startswith("jar 'http://x/y.jar': the http:")


def test_set_of_platform_keys_is_refused() -> None:
    script = (
        "SET 'table.exec.mini-batch.enabled' = 'true';\n"
        "SET 'pipeline.name' = 'x';\n"
        "  SET 'execution.checkpointing.dir' = 'file:///tmp/x';\n"
        "SET rest.port = 1;\n"
        "set `state.savepoints.dir` = 'y'"
    )
    got = messages(script)
    assert [(line, column) for line, column, _ in got] == [(3, 3), (4, 1)]
    assert got[0][2].startswith("SET 'execution.checkpointing.dir' is not allowed: the platform")
    assert got[1][2].startswith("SET 'rest.port' is not allowed")
    # a SET's value is not a location of a connector: it is not looked at as one
    assert found(script).locations == ()


def test_comments_and_quoted_strings_are_not_options() -> None:
    script = (
        "-- WITH ('path' = '/etc/passwd')\n"
        "/* ADD JAR 'http://x/y.jar' */\n"
        "SELECT 'WITH (''path'' = ''/etc/shadow'')', `WITH ('path' = '/etc/x')` FROM t;\n"
        "CREATE TABLE s (a INT) WITH (\n"
        "  'connector' = 'datagen', -- 'path' = '/etc/passwd'\n"
        "  /* 'path' = 'hdfs://x' */ 'rows-per-second' = '5'\n"
        ");\n"
        "INSERT INTO s SELECT 1 FROM x WHERE y = 'ADD JAR ''/etc/z'''"
    )
    assert found(script) == jobpaths.Found((), ())


def test_options_after_the_with_clause_are_not_its_own() -> None:
    script = (
        "CREATE TABLE s (a INT) WITH ('connector' = 'datagen') "
        "LIKE other (EXCLUDING ALL);\n"
        "INSERT INTO s SELECT * FROM x WHERE b IN ('path' = '/etc/passwd')"
    )
    assert found(script).problems == () and found(script).locations == ()


def test_a_quote_inside_a_location_is_unquoted() -> None:
    script = SINK.format("oss://acme-data/it''s")
    (location,) = found(script).locations
    assert location.path == "it's" and location.raw == "oss://acme-data/it's"
    rewritten = jobpaths.rewrite(
        sqlscript.split(script)[0].sql, [(location.start, location.end, "file:///b/it's")]
    )
    assert "'file:///b/it''s'" in rewritten and "oss://" not in rewritten


def test_positions_across_lines_and_statements() -> None:
    script = (
        "SELECT 1;\n\n"
        "CREATE TABLE t (a INT)\n"
        "WITH (\n"
        "    'connector' = 'filesystem',\n"
        "    'path' = 'rel/x',\n"
        "    'format' = 'csv');  SET 'rest.address' = 'x'"
    )
    got = messages(script)
    assert [(line, column) for line, column, _ in got] == [(6, 14), (7, 25)]


def test_inside() -> None:
    assert jobpaths.inside("/data/b/1", "/data/b/1")
    assert jobpaths.inside("/data/b/1/x", "/data/b/1/")
    assert not jobpaths.inside("/data/b/10", "/data/b/1")
    assert not jobpaths.inside("/data/b", "/data/b/1")


# ---------------------------------------------------------------- placement

MEMORY = placement.Memory(1024, 1280, 256)


def place(parallelism: int, masters: int = 1, **slaves: int) -> tuple[placement.Process, ...]:
    return placement.place(
        parallelism,
        [placement.Master(f"master-{i + 1}", "127.0.0.1", 0) for i in range(masters)],
        [placement.Slave(name, "127.0.0.1", free) for name, free in slaves.items()],
        standby=masters >= 3,
        port_base=20000,
        ports_per_run=16,
        memory=MEMORY,
    )


def test_one_jobmanager_and_taskmanagers_on_the_freest_slaves() -> None:
    processes = place(5, slave1=2, slave2=4, slave3=0)
    assert [(p.name, p.node, p.slots) for p in processes] == [
        ("jobmanager-0", "master-1", 0),
        ("taskmanager-0", "slave2", 4),
        ("taskmanager-1", "slave1", 1),
    ]
    manager, first, second = processes
    assert (manager.rest_port, manager.rpc_port, manager.blob_port) == (20000, 20001, 20002)
    assert manager.metrics_port == 20003  # the standby's four follow (20004-20007)
    assert (first.rpc_port, first.data_port, first.metrics_port) == (20008, 20009, 20010)
    assert (second.rpc_port, second.data_port, second.metrics_port) == (20011, 20012, 20013)
    every = [
        port
        for p in processes
        for port in (p.rest_port, p.rpc_port, p.blob_port, p.data_port, p.metrics_port)
        if port
    ]
    assert len(set(every)) == len(every) and all(20000 <= port < 20016 for port in every)
    assert manager.memory_mb == 1024
    assert first.memory_mb == 1280 + 3 * 256 and second.memory_mb == 1280
    assert placement.slots_by_node(list(processes)) == {"slave2": 4, "slave1": 1}
    assert placement.jobmanagers_by_node(list(processes)) == {"master-1": 1}
    assert placement.from_json(placement.to_json(processes)) == processes


def test_a_standby_on_three_masters_on_the_least_busy() -> None:
    processes = placement.place(
        1,
        [
            placement.Master("master-1", "h1", 2),
            placement.Master("master-2", "h2", 0),
            placement.Master("master-3", "h3", 1),
        ],
        [placement.Slave("slave1", "h4", 1)],
        standby=True,
        port_base=100,
        ports_per_run=16,
        memory=MEMORY,
    )
    managers = [(p.node, p.rest_port, p.index) for p in processes if p.kind == "jobmanager"]
    assert managers == [("master-2", 100, 0), ("master-3", 104, 1)]
    # no standby with one master even if asked
    one = placement.place(
        1,
        [placement.Master("m", "h", 0)],
        [placement.Slave("s", "h", 1)],
        standby=True,
        port_base=0,
        ports_per_run=16,
        memory=MEMORY,
    )
    assert [p.kind for p in one] == ["jobmanager", "taskmanager"]


def test_no_room() -> None:
    with pytest.raises(placement.NoRoom, match=r"have 3 free slots .* needs 4"):
        place(4, slave1=2, slave2=1, slave3=-2)
    with pytest.raises(placement.NoRoom, match="no master"):
        place(1, masters=0, slave1=1)
    # 16 ports: 8 for JobManagers, room for 2 TaskManagers of 3 ports
    assert placement.max_taskmanagers(16) == 2
    assert placement.max_taskmanagers(32) == 8
    with pytest.raises(placement.NoRoom, match="more than 2 TaskManagers"):
        place(3, **{f"s{i}": 1 for i in range(3)})
