"""Jobs: the development states of a draft, the lifecycle of an online job, its settings and
its CU.

A job is a draft (with revisions) until it goes online; going online freezes one revision
into a deployment. The deployment's lifecycle is declarative: the API writes a desired
state (`running`, `stopped`, `suspended`) and the job reconciler drives Flink to it, moving
the observed state along `MOVES`. Each move names the race it prevents, so a second writer
that lost a race gets a Conflict instead of undoing the first one's work.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rtcompute import errors
from rtcompute.domain import flinkconf, jobpaths, names

# development states of the job row (DESIGN glossary: draft -> checked -> online -> offline)
DRAFT = "draft"
CHECKED = "checked"
ONLINE = "online"  # a deployment exists; its own state says whether it runs
OFFLINE = "offline"  # was online, taken offline; editing makes it a draft again

# observed states of a deployment
READY = "online"  # online, never started (or taken back after a start that failed at once)
STARTING = "starting"
RUNNING = "running"
# Flink restarts the job after a failure (its restart strategy has not given up yet); the
# state message names the failure (issue 18: a job that keeps failing is not `running`)
RESTARTING = "restarting"
STOPPING = "stopping"
STOPPED = "stopped"
SUSPENDED = "suspended"
FAILED = "failed"
FINISHED = "finished"
DEPLOYMENT_STATES = (
    READY,
    STARTING,
    RUNNING,
    RESTARTING,
    STOPPING,
    STOPPED,
    SUSPENDED,
    FAILED,
    FINISHED,
)

# what the API may ask for
WANT_RUNNING = "running"
WANT_STOPPED = "stopped"
WANT_SUSPENDED = "suspended"

# published jobs pin their engine version until they are taken offline (guide ch. 7)
ONLINE_STATES = frozenset(DEPLOYMENT_STATES)
# deployments whose Flink processes may be up: the reconciler looks after them
ACTIVE = frozenset({STARTING, RUNNING, RESTARTING, STOPPING})
# deployments that hold their CU of the project's quota: a suspended job keeps it, so
# that its resume cannot be refused for quota
HOLDING = frozenset({STARTING, RUNNING, RESTARTING, STOPPING, SUSPENDED})

# start modes (the peers' top pain points: choose where state comes from)
STATELESS = "stateless"
LATEST_CHECKPOINT = "latest_checkpoint"
LATEST_SAVEPOINT = "latest_savepoint"
SAVEPOINT = "savepoint"
START_MODES = (STATELESS, LATEST_CHECKPOINT, LATEST_SAVEPOINT, SAVEPOINT)
# the start modes and event kinds in the console's Chinese (and the API's, by Accept-Language)
START_MODES_ZH = {
    STATELESS: "无状态启动",
    LATEST_CHECKPOINT: "从最新检查点启动",
    LATEST_SAVEPOINT: "从最新保存点启动",
    SAVEPOINT: "从指定保存点启动",
}
STOP_WITH_SAVEPOINT = "savepoint"
STOP_CANCEL = "cancel"
STOP_MODES = (STOP_WITH_SAVEPOINT, STOP_CANCEL)

# the platform's own folder in a bucket: every job's checkpoints, savepoints and HA metadata
# go below `rtcompute/jobs/<project>/<job id>/` of its state bucket (services/jobs/runs.py),
# so its objects are never offered as, nor attached as, a job's resources
PLATFORM_FOLDER = "rtcompute"


def is_platform_object(key: str) -> bool:
    """The object key lies in the platform's own folder of its bucket."""
    return key.split("/", 1)[0] == PLATFORM_FOLDER


@dataclass(frozen=True)
class Action:
    """An API action on a deployment: allowed FROM states; `why` names the race it prevents."""

    name: str
    sources: frozenset[str]
    desired: str | None
    why: str


ACTIONS = {
    "start": Action(
        "start",
        frozenset({READY, STOPPED, FAILED, FINISHED}),
        WANT_RUNNING,
        "a start of a job that is starting, running or stopping would run it twice",
    ),
    "resume": Action(
        "resume",
        frozenset({SUSPENDED}),
        WANT_RUNNING,
        "only a suspended job resumes: its savepoint is the state to restore",
    ),
    "stop": Action(
        "stop",
        frozenset({STARTING, RUNNING, RESTARTING}),
        WANT_STOPPED,
        "a stop of a job that is already stopping would take a second savepoint",
    ),
    "suspend": Action(
        "suspend",
        frozenset({RUNNING}),
        WANT_SUSPENDED,
        "a suspend needs a running job to take its savepoint from",
    ),
    "offline": Action(
        "offline",
        frozenset({READY, STOPPED, SUSPENDED, FAILED, FINISHED}),
        None,
        "a job with Flink processes up must be stopped first, or they would be orphaned",
    ),
}


# a deployment's state in a Chinese sentence (the console's words for it)
STATES_ZH = {
    READY: "已上线",
    STARTING: "启动中",
    RUNNING: "运行中",
    RESTARTING: "重启中",
    STOPPING: "停止中",
    STOPPED: "已停止",
    SUSPENDED: "已暂停",
    FAILED: "失败",
    FINISHED: "已完成",
}
# what each action does to a job, in both languages
VERBS = {
    "start": ("started", "启动"),
    "resume": ("resumed", "恢复"),
    "stop": ("stopped", "停止"),
    "suspend": ("suspended", "暂停"),
    "offline": ("taken offline", "下线"),
}


def refusal(action: Action, state: str, job: str) -> errors.Conflict:
    """The action is not allowed in the job's state: which states allow it."""
    verb, verb_zh = VERBS[action.name]
    allowed = ", ".join(sorted(action.sources))
    allowed_zh = "、".join(STATES_ZH.get(s, s) for s in sorted(action.sources))
    return errors.Conflict(
        f"job {job} is {state}: it can be {verb} only when {allowed}",
        f"作业 {job} 当前{STATES_ZH.get(state, state)}：只有在{allowed_zh}时才能{verb_zh}",
        code="JobStateConflict",
    )


# alert rules: the job failed; restarts or failed checkpoints above a threshold in a window
ALERT_KINDS = ("failed", "restarts", "checkpoint_failures")

# the reconciler's moves of the observed state
MOVES: dict[str, frozenset[str]] = {
    STARTING: frozenset({READY, STOPPED, SUSPENDED, FAILED, FINISHED}),
    # STOPPING -> RUNNING: a stop with savepoint failed; the job keeps running.
    # RESTARTING -> RUNNING: the job ran without a failure for RECOVERED_AFTER_SECONDS
    RUNNING: frozenset({STARTING, RESTARTING, STOPPING}),
    # Flink recorded a failure of a starting or running job and restarts it
    RESTARTING: frozenset({STARTING, RUNNING}),
    STOPPING: frozenset({STARTING, RUNNING, RESTARTING}),
    STOPPED: frozenset({STOPPING, STARTING}),
    SUSPENDED: frozenset({STOPPING}),
    # RESTARTING -> FAILED: Flink's restart strategy gave up
    FAILED: frozenset({STARTING, RUNNING, RESTARTING, STOPPING}),
    FINISHED: frozenset({RUNNING, RESTARTING, STOPPING}),
}

# a restarting job is running again once all its tasks run and Flink recorded no failure
# for this long (a job failing at once after each restart must not flap back to `running`)
RECOVERED_AFTER_SECONDS = 60


def recovered(tasks_running: bool, seconds_since_failure: float) -> bool:
    """A restarting job counts as running again."""
    return tasks_running and seconds_since_failure >= RECOVERED_AFTER_SECONDS


def can_move(source: str, target: str) -> bool:
    return source in MOVES.get(target, frozenset())


# ---- CU ---------------------------------------------------------------------------------

MILLI = 1000
# a JobManager takes 1 GB of a CU's 4 GB and a quarter core (CU = 1 core + 4 GB, guide)
JOBMANAGER_SHARE_MILLI = 250


def cu_milli(parallelism: int, jobmanagers: int = 1) -> int:
    """A job's CU: one per slot (parallelism) plus each JobManager's share."""
    return parallelism * MILLI + jobmanagers * JOBMANAGER_SHARE_MILLI


def cu_text(milli: int) -> str:
    """2250 -> '2.25'; 3000 -> '3'."""
    whole, rest = divmod(milli, MILLI)
    return str(whole) if rest == 0 else f"{whole}.{rest:03d}".rstrip("0")


# ---- settings ---------------------------------------------------------------------------

MAX_PARALLELISM = 256
MAX_CONFIG_ENTRIES = 64
RESTART_TYPES = ("none", "fixed-delay", "failure-rate", "exponential-delay")
CHECKPOINT_MODES = ("exactly_once", "at_least_once")


def wrong_setting(field_name: str, rule: str, rule_zh: str) -> errors.Invalid:
    """A setting a user gave is wrong: the sentence names the field and says what is allowed."""
    return errors.Invalid(
        f"settings.{field_name}: {rule}",
        f"作业设置 {field_name} 有误：{rule_zh}",
        code="InvalidParameter.JobSettings",
    )


def _unknown_setting(field_name: str) -> errors.Invalid:
    return wrong_setting(field_name, UNKNOWN_SETTING, "没有这项设置")


@dataclass(frozen=True)
class RestartStrategy:
    """How Flink restarts a failing job. The default gives up: more than 3 failures within
    5 minutes (10 s apart) and the job ends FAILED with its cause (issue 18; Flink's own
    default once checkpointing is on, exponential-delay, restarts forever). docs/jobs.md."""

    type: str = "failure-rate"
    attempts: int = 10  # fixed-delay
    delay_seconds: int = 10  # fixed-delay, failure-rate
    max_failures: int = 3  # failure-rate, per interval
    interval_seconds: int = 300  # failure-rate
    initial_seconds: int = 1  # exponential-delay
    max_seconds: int = 60  # exponential-delay


@dataclass(frozen=True)
class JobSettings:
    parallelism: int = 1
    checkpoint_interval_seconds: int = 60
    checkpoint_mode: str = "exactly_once"
    state_ttl_seconds: int = 0  # 0: state kept forever
    restart: RestartStrategy = field(default_factory=RestartStrategy)
    flink_config: Mapping[str, str] = field(default_factory=dict)
    # a bucket for checkpoints and savepoints; default: the cluster's bucket (shared
    # projects have none and must name one)
    state_bucket: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "parallelism": self.parallelism,
            "checkpoint_interval_seconds": self.checkpoint_interval_seconds,
            "checkpoint_mode": self.checkpoint_mode,
            "state_ttl_seconds": self.state_ttl_seconds,
            "restart": {
                "type": self.restart.type,
                "attempts": self.restart.attempts,
                "delay_seconds": self.restart.delay_seconds,
                "max_failures": self.restart.max_failures,
                "interval_seconds": self.restart.interval_seconds,
                "initial_seconds": self.restart.initial_seconds,
                "max_seconds": self.restart.max_seconds,
            },
            "flink_config": dict(self.flink_config),
            "state_bucket": self.state_bucket,
        }


def _int(raw: Mapping[str, Any], key: str, default: int, low: int, high: int, name: str) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise wrong_setting(
            name, f"a whole number from {low} to {high}", f"须为 {low} 到 {high} 之间的整数"
        )
    return value


def _choice(raw: Mapping[str, Any], key: str, default: str, allowed: tuple[str, ...]) -> str:
    value = raw.get(key, default)
    if value not in allowed:
        raise wrong_setting(key, f"one of {', '.join(allowed)}", f"须为 {'、'.join(allowed)} 之一")
    return str(value)


_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,200}")
# a value is written on one line of the config file (flinkconf.render_config)
_BREAK = re.compile(r"[\r\n\0]")

DAY = 86_400
UNKNOWN_SETTING = "unknown setting"


def parse_restart(raw: Any) -> RestartStrategy:
    if raw is None:
        return RestartStrategy()
    if not isinstance(raw, Mapping):
        raise wrong_setting(
            "restart",
            'an object such as {"type": "fixed-delay"}',
            '须为对象，例如 {"type": "fixed-delay"}',
        )
    known = {f for f in RestartStrategy.__dataclass_fields__}
    for key in raw:
        if key not in known:
            raise _unknown_setting(f"restart.{str(key)[:40]}")
    base = RestartStrategy()
    return RestartStrategy(
        type=_choice(raw, "type", base.type, RESTART_TYPES),
        attempts=_int(raw, "attempts", base.attempts, 1, 1_000_000, "restart.attempts"),
        delay_seconds=_int(
            raw, "delay_seconds", base.delay_seconds, 0, DAY, "restart.delay_seconds"
        ),
        max_failures=_int(
            raw, "max_failures", base.max_failures, 1, 10_000, "restart.max_failures"
        ),
        interval_seconds=_int(
            raw, "interval_seconds", base.interval_seconds, 1, DAY, "restart.interval_seconds"
        ),
        initial_seconds=_int(
            raw, "initial_seconds", base.initial_seconds, 1, DAY, "restart.initial_seconds"
        ),
        max_seconds=_int(raw, "max_seconds", base.max_seconds, 1, DAY, "restart.max_seconds"),
    )


def check_flink_config(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise wrong_setting(
            "flink_config", "an object of key: value strings", "须为“键: 值”字符串组成的对象"
        )
    if len(raw) > MAX_CONFIG_ENTRIES:
        raise wrong_setting(
            "flink_config",
            f"at most {MAX_CONFIG_ENTRIES} keys",
            f"最多 {MAX_CONFIG_ENTRIES} 个键",
        )
    checked: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or _KEY.fullmatch(key) is None:
            raise wrong_setting(
                "flink_config",
                f"{str(key)[:80]!r} is not a Flink key",
                f"{str(key)[:80]!r} 不是 Flink 配置键",
            )
        if not flinkconf.is_allowed_key(key):
            raise wrong_setting(
                "flink_config",
                f"key {jobpaths.key_refusal(key)}",
                f"配置键{jobpaths.key_refusal_zh(key)}",
            )
        if isinstance(value, bool):
            value = "true" if value else "false"
        text = str(value)
        if not isinstance(value, str | int | float) or len(text) > 1000 or _BREAK.search(text):
            raise wrong_setting(
                f"flink_config.{key}",
                "a string of at most 1000 characters on one line",
                "须为一行、最多 1000 个字符的字符串",
            )
        checked[key] = text
    return checked


@dataclass(frozen=True)
class Attached:
    """A resource attached to a job (an object of one of the account's buckets), as a
    revision and a deployment freeze it."""

    bucket: str
    key: str
    kind: str  # jar | file

    def as_dict(self) -> dict[str, str]:
        return {"bucket": self.bucket, "key": self.key, "kind": self.kind}


def attached_of(raw: Any) -> tuple[Attached, ...]:
    """Stored attachments ([{bucket, key, kind}]) as values."""
    return tuple(Attached(str(r["bucket"]), str(r["key"]), str(r["kind"])) for r in raw or ())


def parse_settings(raw: Any, base: JobSettings | None = None) -> JobSettings:
    """Settings from a request body (a partial update over `base`); errors.Invalid if wrong."""
    current = base or JobSettings()
    if raw is None:
        return current
    if not isinstance(raw, Mapping):
        raise errors.Invalid(
            "settings: an object", "作业设置须为对象", code="InvalidParameter.JobSettings"
        )
    known = set(JobSettings.__dataclass_fields__)
    for key in raw:
        if key not in known:
            raise _unknown_setting(str(key)[:40])
    merged = {**current.as_dict(), **raw}
    bucket = merged.get("state_bucket") or ""
    if not isinstance(bucket, str) or (bucket and not names.BUCKET.fits(bucket)):
        raise wrong_setting(
            "state_bucket",
            "a bucket name (3-63 lowercase letters, digits, -)",
            "须为存储空间名称（3-63 个小写字母、数字或 -）",
        )
    return JobSettings(
        parallelism=_int(merged, "parallelism", 1, 1, MAX_PARALLELISM, "parallelism"),
        checkpoint_interval_seconds=_int(
            merged, "checkpoint_interval_seconds", 60, 1, DAY, "checkpoint_interval_seconds"
        ),
        checkpoint_mode=_choice(merged, "checkpoint_mode", "exactly_once", CHECKPOINT_MODES),
        state_ttl_seconds=_int(merged, "state_ttl_seconds", 0, 0, 3650 * DAY, "state_ttl_seconds"),
        restart=parse_restart(merged.get("restart")),
        flink_config=check_flink_config(merged.get("flink_config")),
        state_bucket=bucket,
    )


def restart_config(restart: RestartStrategy) -> dict[str, str]:
    if restart.type == "none":
        return {"restart-strategy.type": "none"}
    if restart.type == "fixed-delay":
        return {
            "restart-strategy.type": "fixed-delay",
            "restart-strategy.fixed-delay.attempts": str(restart.attempts),
            "restart-strategy.fixed-delay.delay": f"{restart.delay_seconds} s",
        }
    if restart.type == "failure-rate":
        return {
            "restart-strategy.type": "failure-rate",
            "restart-strategy.failure-rate.max-failures-per-interval": str(restart.max_failures),
            "restart-strategy.failure-rate.failure-rate-interval": f"{restart.interval_seconds} s",
            "restart-strategy.failure-rate.delay": f"{restart.delay_seconds} s",
        }
    return {
        "restart-strategy.type": "exponential-delay",
        "restart-strategy.exponential-delay.initial-backoff": f"{restart.initial_seconds} s",
        "restart-strategy.exponential-delay.max-backoff": f"{restart.max_seconds} s",
    }


def flink_config(
    version: str, settings: JobSettings, *, checkpoint_dir: str, savepoint_dir: str
) -> dict[str, str]:
    """The Flink keys of a job's settings for its version (user keys last, allow-listed)."""
    keys = flinkconf.state_keys(version)
    config = {
        keys.checkpoint_interval: f"{settings.checkpoint_interval_seconds} s",
        keys.checkpoint_mode: settings.checkpoint_mode.upper(),
        keys.checkpoint_dir: checkpoint_dir,
        keys.savepoint_dir: savepoint_dir,
        keys.retention: "RETAIN_ON_CANCELLATION",
        "parallelism.default": str(settings.parallelism),
        **restart_config(settings.restart),
    }
    if settings.state_ttl_seconds:
        config["table.exec.state.ttl"] = f"{settings.state_ttl_seconds} s"
    config.update(settings.flink_config)
    return config


def restore_config(version: str, path: str | None, allow_non_restored: bool) -> dict[str, str]:
    if not path:
        return {}
    keys = flinkconf.state_keys(version)
    return {
        keys.restore_path: path,
        keys.allow_non_restored: "true" if allow_non_restored else "false",
    }


# ---- names and folders ------------------------------------------------------------------

FOLDER_SEGMENT = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_\-. ]{0,63}")
MAX_FOLDER_DEPTH = 8


def folder_path(raw: str) -> str:
    """'/a/b' normalised; errors.Invalid with the rule when it is not a folder path."""
    if not raw.startswith("/"):
        raise _wrong_folder(
            "a folder path starts with / (e.g. /etl/daily)",
            "文件夹路径须以 / 开头（例如 /etl/daily）",
        )
    parts = [p for p in raw.split("/") if p]
    if len(parts) > MAX_FOLDER_DEPTH:
        raise _wrong_folder(
            f"folders nest at most {MAX_FOLDER_DEPTH} deep",
            f"文件夹最多嵌套 {MAX_FOLDER_DEPTH} 层",
        )
    for part in parts:
        if part in (".", "..") or FOLDER_SEGMENT.fullmatch(part) is None or part.endswith(" "):
            raise _wrong_folder(
                f"folder name {part[:64]!r}: 1-64 letters, digits, _ - . or spaces, "
                "not starting with . or a space",
                f"文件夹名 {part[:64]!r} 有误：须为 1-64 个字母、数字、_ - . 或空格，"
                "且不以 . 或空格开头",
            )
    return "/" + "/".join(parts)


def _wrong_folder(rule: str, rule_zh: str) -> errors.Invalid:
    return errors.Invalid(f"folder: {rule}", rule_zh, code="InvalidParameter.Folder")


def parent_of(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"
