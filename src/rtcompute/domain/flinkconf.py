"""Flink configuration keys per engine version, and the allow-list of keys a job may set.

Flink renamed its state keys between 1.20 and 2.x (FLINK-NOTES: checkpoint and savepoint
directories, the restore path); everything that writes a key for a job asks this module,
so the version difference lives in one place. The allow-list keeps a tenant from moving a
job's state, ports, memory or classpath: those the platform sets itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from rtcompute.domain import names


@dataclass(frozen=True)
class StateKeys:
    checkpoint_dir: str
    savepoint_dir: str
    restore_path: str
    allow_non_restored: str
    checkpoint_interval: str
    checkpoint_mode: str
    retention: str
    unaligned: str


V2_KEYS = StateKeys(
    checkpoint_dir="execution.checkpointing.dir",
    savepoint_dir="execution.checkpointing.savepoint-dir",
    restore_path="execution.state-recovery.path",
    allow_non_restored="execution.state-recovery.ignore-unclaimed-state",
    checkpoint_interval="execution.checkpointing.interval",
    checkpoint_mode="execution.checkpointing.mode",
    retention="execution.checkpointing.externalized-checkpoint-retention",
    unaligned="execution.checkpointing.unaligned.enabled",
)
V1_KEYS = StateKeys(
    checkpoint_dir="state.checkpoints.dir",
    savepoint_dir="state.savepoints.dir",
    restore_path="execution.savepoint.path",
    allow_non_restored="execution.savepoint.ignore-unclaimed-state",
    checkpoint_interval="execution.checkpointing.interval",
    checkpoint_mode="execution.checkpointing.mode",
    retention="execution.checkpointing.externalized-checkpoint-retention",
    unaligned="execution.checkpointing.unaligned",
)

_VERSION = names.ENGINE_VERSION.compiled


def major_minor(version: str) -> tuple[int, int]:
    found = _VERSION.fullmatch(version)
    if found is None:  # invariant: versions are checked names (services/jobs/drafts.py)
        raise ValueError(f"not an engine version name: {version!r}")
    return int(found.group(1)), int(found.group(2))


def state_keys(version: str) -> StateKeys:
    return V2_KEYS if major_minor(version)[0] >= 2 else V1_KEYS


def config_file_name(version: str) -> str:
    """`config.yaml` for every supported version: 2.x reads only it, and 1.20 reads it
    (standard YAML) when no legacy `flink-conf.yaml` is present (measured: the package's own
    1.20 conf ships config.yaml)."""
    major_minor(version)  # refuses anything that is not a version name
    return "config.yaml"


# process sizes for a per-job cluster's JVMs. Flink refuses a JobManager under ~1024m and a
# TaskManager under ~1280m with the default fractions. Measured on 2.2.1 (2 cores): JM RSS
# ~240 MB idle, ~290 MB with a job; a 1-slot TaskManager of 1536m ~310 MB idle, ~830 MB
# under a saturating tumbling-window job: a 1-CU job (JM + TM) stays near 1.1 GB, far
# inside the CU's 4 GB even at the process sizes' upper bound (2.5 GB)
JOBMANAGER_MEMORY_MB = 1024
TASKMANAGER_BASE_MB = 512
TASKMANAGER_PER_SLOT_MB = 1024


def taskmanager_memory_mb(slots: int) -> int:
    """`taskmanager.memory.process.size` for a TaskManager with `slots` slots."""
    if slots < 1:  # invariant: placement gives every TaskManager a slot
        raise ValueError("a TaskManager has at least one slot")
    return TASKMANAGER_BASE_MB + TASKMANAGER_PER_SLOT_MB * slots


def render_config(version: str, flat: Mapping[str, str]) -> str:
    """The config file text for `version`: one flat `"key": "value"` line per key.

    Both versions parse the file as standard YAML and accept flattened dotted keys next to
    nested ones; every key and value is written as a double-quoted (JSON) scalar, so a value
    holding `:`, `#`, quotes or a leading `-` or `*` stays one string. A newline in a key or
    value is refused: nothing legitimate has one and it could smuggle another key.
    """
    major_minor(version)
    lines = [f"# written by rtcompute for {version}; one process's configuration"]
    for key, value in sorted(flat.items()):
        # invariant: job settings refuse line breaks (domain/jobs.check_flink_config)
        if not key or any(c in key + value for c in "\r\n\0"):
            raise ValueError(f"a configuration key or value holds a line break: {key!r}")
        lines.append(f"{json.dumps(key)}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def flatten_yaml(text: str) -> dict[str, str]:
    """The flat keys of a Flink config file made of nested mappings and one-line scalars.

    Enough for the package's own `conf/config.yaml` (what the launcher copies
    `env.java.opts.all` from); lists and multi-line values are skipped, not parsed.
    """
    flat: dict[str, str] = {}
    path: list[tuple[int, str]] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith(("#", "-")):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        key, sep, value = raw.strip().partition(":")
        if not sep:
            continue
        while path and path[-1][0] >= indent:
            path.pop()
        name = ".".join([p[1] for p in path] + [_unquote_yaml(key.strip())])
        value = value.strip()
        if value:
            flat[name] = _unquote_yaml(value)
        else:
            path.append((indent, _unquote_yaml(key.strip())))
    return flat


def _unquote_yaml(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            loaded = json.loads(text)
        except ValueError:
            return text[1:-1]
        return loaded if isinstance(loaded, str) else text[1:-1]
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text


# keys a job may set in its settings or with SET in its SQL (docs/jobs.md); everything else
# (state locations, ports, memory, classpath, HA, execution target) belongs to the platform
ALLOWED_PREFIXES = ("table.exec.", "table.optimizer.")
ALLOWED_KEYS = frozenset(
    {
        "table.local-time-zone",
        "table.dml-sync",
        "table.sql-dialect",
        "pipeline.name",
        "pipeline.auto-watermark-interval",
        "pipeline.object-reuse",
        "pipeline.max-parallelism",
        "execution.checkpointing.timeout",
        "execution.checkpointing.min-pause",
        "execution.checkpointing.max-concurrent-checkpoints",
        "execution.checkpointing.tolerable-failed-checkpoints",
        "execution.checkpointing.unaligned",
        "execution.checkpointing.unaligned.enabled",
        "execution.checkpointing.aligned-checkpoint-timeout",
        "execution.buffer-timeout",
        "execution.buffer-timeout.enabled",
        "execution.buffer-timeout.interval",
    }
)
# allowed prefixes that still name something of the platform's
REFUSED_UNDER_PREFIX = frozenset({"table.exec.resource.default-parallelism"})


def is_allowed_key(key: str) -> bool:
    if key in REFUSED_UNDER_PREFIX:
        return False
    return key in ALLOWED_KEYS or key.startswith(ALLOWED_PREFIXES)


def settings_policy() -> dict[str, list[str]]:
    """The allow-list as the engine worker applies it to a script's SETs (worker_main.Policy)."""
    return {
        "keys": sorted(ALLOWED_KEYS),
        "prefixes": list(ALLOWED_PREFIXES),
        "refused": sorted(REFUSED_UNDER_PREFIX),
    }


def allowed_text() -> str:
    return ", ".join([f"{p}*" for p in ALLOWED_PREFIXES] + sorted(ALLOWED_KEYS))
