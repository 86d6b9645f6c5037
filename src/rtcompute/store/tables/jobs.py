"""Tables of jobs: folders, drafts and their revisions, the deployment an online job is, the
runs (per-job Flink clusters) of a deployment, savepoints, events, alert rules and attached
resources.

A draft and its deployment are separate rows on purpose: going online freezes a revision
(its SQL, settings and engine version) into the deployment, so editing the draft while the
job runs never changes what runs. The deployment carries the desired state the API writes
and the observed state the job reconciler writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from rtcompute.domain import job_placement
from rtcompute.domain import jobs as job_rules
from rtcompute.store.tables.base import Base, UtcDateTime


class Settings(TypeDecorator[job_rules.JobSettings]):
    """A job's settings: a JSON column read once into `domain/jobs.JobSettings`."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return value.as_dict() if isinstance(value, job_rules.JobSettings) else value

    def process_result_value(self, value: Any, dialect: Dialect) -> job_rules.JobSettings:
        return job_rules.parse_settings(value or {})


class AttachedList(TypeDecorator[tuple[job_rules.Attached, ...]]):
    """The resources a revision or deployment froze: a JSON column of [{bucket, key, kind}]."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return [item.as_dict() for item in value or ()]

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[job_rules.Attached, ...]:
        return job_rules.attached_of(value)


class Placement(TypeDecorator[tuple[job_placement.Process, ...]]):
    """A run's Flink processes and their nodes: a JSON column read once into Processes."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return job_placement.to_json(tuple(value or ()))

    def process_result_value(
        self, value: Any, dialect: Dialect
    ) -> tuple[job_placement.Process, ...]:
        return job_placement.from_json(value or [])


class Folder(Base):
    """A folder of a project's jobs, by its full path (`/etl/daily`); `/` is implicit."""

    __tablename__ = "job_folders"
    __table_args__ = (UniqueConstraint("project_id", "path"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(600))
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Job(Base):
    """A streaming SQL job's draft: the text being edited, its settings and chosen version."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    folder: Mapped[str] = mapped_column(String(600), default="/")
    description: Mapped[str] = mapped_column(String(1024), default="")
    # "" = the current version of the project's cluster (or of the shared pool)
    engine_version: Mapped[str] = mapped_column(String(32), default="")
    sql: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[job_rules.JobSettings] = mapped_column(Settings, default=job_rules.JobSettings)
    revision: Mapped[int] = mapped_column(Integer, default=0)  # the head revision's number
    checked_revision: Mapped[int] = mapped_column(Integer, default=0)
    # draft | checked | online | offline (domain/jobs.py)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class JobRevision(Base):
    """One save of a draft: immutable."""

    __tablename__ = "job_revisions"
    __table_args__ = (UniqueConstraint("job_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    sql: Mapped[str] = mapped_column(Text)
    settings: Mapped[job_rules.JobSettings] = mapped_column(Settings)
    engine_version: Mapped[str] = mapped_column(String(32))
    # the attached resources at this save (migration 0008)
    resources: Mapped[tuple[job_rules.Attached, ...]] = mapped_column(
        AttachedList, default=tuple, server_default="[]"
    )
    message: Mapped[str] = mapped_column(String(256), default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class JobDeployment(Base):
    """An online job: a frozen revision, where it runs, what is wanted and what is seen."""

    __tablename__ = "job_deployments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    sql: Mapped[str] = mapped_column(Text)
    settings: Mapped[job_rules.JobSettings] = mapped_column(Settings)
    engine_version: Mapped[str] = mapped_column(String(32))
    # the resources frozen with the revision (migration 0008)
    resources: Mapped[tuple[job_rules.Attached, ...]] = mapped_column(
        AttachedList, default=tuple, server_default="[]"
    )
    cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE"), default=None
    )  # None: the shared pool
    state_bucket: Mapped[str] = mapped_column(String(63))
    cu_milli: Mapped[int] = mapped_column(Integer)
    desired: Mapped[str] = mapped_column(String(16))  # running | stopped | suspended
    state: Mapped[str] = mapped_column(String(16))  # domain/jobs.DEPLOYMENT_STATES
    # Flink's own word for the job (RUNNING, RESTARTING, FAILING, ...), as last read
    flink_state: Mapped[str] = mapped_column(String(16), default="")
    start_mode: Mapped[str] = mapped_column(String(24), default="stateless")
    savepoint_id: Mapped[int | None] = mapped_column(Integer, default=None)
    allow_non_restored: Mapped[bool] = mapped_column(default=False)
    stop_mode: Mapped[str] = mapped_column(String(16), default="savepoint")
    run: Mapped[int] = mapped_column(Integer, default=0)  # the current or last run's number
    restarts: Mapped[int] = mapped_column(Integer, default=0)  # of the current run
    checkpoint_failures: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    # the state message in Chinese ("" when it has none: the English one shows; 0012)
    message_zh: Mapped[str] = mapped_column(Text, default="", server_default="")
    published_by: Mapped[str] = mapped_column(String(200), default="")
    published_at: Mapped[datetime] = mapped_column(UtcDateTime())
    desired_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state_since: Mapped[datetime] = mapped_column(UtcDateTime())


class JobRun(Base):
    """One start of a deployment: its own Flink cluster, placed on the project's nodes."""

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job_id", "number"),
        # a port block belongs to one live run; an ended run gives it back
        Index(
            "uq_job_runs_port_base_live",
            "port_base",
            unique=True,
            sqlite_where=text("step != 'ended'"),
            postgresql_where=text("step != 'ended'"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    engine_version: Mapped[str] = mapped_column(String(32))
    port_base: Mapped[int] = mapped_column(Integer)
    placement: Mapped[tuple[job_placement.Process, ...]] = mapped_column(Placement)
    directory: Mapped[str] = mapped_column(String(1024))
    # the run's flat Flink configuration, fixed when it was placed (empty before 0009)
    config: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    # launching | submitting | running | stopping | ended
    step: Mapped[str] = mapped_column(String(16))
    restore_path: Mapped[str] = mapped_column(Text, default="")
    flink_job_id: Mapped[str] = mapped_column(String(32), default="")
    # the request id of a stop-with-savepoint in flight (Flink's trigger id)
    trigger_id: Mapped[str] = mapped_column(String(64), default="")
    # how long Flink has run the job (its own `duration`, ms), as last read
    flink_duration_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    # failovers already counted from Flink's exception history (its newest timestamp, ms)
    failover_seen_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    # JobManager failovers the platform saw (a standby took over, or it was started
    # again); the deployment's restarts include them (0012)
    jobmanager_failovers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    message: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    running_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class JobSavepoint(Base):
    """A savepoint (or a retained checkpoint) a later start may restore from."""

    __tablename__ = "job_savepoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    run: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # savepoint | checkpoint
    reason: Mapped[str] = mapped_column(String(16))  # stop | suspend | manual | cancel
    location: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class JobEvent(Base):
    """What happened to a job: state changes, failovers, checkpoint failures, alerts.

    An event identical to the job's latest one (same kind and message) is folded into it:
    `count` goes up, `at` is the last time and `first_at` the first (0012)."""

    __tablename__ = "job_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(16))  # state | failover | checkpoint | alert
    message: Mapped[str] = mapped_column(Text)
    message_zh: Mapped[str] = mapped_column(Text, default="", server_default="")
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    first_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class JobAlertRule(Base):
    """Alert when the job fails, restarts or fails checkpoints more than `threshold` times
    within `window_seconds`."""

    __tablename__ = "job_alert_rules"
    __table_args__ = (UniqueConstraint("job_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))  # failed | restarts | checkpoint_failures
    threshold: Mapped[int] = mapped_column(Integer, default=0)
    window_seconds: Mapped[int] = mapped_column(Integer, default=600)
    last_fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class JobResource(Base):
    """A JAR or file of a bucket attached to a job: it reaches the job's classpath."""

    __tablename__ = "job_resources"
    __table_args__ = (UniqueConstraint("job_id", "bucket", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    bucket: Mapped[str] = mapped_column(String(63))
    key: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(8))  # jar | file
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class JobMetricSample(Base):
    """One reading of a running job's metrics; the reconciler keeps the newest few hundred."""

    __tablename__ = "job_metric_samples"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    run: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    # None: Flink had no reading yet (its metrics are fetched lazily)
    records_in_per_second: Mapped[float | None] = mapped_column(Float, default=None)
    records_out_per_second: Mapped[float | None] = mapped_column(Float, default=None)
    backpressure: Mapped[float | None] = mapped_column(Float, default=None)
    watermark_lag_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    checkpoint_duration_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    checkpoint_size_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
