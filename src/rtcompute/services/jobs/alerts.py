"""Alert rules of a job: it failed; it restarted, or failed checkpoints, more than N times
within a window. Delivered through services/alerts (e-mail, webhook, server log) with a link
to the job's console page; a rule fires at most once per window, so a job that keeps failing
over does not flood the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from rtcompute import errors
from rtcompute.domain import job_events
from rtcompute.domain import jobs as job_rules
from rtcompute.services.capacity import projects
from rtcompute.services.jobs import drafts as jobs
from rtcompute.services.kernel import alerts, principals
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from rtcompute.store import jobs as job_store

MAX_WINDOW_SECONDS = 7 * 86_400
EVENT_OF_KIND = {"restarts": "failover", "checkpoint_failures": "checkpoint"}


@dataclass(frozen=True)
class Rule:
    kind: str
    threshold: int = 0
    window_seconds: int = 600


def _check(raw: list[Rule]) -> list[Rule]:
    seen: set[str] = set()
    for rule in raw:
        if rule.kind not in job_rules.ALERT_KINDS:
            raise errors.Invalid(
                f"alert kind: one of {', '.join(job_rules.ALERT_KINDS)}",
                f"告警类型须为 {'、'.join(job_rules.ALERT_KINDS)} 之一",
                code="InvalidParameter.AlertKind",
            )
        if rule.kind in seen:
            raise errors.Invalid(
                f"alert kind {rule.kind} is given twice",
                f"告警类型 {rule.kind} 重复",
                code="InvalidParameter.AlertKind",
            )
        seen.add(rule.kind)
        if not 0 <= rule.threshold <= 1_000_000:
            raise errors.Invalid(
                "threshold: a whole number from 0 to 1000000",
                "阈值须为 0 到 1000000 之间的整数",
                code="InvalidParameter.Threshold",
            )
        if not 60 <= rule.window_seconds <= MAX_WINDOW_SECONDS:
            raise errors.Invalid(
                f"window_seconds: from 60 to {MAX_WINDOW_SECONDS}",
                f"统计窗口须为 60 到 {MAX_WINDOW_SECONDS} 秒",
                code="InvalidParameter.Window",
            )
    return raw


def list_rules(
    platform: platform_module.Platform, account_id: str, project: str, name: str
) -> list[Rule]:
    with db.transaction(platform.sessions) as session:
        job = jobs.find(session, projects.find(session, account_id, project), name)
        return [
            Rule(r.kind, r.threshold, r.window_seconds)
            for r in job_store.list_alert_rules(session=session, job_id=job.id)
        ]


def set_rules(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    name: str,
    wanted: list[Rule],
) -> list[Rule]:
    """Replace the job's rules (an empty list turns alerts off)."""
    _check(wanted)
    with db.transaction(platform.sessions) as session:
        job = jobs.find(session, projects.find(session, principal.account_id, project), name)
        job_store.delete_alert_rules(session=session, job_id=job.id)
        for rule in wanted:
            session.add(
                job_store.AlertRule(
                    job_id=job.id,
                    kind=rule.kind,
                    threshold=rule.threshold,
                    window_seconds=rule.window_seconds,
                    created_at=platform.now(),
                )
            )
    return wanted


def _link(platform: platform_module.Platform, project: str, job: str) -> str:
    return f"{platform.settings.console_base}/console/projects/{project}/jobs/{job}"


def _send(
    platform: platform_module.Platform,
    session: db.Session,
    job: job_store.Job,
    rule: job_store.AlertRule,
    subject: job_events.Said,
    body: str,
) -> tuple[str, str, str, str]:
    project = session.get(tables.Project, job.project_id)
    assert project is not None
    rule.last_fired_at = platform.now()
    job_store.add_event(
        session=session,
        job_id=job.id,
        at=platform.now(),
        kind="alert",
        message=subject.en,
        message_zh=subject.zh,
    )
    link = _link(platform, project.name, job.name)
    return project.account_id, rule.kind, subject.en, f"{body}\n\n{link}"


def job_failed(platform: platform_module.Platform, job_id: int, message: str) -> None:
    """The job failed: alert when it has a `failed` rule."""
    outgoing = []
    with db.transaction(platform.sessions) as session:
        job = job_store.read_job_by_id(session=session, job_id=job_id)
        if job is None:
            return
        for rule in job_store.list_alert_rules(session=session, job_id=job_id):
            if rule.kind == "failed":
                outgoing.append(
                    _send(
                        platform,
                        session,
                        job,
                        rule,
                        job_events.plain(f"job {job.name} failed", f"作业 {job.name} 失败"),
                        message,
                    )
                )
    for account_id, kind, subject, body in outgoing:
        alerts.send(platform, account_id=account_id, kind=f"job_{kind}", subject=subject, body=body)


def evaluate(platform: platform_module.Platform, job_id: int) -> None:
    """Fire the threshold rules whose count within their window is above the threshold."""
    outgoing = []
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        job = job_store.read_job_by_id(session=session, job_id=job_id)
        if job is None:
            return
        for rule in job_store.list_alert_rules(session=session, job_id=job_id):
            event = EVENT_OF_KIND.get(rule.kind)
            if event is None:
                continue
            window = timedelta(seconds=rule.window_seconds)
            if rule.last_fired_at is not None and rule.last_fired_at > now - window:
                continue
            count = job_store.count_events(
                session=session, job_id=job_id, kind=event, since=now - window
            )
            if count > rule.threshold:
                what = "restarts" if rule.kind == "restarts" else "failed checkpoints"
                what_zh = "次重启" if rule.kind == "restarts" else "次检查点失败"
                subject = job_events.plain(
                    f"job {job.name}: {count} {what} in {rule.window_seconds} s",
                    f"作业 {job.name}：{rule.window_seconds} 秒内 {count} {what_zh}",
                )
                body = (
                    f"job {job.name} had {count} {what} in the last {rule.window_seconds} s "
                    f"(alert above {rule.threshold})"
                )
                outgoing.append(_send(platform, session, job, rule, subject, body))
    for account_id, kind, title, body in outgoing:
        alerts.send(platform, account_id=account_id, kind=f"job_{kind}", subject=title, body=body)
