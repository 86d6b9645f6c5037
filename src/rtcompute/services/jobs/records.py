"""What the job reconciler saw, recorded: state moves, runs' steps, events, savepoints,
metric samples, failover and checkpoint counts.

Each function is one short transaction, so a reconciler pass records what it learnt step
by step and a crash in between loses nothing already seen. Every state change goes through
`domain/jobs.MOVES` (`move`): one that the API's desired state has overtaken is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select

from rtcompute.domain import job_events
from rtcompute.domain import jobs as job_rules
from rtcompute.services.jobs import runs as job_runs
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import jobs as job_store


def move(
    platform: platform_module.Platform,
    job_id: int,
    target: str,
    *,
    message: str | job_events.Said = "",
    flink_state: str | None = None,
    expect_desired: str | None = None,
) -> bool:
    """Move the deployment's observed state along MOVES; False when it is not allowed (the
    API changed the desired state in between). A plain `message` has no Chinese text."""
    said = _said(message)
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        deployment = job_store.read_deployment(session=session, job_id=job_id, lock=True)
        if deployment is None or not job_rules.can_move(deployment.state, target):
            return False
        if expect_desired is not None and deployment.desired != expect_desired:
            return False
        deployment.state, deployment.state_since = target, now
        deployment.message, deployment.message_zh = said.en[:4000], said.zh[:4000]
        if flink_state is not None:
            deployment.flink_state = flink_state
        if (
            target in (job_rules.STOPPED, job_rules.FAILED, job_rules.FINISHED)
            and deployment.desired == job_rules.WANT_RUNNING
        ):
            deployment.desired = job_rules.WANT_STOPPED
        note = job_events.moved(target, said if said.en else None)
        job_store.add_event(
            session=session,
            job_id=job_id,
            at=now,
            kind=job_events.STATE,
            message=note.en,
            message_zh=note.zh,
        )
        return True


def _said(message: str | job_events.Said) -> job_events.Said:
    return message if isinstance(message, job_events.Said) else job_events.Said(message, "")


def update_run(
    platform: platform_module.Platform, job_id: int, number: int, **fields: object
) -> None:
    with db.transaction(platform.sessions) as session:
        run = job_store.read_run(session=session, job_id=job_id, number=number)
        if run is None:
            return
        for name, value in fields.items():
            setattr(run, name, value)
        if fields.get("step") == job_runs.ENDED:
            run.ended_at = platform.now()
        if fields.get("step") == job_runs.RUN_RUNNING and run.running_at is None:
            run.running_at = platform.now()


def observe(
    platform: platform_module.Platform,
    job_id: int,
    *,
    flink_state: str,
    restarts: int | None = None,
    checkpoint_failures: int | None = None,
    message: str | job_events.Said | None = None,
) -> None:
    with db.transaction(platform.sessions) as session:
        deployment = job_store.read_deployment(session=session, job_id=job_id)
        if deployment is None:
            return
        deployment.flink_state = flink_state
        if restarts is not None:
            deployment.restarts = restarts
        if checkpoint_failures is not None:
            deployment.checkpoint_failures = checkpoint_failures
        if message is not None:
            said = _said(message)
            deployment.message, deployment.message_zh = said.en[:4000], said.zh[:4000]


def add_event(
    platform: platform_module.Platform,
    job_id: int,
    kind: str,
    message: str | job_events.Said,
    at: datetime | None = None,
) -> None:
    """An event (folded into the job's latest one of its kind when it says the same); a
    plain `message` has no Chinese text."""
    message = _said(message)
    with db.transaction(platform.sessions) as session:
        job_store.add_event(
            session=session,
            job_id=job_id,
            at=at or platform.now(),
            kind=kind,
            message=message.en,
            message_zh=message.zh,
        )


def record_savepoint(
    platform: platform_module.Platform,
    job_id: int,
    run: int,
    *,
    kind: str,
    reason: str,
    location: str,
) -> None:
    """Keep a savepoint; a run's retained checkpoint is one row, moved to the newest."""
    with db.transaction(platform.sessions) as session:
        if kind == "checkpoint":
            existing = session.scalars(
                select(job_store.Savepoint).where(
                    job_store.Savepoint.job_id == job_id,
                    job_store.Savepoint.run == run,
                    job_store.Savepoint.kind == "checkpoint",
                )
            ).first()
            if existing is not None:
                if existing.location != location:
                    existing.location, existing.created_at = location, platform.now()
                return
        session.add(
            job_store.Savepoint(
                job_id=job_id,
                run=run,
                kind=kind,
                reason=reason,
                location=location,
                created_at=platform.now(),
            )
        )


def forget_checkpoints(platform: platform_module.Platform, job_id: int, run: int) -> None:
    """A stop with savepoint removes the run's checkpoints (FLINK-NOTES): drop their row."""
    with db.transaction(platform.sessions) as session:
        session.execute(
            delete(job_store.Savepoint).where(
                job_store.Savepoint.job_id == job_id,
                job_store.Savepoint.run == run,
                job_store.Savepoint.kind == "checkpoint",
            )
        )


@dataclass(frozen=True)
class Sample:
    records_in_per_second: float | None
    records_out_per_second: float | None
    backpressure: float | None
    watermark_lag_ms: int | None
    checkpoint_duration_ms: int | None
    checkpoint_size_bytes: int | None


def record_metrics(
    platform: platform_module.Platform, job_id: int, run: int, sample: Sample
) -> None:
    keep = platform.settings.jobs.metric_samples_kept
    with db.transaction(platform.sessions) as session:
        session.add(
            job_store.MetricSample(job_id=job_id, run=run, at=platform.now(), **sample.__dict__)
        )
        session.flush()
        old = select(job_store.MetricSample.id).where(job_store.MetricSample.job_id == job_id)
        ids = list(session.scalars(old.order_by(job_store.MetricSample.id.desc()).offset(keep)))
        if ids:
            session.execute(
                delete(job_store.MetricSample).where(job_store.MetricSample.id.in_(ids))
            )


def from_millis(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def latest_checkpoint(platform: platform_module.Platform, job_id: int, run: int) -> str | None:
    """The newest retained checkpoint of the job whose metadata is still on disk."""
    with db.transaction(platform.sessions) as session:
        rows = [
            s
            for s in job_store.list_savepoints(session=session, job_id=job_id)
            if s.kind == "checkpoint"
        ]
    for row in rows:
        if os.path.exists(os.path.join(job_runs.local_path(row.location), "_metadata")):
            return row.location
    return None


def count_failovers(
    platform: platform_module.Platform, job_id: int, run: int, count: int, newest_ms: int
) -> None:
    """Failovers Flink recorded (its exception history, up to `newest_ms`)."""
    with db.transaction(platform.sessions) as session:
        deployment = job_store.read_deployment(session=session, job_id=job_id)
        found = job_store.read_run(session=session, job_id=job_id, number=run)
        if deployment is None or found is None:
            return
        deployment.restarts += count
        found.failover_seen_ms = max(found.failover_seen_ms, newest_ms)


def count_jobmanager_failover(platform: platform_module.Platform, job_id: int, run: int) -> None:
    """The platform saw the run's JobManager fail over (a standby took over, or it was
    started again): one more restart of the job, kept per run."""
    with db.transaction(platform.sessions) as session:
        deployment = job_store.read_deployment(session=session, job_id=job_id)
        found = job_store.read_run(session=session, job_id=job_id, number=run)
        if deployment is None or found is None:
            return
        found.jobmanager_failovers += 1
        if deployment.run == run:
            deployment.restarts += 1


def count_checkpoint_failures(
    platform: platform_module.Platform, job_id: int, failed: int, reason: str = ""
) -> None:
    """Flink's count of failed checkpoints of the run; each new one is an event, with
    Flink's reason for the latest failure when it gave one."""
    with db.transaction(platform.sessions) as session:
        deployment = job_store.read_deployment(session=session, job_id=job_id)
        if deployment is None or failed <= deployment.checkpoint_failures:
            if deployment is not None and failed < deployment.checkpoint_failures:
                deployment.checkpoint_failures = failed  # a new run counts from 0
            return
        now = platform.now()
        said = job_events.checkpoint_failed(reason)
        for _ in range(failed - deployment.checkpoint_failures):
            job_store.add_event(
                session=session,
                job_id=job_id,
                at=now,
                kind=job_events.CHECKPOINT,
                message=said.en,
                message_zh=said.zh,
            )
        deployment.checkpoint_failures = failed


def stop_failed(platform: platform_module.Platform, job_id: int, message: job_events.Said) -> None:
    """A stop with savepoint that failed: the job runs on, and is wanted running again."""
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        deployment = job_store.read_deployment(session=session, job_id=job_id, lock=True)
        if deployment is None or not job_rules.can_move(deployment.state, job_rules.RUNNING):
            return
        deployment.state, deployment.state_since = job_rules.RUNNING, now
        deployment.desired, deployment.desired_at = job_rules.WANT_RUNNING, now
        deployment.message, deployment.message_zh = message.en[:4000], message.zh[:4000]
        job_store.add_event(
            session=session,
            job_id=job_id,
            at=now,
            kind=job_events.STATE,
            message=message.en,
            message_zh=message.zh,
        )
