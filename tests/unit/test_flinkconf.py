"""Flink configuration rules per version: state keys, the config file, memory, rendering."""

from __future__ import annotations

import json

import pytest

from rtcompute.domain import flinkconf

PACKAGE_CONFIG = """\
################################################################################
#  Licensed to the Apache Software Foundation (ASF)
################################################################################

env:
  java:
    opts:
      all: --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED --add-opens=java.base/\
java.lang=ALL-UNNAMED
jobmanager:
  bind-host: localhost
  rpc:
    address: localhost
    port: 6123
  memory:
    process:
      size: 1600m
taskmanager:
  numberOfTaskSlots: 1
parallelism.default: "1"
quoted: 'it''s'
# a comment: ignored
"""


def test_state_keys_differ_between_1_20_and_2_x() -> None:
    v2 = flinkconf.state_keys("flink-2.2.1")
    v1 = flinkconf.state_keys("flink-1.20.5")
    assert v2.checkpoint_dir == "execution.checkpointing.dir"
    assert v2.restore_path == "execution.state-recovery.path"
    assert v1.checkpoint_dir == "state.checkpoints.dir"
    assert v1.restore_path == "execution.savepoint.path"
    assert flinkconf.state_keys("flink-2.3.0") is v2


@pytest.mark.parametrize("version", ["flink-2.2.1", "flink-1.20.5"])
def test_every_version_reads_config_yaml(version: str) -> None:
    assert flinkconf.config_file_name(version) == "config.yaml"


@pytest.mark.parametrize("bad", ["2.2.1", "flink-2.2", "spark-3.5.0", ""])
def test_a_name_that_is_not_a_version_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        flinkconf.major_minor(bad)
    with pytest.raises(ValueError):
        flinkconf.render_config(bad, {})


def test_taskmanager_memory_grows_per_slot_above_flinks_minimum() -> None:
    one, four = flinkconf.taskmanager_memory_mb(1), flinkconf.taskmanager_memory_mb(4)
    assert one >= 1280
    assert four - one == 3 * flinkconf.TASKMANAGER_PER_SLOT_MB
    assert one + flinkconf.JOBMANAGER_MEMORY_MB <= 4096  # a 1-CU job within the CU's 4 GB
    with pytest.raises(ValueError):
        flinkconf.taskmanager_memory_mb(0)


def test_render_config_quotes_every_key_and_value() -> None:
    text = flinkconf.render_config(
        "flink-2.2.1",
        {"b.key": 'x: "y" # not a comment', "a.key": "-Dfoo=1 *star", "c": "'single'"},
    )
    lines = text.splitlines()
    assert lines[0].startswith("#")
    assert lines[1:] == [
        '"a.key": "-Dfoo=1 *star"',
        '"b.key": "x: \\"y\\" # not a comment"',
        '"c": "\'single\'"',
    ]
    # each line is a one-key JSON object body: what YAML's double-quoted scalars accept
    assert json.loads("{" + lines[2] + "}") == {"b.key": 'x: "y" # not a comment'}


@pytest.mark.parametrize("bad", [{"a": "1\nb: 2"}, {"a\rb": "1"}, {"": "1"}, {"a": "\0"}])
def test_render_config_refuses_line_breaks_and_empty_keys(bad: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        flinkconf.render_config("flink-1.20.5", bad)


def test_rendered_config_reads_back_through_flatten_yaml() -> None:
    flat = {"env.java.opts.all": "--add-opens=java.base/java.lang=ALL-UNNAMED", "x.y": 'q"q'}
    assert flinkconf.flatten_yaml(flinkconf.render_config("flink-2.2.1", flat)) == flat


def test_flatten_yaml_reads_the_packages_nested_config() -> None:
    flat = flinkconf.flatten_yaml(PACKAGE_CONFIG)
    assert flat["env.java.opts.all"].startswith("--add-exports=java.rmi/")
    assert flat["env.java.opts.all"].endswith("java.base/java.lang=ALL-UNNAMED")
    assert flat["jobmanager.rpc.port"] == "6123"
    assert flat["jobmanager.memory.process.size"] == "1600m"
    assert flat["taskmanager.numberOfTaskSlots"] == "1"
    assert flat["parallelism.default"] == "1"
    assert flat["quoted"] == "it's"
    assert "jobmanager" not in flat and "env.java" not in flat


@pytest.mark.parametrize(
    ("key", "allowed"),
    [
        ("table.exec.mini-batch.enabled", True),
        ("pipeline.name", True),
        ("table.exec.resource.default-parallelism", False),
        ("execution.checkpointing.dir", False),
        ("pipeline.jars", False),
        ("high-availability.type", False),
    ],
)
def test_allow_list(key: str, allowed: bool) -> None:
    assert flinkconf.is_allowed_key(key) is allowed
    assert "table.exec.*" in flinkconf.allowed_text()
