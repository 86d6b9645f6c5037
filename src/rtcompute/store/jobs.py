"""Data access for jobs: folders, drafts, revisions, deployments, runs, savepoints, events.

Functions take `session` by keyword and never commit: the service owns the transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rtcompute.domain import job_placement
from rtcompute.store import tables
from rtcompute.store.tables import jobs as job_tables

Folder = job_tables.Folder
Job = job_tables.Job
Revision = job_tables.JobRevision
Deployment = job_tables.JobDeployment
Run = job_tables.JobRun
Savepoint = job_tables.JobSavepoint
Event = job_tables.JobEvent
AlertRule = job_tables.JobAlertRule
Resource = job_tables.JobResource
MetricSample = job_tables.JobMetricSample
# repeats further apart than this start a new row: a folded row's occurrences are then close
# together, so a count over a window (count_events) is near exact at the window's edge too
FOLD_GAP = timedelta(minutes=5)

# ---- folders ----------------------------------------------------------------------------


def list_folders(*, session: Session, project_id: int) -> list[Folder]:
    query = select(Folder).where(Folder.project_id == project_id).order_by(Folder.path)
    return list(session.scalars(query))


def read_folder(*, session: Session, project_id: int, path: str) -> Folder | None:
    query = select(Folder).where(Folder.project_id == project_id, Folder.path == path)
    return session.scalars(query).one_or_none()


def folders_under(*, session: Session, project_id: int, path: str) -> list[Folder]:
    """The folder and everything below it."""
    query = select(Folder).where(
        Folder.project_id == project_id,
        (Folder.path == path) | Folder.path.startswith(path + "/", autoescape=True),
    )
    return list(session.scalars(query))


def jobs_under(*, session: Session, project_id: int, path: str) -> list[Job]:
    query = select(Job).where(
        Job.project_id == project_id,
        (Job.folder == path) | Job.folder.startswith(path + "/", autoescape=True),
    )
    return list(session.scalars(query))


# ---- drafts -----------------------------------------------------------------------------


def list_jobs(*, session: Session, project_id: int, folder: str | None = None) -> list[Job]:
    query = select(Job).where(Job.project_id == project_id)
    if folder is not None:
        query = query.where(Job.folder == folder)
    return list(session.scalars(query.order_by(Job.name)))


def read_job(*, session: Session, project_id: int, name: str, lock: bool = False) -> Job | None:
    query = select(Job).where(Job.project_id == project_id, Job.name == name)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def read_job_by_id(*, session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def delete_job(*, session: Session, job: Job) -> None:
    session.delete(job)


def list_revisions(*, session: Session, job_id: int) -> list[Revision]:
    query = select(Revision).where(Revision.job_id == job_id).order_by(Revision.number.desc())
    return list(session.scalars(query))


def read_revision(*, session: Session, job_id: int, number: int) -> Revision | None:
    query = select(Revision).where(Revision.job_id == job_id, Revision.number == number)
    return session.scalars(query).one_or_none()


# ---- deployments ------------------------------------------------------------------------


def read_deployment(*, session: Session, job_id: int, lock: bool = False) -> Deployment | None:
    query = select(Deployment).where(Deployment.job_id == job_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def deployments_of_project(*, session: Session, project_id: int) -> list[Deployment]:
    query = select(Deployment).where(Deployment.project_id == project_id)
    return list(session.scalars(query))


def list_deployments(
    *, session: Session, states: Collection[str] | None = None
) -> list[Deployment]:
    query = select(Deployment).order_by(Deployment.id)
    if states is not None:
        query = query.where(Deployment.state.in_(states))
    return list(session.scalars(query))


def deployments_to_reconcile(*, session: Session, active: Collection[str]) -> list[Deployment]:
    """Deployments whose processes may be up, or whose desired state is not reached yet."""
    query = (
        select(Deployment)
        .where(
            Deployment.state.in_(active)
            | ((Deployment.desired == "running") & (Deployment.state != "running"))
        )
        .order_by(Deployment.id)
    )
    return list(session.scalars(query))


def jobs_using(*, session: Session, cluster_id: int | None, version: str) -> list[tuple[str, str]]:
    """(job, project) of online jobs on the cluster (None: the shared pool) pinning `version`."""
    Project = tables.Project
    where_cluster = (
        Deployment.cluster_id.is_(None)
        if cluster_id is None
        else Deployment.cluster_id == cluster_id
    )
    query = (
        select(Job.name, Project.name)
        .join(Deployment, Deployment.job_id == Job.id)
        .join(Project, Project.id == Job.project_id)
        .where(where_cluster, Deployment.engine_version == version)
        .order_by(Project.name, Job.name)
    )
    return [(job, project) for job, project in session.execute(query)]


def cu_held(*, session: Session, project_id: int, holding: Collection[str]) -> int:
    """Milli-CU of the project's deployments that hold CU (running, starting, suspended...)."""
    query = select(func.coalesce(func.sum(Deployment.cu_milli), 0)).where(
        Deployment.project_id == project_id,
        Deployment.state.in_(holding),
    )
    return int(session.scalar(query) or 0)


def count_deployments(*, session: Session, project_id: int) -> int:
    query = select(func.count()).select_from(Deployment).where(Deployment.project_id == project_id)
    return int(session.scalar(query) or 0)


# ---- runs -------------------------------------------------------------------------------


def read_run(*, session: Session, job_id: int, number: int) -> Run | None:
    query = select(Run).where(Run.job_id == job_id, Run.number == number)
    return session.scalars(query).one_or_none()


def run_directories(*, session: Session, job_id: int) -> list[str]:
    return list(session.scalars(select(Run.directory).where(Run.job_id == job_id)))


def last_run_number(*, session: Session, job_id: int) -> int:
    """The highest run number of the job (runs outlive a deployment taken offline)."""
    query = select(func.coalesce(func.max(Run.number), 0)).where(Run.job_id == job_id)
    return int(session.scalar(query) or 0)


def live_runs(*, session: Session) -> list[Run]:
    return list(session.scalars(select(Run).where(Run.step != "ended").order_by(Run.id)))


def port_bases_in_use(*, session: Session) -> set[int]:
    return set(session.scalars(select(Run.port_base).where(Run.step != "ended")))


def live_placements(*, session: Session) -> list[tuple[job_placement.Process, ...]]:
    return list(session.scalars(select(Run.placement).where(Run.step != "ended")))


# ---- savepoints, events, alert rules, resources -----------------------------------------


def list_savepoints(*, session: Session, job_id: int) -> list[Savepoint]:
    query = select(Savepoint).where(Savepoint.job_id == job_id).order_by(Savepoint.id.desc())
    return list(session.scalars(query))


def read_savepoint(*, session: Session, job_id: int, savepoint_id: int) -> Savepoint | None:
    query = select(Savepoint).where(Savepoint.job_id == job_id, Savepoint.id == savepoint_id)
    return session.scalars(query).one_or_none()


def add_event(
    *, session: Session, job_id: int, at: datetime, kind: str, message: str, message_zh: str = ""
) -> Event:
    """A new event, or the job's latest one of its kind counted once more when it says the
    same within FOLD_GAP of its last time (a checkpoint failing every minute is one row:
    `count` times since `first_at`, whatever state events came in between)."""
    message, message_zh = message[:4000], message_zh[:4000]
    query = (
        select(Event)
        .where(Event.job_id == job_id, Event.kind == kind)
        .order_by(Event.id.desc())
        .limit(1)
    )
    latest = session.scalars(query).first()
    if (
        latest is not None
        and latest.message == message
        and latest.message_zh == message_zh
        and abs(at - latest.at) <= FOLD_GAP
    ):
        latest.count += 1
        latest.first_at = latest.first_at or latest.at
        latest.at = max(latest.at, at)
        return latest
    event = Event(
        job_id=job_id,
        at=at,
        first_at=at,
        kind=kind,
        message=message,
        message_zh=message_zh,
        count=1,
    )
    session.add(event)
    return event


def list_events(*, session: Session, job_id: int, limit: int = 200) -> list[Event]:
    """Newest first: a folded event by its last time."""
    query = (
        select(Event)
        .where(Event.job_id == job_id)
        .order_by(Event.at.desc(), Event.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def count_events(*, session: Session, job_id: int, kind: str, since: datetime) -> int:
    """Occurrences of `kind` since `since`. A folded row counts its `count` when its first
    occurrence is that recent too; when it began earlier, the share of its occurrences
    after `since`, taking them as evenly spaced from its first to its last (repeated
    failures are: a checkpoint interval, a restart delay)."""
    query = select(Event.count, Event.first_at, Event.at).where(
        Event.job_id == job_id, Event.kind == kind, Event.at >= since
    )
    total = 0
    for count, first_at, last_at in session.execute(query):
        first = first_at or last_at
        if first >= since or count <= 1:
            total += count
            continue
        share = (last_at - since) / (last_at - first)
        total += 1 + int((count - 1) * share)
    return total


def list_alert_rules(*, session: Session, job_id: int) -> list[AlertRule]:
    query = select(AlertRule).where(AlertRule.job_id == job_id).order_by(AlertRule.kind)
    return list(session.scalars(query))


def delete_alert_rules(*, session: Session, job_id: int) -> None:
    session.execute(delete(AlertRule).where(AlertRule.job_id == job_id))


def list_resources(*, session: Session, job_id: int) -> list[Resource]:
    query = select(Resource).where(Resource.job_id == job_id).order_by(Resource.id)
    return list(session.scalars(query))


def rename_folder_paths(*, session: Session, project_id: int, old: str, new: str) -> None:
    """Move the folder `old` (and what is below it) to `new`, jobs included."""
    for folder in folders_under(session=session, project_id=project_id, path=old):
        folder.path = new + folder.path[len(old) :]
    for job in jobs_under(session=session, project_id=project_id, path=old):
        job.folder = new + job.folder[len(old) :]
    session.flush()
