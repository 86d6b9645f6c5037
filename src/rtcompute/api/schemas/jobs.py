"""Jobs: folders, drafts, revisions, the online job's lifecycle, what it shows while it runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, StrictBool

from rtcompute.api.schemas import base
from rtcompute.api.schemas import engines as engine_schemas

MAX_SQL_CHARS = engine_schemas.MAX_SQL_CHARS
# ids and revision numbers are 32-bit integer columns: a larger number is a 422, not a
# database overflow
MAX_NUMBER = 2**31 - 1


class FolderCreate(base.RequestModel):
    path: str = Field(min_length=1, max_length=600, description="e.g. /etl/daily")


class FolderMove(base.RequestModel):
    path: str = Field(min_length=1, max_length=600)
    to: str = Field(min_length=1, max_length=600, description="the new path (rename or move)")


class Folders(base.ResponseModel):
    folders: list[str]


class JobCreate(base.RequestModel):
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_SQL_CHARS)
    name: base.JobName
    folder: str = Field(default="/", max_length=600)
    sql: str = Field(default="", max_length=MAX_SQL_CHARS)
    settings: dict[str, Any] | None = Field(
        default=None, description="parallelism, checkpointing, state TTL, restart, flink_config"
    )
    engine_version: str = Field(
        default="", max_length=32, description="empty: the cluster's current version"
    )
    description: str = Field(default="", max_length=1024)


class JobUpdate(base.RequestModel):
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_SQL_CHARS)
    sql: str | None = Field(default=None, max_length=MAX_SQL_CHARS)
    settings: dict[str, Any] | None = Field(default=None, description="a partial update")
    engine_version: str | None = Field(default=None, max_length=32)
    description: str | None = Field(default=None, max_length=1024)
    message: str = Field(default="", max_length=256, description="the revision's note")
    base_revision: int | None = Field(
        default=None,
        ge=0,
        le=MAX_NUMBER,
        description="refuse the save if the job moved past this revision",
    )


class JobMove(base.RequestModel):
    folder: str | None = Field(default=None, max_length=600)
    name: base.JobName | None = Field(default=None, description="a new name")


class Job(base.ResponseModel):
    name: str
    folder: str
    description: str
    engine_version: str
    sql: str
    settings: dict[str, Any]
    revision: int
    checked_revision: int
    state: str
    online_revision: int | None
    cu: float
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class JobSummary(base.ResponseModel):
    name: str
    folder: str
    engine_version: str
    revision: int
    state: str
    online_revision: int | None
    cu: float
    updated_at: datetime
    deployed_version: str = Field(
        default="", description="the engine version the online deployment runs (resolved)"
    )
    held_cu: float | None = Field(
        default=None, description="the CU the deployment holds while it runs"
    )


class Revision(base.ResponseModel):
    number: int
    sql: str
    settings: dict[str, Any]
    engine_version: str
    message: str
    created_by: str
    created_at: datetime


class Diff(base.ResponseModel):
    diff: str = Field(description="a unified diff of SQL, engine version and settings")


class StartRequest(base.RequestModel):
    mode: str = Field(
        default="stateless",
        max_length=24,
        description="stateless | latest_checkpoint | latest_savepoint | savepoint",
    )
    savepoint_id: int | None = Field(
        default=None, ge=1, le=MAX_NUMBER, description="with mode savepoint"
    )
    allow_non_restored_state: StrictBool = False


class StopRequest(base.RequestModel):
    mode: str = Field(default="savepoint", max_length=16, description="savepoint | cancel")


class Deployment(base.ResponseModel):
    job: str
    revision: int
    engine_version: str
    target: str
    cu: float
    parallelism: int
    desired: str
    state: str = Field(
        description="online | starting | running | restarting | stopping | stopped | "
        "suspended | failed | finished (`restarting`: Flink restarts it after a failure)"
    )
    flink_state: str = Field(description="Flink's own state of the job, as last read")
    flink_job_id: str
    flink_duration_ms: int = Field(
        description=(
            "how long the job's tasks have been processing in Flink (from the last task's "
            "RUNNING, after deployment and start-up, to the job's end), Flink's clock"
        )
    )
    run: int
    restarts: int = Field(
        description="failovers of the current run: Flink's restarts plus its JobManager's"
    )
    start_mode: str
    stop_mode: str
    message: str = Field(description="why the state, in the Accept-Language language")
    published_by: str
    published_at: datetime
    state_since: datetime


class Savepoint(base.ResponseModel):
    id: int
    run: int
    kind: str
    reason: str
    location: str
    created_at: datetime


class Event(base.ResponseModel):
    at: datetime = Field(description="when it happened (its last time, when folded)")
    kind: str = Field(description="state | failover | checkpoint | alert")
    message: str = Field(description="in the Accept-Language language (zh or en)")
    count: int = Field(default=1, description="identical events folded into this one")
    first_at: datetime | None = Field(default=None, description="the first time, when folded")


class MetricSample(base.ResponseModel):
    at: datetime
    run: int
    records_in_per_second: float | None
    records_out_per_second: float | None
    backpressure: float | None
    watermark_lag_ms: int | None
    checkpoint_duration_ms: int | None
    checkpoint_size_bytes: int | None


class LogFile(base.ResponseModel):
    name: str
    process: str
    kind: str
    size_bytes: int


class AlertRule(base.RequestModel):
    kind: str = Field(max_length=24, description="failed | restarts | checkpoint_failures")
    threshold: int = Field(default=0, description="alert when the count is above it")
    window_seconds: int = Field(default=600)


class AlertRules(base.RequestModel):
    rules: list[AlertRule] = Field(max_length=3)


class JobResourceRef(base.RequestModel):
    bucket: str = Field(max_length=63, description="a bucket of the account")
    key: str = Field(max_length=1024, description="the object's key; `.jar` keys are JARs")


class JobResourcesUpdate(base.RequestModel):
    resources: list[JobResourceRef] = Field(
        max_length=256, description="the whole list (at most 32); replaces the current one"
    )


class JobResource(base.ResponseModel):
    bucket: str
    key: str
    kind: str = Field(description="jar (on the job's classpath) | file")
    created_at: datetime


class JobResources(base.ResponseModel):
    resources: list[JobResource]
