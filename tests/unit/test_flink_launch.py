"""The java command line of a per-job cluster's process: options and the memory-sizing key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtcompute.runtime.flink import cluster


def test_java_options_follow_flink_console_order() -> None:
    flat = {
        "env.java.default-opts.all": "-Dd=all",
        "env.java.opts.all": "--add-opens=java.base/java.lang=ALL-UNNAMED -Da=1",
        "env.java.opts.jobmanager": "-XX:TieredStopAtLevel=1",
        "env.java.opts.taskmanager": "-XX:+UseParallelGC",
    }
    assert cluster.java_options(flat, "taskmanager") == [
        "-XX:+IgnoreUnrecognizedVMOptions",
        "-Dd=all",
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "-Da=1",
        "-XX:+UseParallelGC",
    ]
    assert "-XX:TieredStopAtLevel=1" in cluster.java_options(flat, "jobmanager")
    assert "-XX:+UseParallelGC" not in cluster.java_options(flat, "jobmanager")


def test_java_options_fall_back_to_the_deprecated_key_and_keep_quoted_values() -> None:
    flat = {"env.java.opts": "-Dname='two words' -Dx=1"}
    assert cluster.java_options(flat, "jobmanager")[1:] == ["-Dname=two words", "-Dx=1"]


def test_java_options_with_an_open_quote_are_refused() -> None:
    with pytest.raises(cluster.LaunchError, match=r"env\.java\.opts of the taskmanager"):
        cluster.java_options({"env.java.opts.taskmanager": "-Dx='open"}, "taskmanager")


def test_sizing_holds_the_memory_keys_only() -> None:
    flat = {
        "taskmanager.memory.process.size": "2560m",
        "taskmanager.memory.managed.fraction": "0.1",
        "taskmanager.numberOfTaskSlots": "1",
        "rest.port": "30001",
        "env.java.opts.all": "-Djava.io.tmpdir=/data/run-7/tmp",
        "pipeline.name": "p.job",
    }
    assert cluster.sizing(flat) == (
        ("taskmanager.memory.managed.fraction", "0.1"),
        ("taskmanager.memory.process.size", "2560m"),
        ("taskmanager.numberOfTaskSlots", "1"),
    )
    # another run of the same size: same key, whatever its ports and directories
    other = {**flat, "rest.port": "30033", "env.java.opts.all": "-Djava.io.tmpdir=/x"}
    assert cluster.sizing(other) == cluster.sizing(flat)
    assert cluster.sizing({**flat, "taskmanager.numberOfTaskSlots": "2"}) != cluster.sizing(flat)


def test_every_port_lies_in_the_run_s_block_and_web_submission_is_off() -> None:
    manager = cluster.FlinkProcess(
        "jobmanager", 0, "m", "127.0.0.1", 30001, 1024, rest_port=30000, blob_port=30002,
        metrics_port=30003,
    )  # fmt: skip
    worker = cluster.FlinkProcess(
        "taskmanager", 0, "s", "127.0.0.1", 30008, 4096, data_port=30009, slots=1,
        metrics_port=30010,
    )  # fmt: skip
    run = cluster.JobCluster(
        run_key="job-1-run-1",
        version="flink-2.2.1",
        engine_home=Path("/nowhere"),
        directory=Path("/nowhere/run"),
        processes=(manager, worker),
        config={"web.submit.enable": "true"},  # a job's own keys never override the platform's
    )
    for process in (manager, worker):
        flat = cluster.process_config(run, process, {})
        assert flat["web.submit.enable"] == "false"
        assert flat["metrics.internal.query-service.port"] == str(process.metrics_port)
        ports = {key: int(v) for key, v in flat.items() if key.endswith(".port")}
        assert all(30000 <= port < 30032 for port in ports.values()), ports
