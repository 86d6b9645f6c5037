"""What a tenant watches of a job: metric readings (recorded by the job reconciler), and the
log and stdout files of its Flink processes, of the current or last run.

Logs are read from the run's directory (`<data>/flink/<run>/log`: `flink-<process>-*.log`
and `<process>.out`, where the print sink writes); a name is served only if the listing
has it, so a request cannot reach any other file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from rtcompute import errors
from rtcompute.services.capacity import projects
from rtcompute.services.jobs import drafts as jobs
from rtcompute.services.jobs import records as job_records
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import jobs as job_store

MAX_SAMPLES = 720


@dataclass(frozen=True)
class MetricSample(job_records.Sample):
    """A reading as recorded, with when and of which run."""

    at: datetime
    run: int


@dataclass(frozen=True)
class LogFile:
    name: str
    process: str
    kind: str  # log | out
    size_bytes: int
    modified_at: float


def metrics(
    platform: platform_module.Platform, account_id: str, project: str, name: str, limit: int = 120
) -> list[MetricSample]:
    """The newest readings, oldest first (for a chart)."""
    limit = max(1, min(limit, MAX_SAMPLES))
    with db.transaction(platform.sessions) as session:
        job = jobs.find(session, projects.find(session, account_id, project), name)
        table = job_store.MetricSample
        query = select(table).where(table.job_id == job.id).order_by(table.id.desc()).limit(limit)
        rows = list(session.scalars(query))
    return [
        MetricSample(
            at=r.at,
            run=r.run,
            records_in_per_second=r.records_in_per_second,
            records_out_per_second=r.records_out_per_second,
            backpressure=r.backpressure,
            watermark_lag_ms=r.watermark_lag_ms,
            checkpoint_duration_ms=r.checkpoint_duration_ms,
            checkpoint_size_bytes=r.checkpoint_size_bytes,
        )
        for r in reversed(rows)
    ]


def _log_dir(platform: platform_module.Platform, account_id: str, project: str, name: str) -> Path:
    with db.transaction(platform.sessions) as session:
        job = jobs.find(session, projects.find(session, account_id, project), name)
        deployment = job_store.read_deployment(session=session, job_id=job.id)
        number = deployment.run if deployment else 0
        run = job_store.read_run(session=session, job_id=job.id, number=number) if number else None
        if run is None:
            raise errors.NotFound(
                f"job {name} has not run yet: no logs",
                f"作业 {name} 尚未运行过，没有日志",
                code="JobLogsNotFound",
            )
        return Path(run.directory) / "log"


def _process_of(file_name: str) -> str:
    if file_name.endswith(".out"):
        return file_name[: -len(".out")]
    parts = file_name.removeprefix("flink-").split("-")
    return "-".join(parts[:2])


def list_logs(
    platform: platform_module.Platform, account_id: str, project: str, name: str
) -> list[LogFile]:
    directory = _log_dir(platform, account_id, project, name)
    found: list[LogFile] = []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return []
    for entry in entries:
        if not entry.is_file(follow_symlinks=False):
            continue
        kind = "out" if entry.name.endswith(".out") else "log" if ".log" in entry.name else ""
        if not kind:
            continue
        stat = entry.stat(follow_symlinks=False)
        found.append(
            LogFile(entry.name, _process_of(entry.name), kind, stat.st_size, stat.st_mtime)
        )
    return found


def log_file(
    platform: platform_module.Platform, account_id: str, project: str, name: str, file_name: str
) -> Path:
    """The file to send; only a name the listing shows."""
    listed = {f.name for f in list_logs(platform, account_id, project, name)}
    if file_name not in listed:
        raise errors.NotFound(
            f"job {name} has no log file {file_name[:200]}",
            f"作业 {name} 没有日志文件 {file_name[:200]}，请刷新列表",
            code="NoSuchLog",
        )
    return _log_dir(platform, account_id, project, name) / file_name
