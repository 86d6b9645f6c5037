"""The job reconciler: drives every online job's Flink cluster to its desired state, one
step per pass, and records what Flink says.

A start is a run: place the processes (written first, services/jobs/runs.begin_run), start
the JobManager(s), wait for REST, start the TaskManagers, wait for their slots, submit the
SQL through the version's warm worker (in a thread: a submission takes a second or two and
the runner's other loops go on), then watch. Before submitting it asks the cluster for jobs
it already runs: after a crash between the submission and its record, the job is adopted,
never submitted twice. While a job runs, dead processes are started again (a TaskManager
rejoins and Flink restarts the job from its checkpoint; a JobManager without a standby takes
the job with it, which is then submitted again from its latest checkpoint), Flink's state is
recorded as Flink names it, and failovers, checkpoints and metrics are recorded. A stop
takes a savepoint (or cancels), records it, and stops the processes.

Failures follow reconcilers/base.py, per job: what may pass by itself (Flink's REST API not
answering a call, the engine worker dying, timing out or busy during a submission, a
database error) raises `base.Temporary` and the job is tried again with back-off; what will
not (a start that cannot be placed, a launch the sandbox or the host refuses, an engine
version gone from the machine, a script Flink or the rules refuse, a start past its
timeout) raises `base.Permanent`, and the job goes to FAILED with the message (and its
`failed` alert). What Flink itself says (a job FAILED in Flink, a JobManager not answering
yet while it starts) is observed state, not a failure of the step; reads that only add
detail (failovers, checkpoints, metrics) are best effort and are read again on the next
pass.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, replace
from typing import Any

from rtcompute import errors
from rtcompute.domain import job_events
from rtcompute.domain import job_placement as placement
from rtcompute.domain import jobs as job_rules
from rtcompute.reconcilers import base
from rtcompute.reconcilers import job_runtime as runtime_module
from rtcompute.services.jobs import alerts as job_alerts
from rtcompute.services.jobs import records as job_records
from rtcompute.services.jobs import runs as job_runs
from rtcompute.services.kernel import platform as platform_module

log = logging.getLogger("rtcompute.reconcilers.jobs")

TERMINAL = frozenset({"FAILED", "FINISHED", "CANCELED"})
# first retry after Flink's REST API failed a call a moment after it answered
FLINK_RETRY_SECONDS = 1.0
# a job is watched for its user: a failing step waits at most this long before it is tried
# again (Flink's REST API fails calls for seconds around a failover, and a minute's back-off
# would hide the job's recovery that long)
RETRY_CAP_SECONDS = 10.0
# first retry after a submission's worker died or timed out (the pool starts a new one)
SUBMIT_RETRY_SECONDS = 5.0
Work = job_runs.Work


class JobReconciler:
    name = "jobs"

    def __init__(
        self,
        platform: platform_module.Platform,
        runtime: runtime_module.Runtime,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.runtime = runtime
        self.monotonic = monotonic
        self.interval_seconds = platform.settings.reconcilers.jobs.interval_seconds
        self._pool = futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="job-submit")
        self._submits: dict[tuple[int, int], futures.Future[runtime_module.Submitted]] = {}
        self._metrics_due: dict[int, float] = {}
        # (job, run) -> when its last task began processing (Flink's ms), read once a run
        self._tasks_at: dict[tuple[int, int], int] = {}
        self._watch_due: dict[int, float] = {}
        self._lock = threading.Lock()
        self.retries = base.Backoff(monotonic, cap=RETRY_CAP_SECONDS)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def reconcile_once(self) -> None:
        works = job_runs.pending(self.platform)
        self.retries.retain(work.job_id for work in works)
        for work in works:
            self._attempt(work)

    def _attempt(self, work: Work) -> None:
        """One step for one job under the shared failure rules (base.attempt)."""
        latest = work  # a Permanent failure ends the run this step began, if it began one

        def step() -> base.Waiting | None:
            nonlocal latest
            if work.state == job_rules.STARTING and not work.step:
                latest = self._begin(work)
            self.step(latest)
            with self._lock:  # a submission in flight is neither a success nor a failure
                submitting = (latest.job_id, latest.run) in self._submits
            return base.WAITING if submitting else None

        base.attempt(
            self.retries,
            work.job_id,
            step,
            what=f"job {work.project}/{work.job}",
            fail=lambda exc: self._fail(latest, job_events.Said(exc.message, exc.zh)),
            logger=log,
        )

    # ---- one step ------------------------------------------------------------------------

    def step(self, work: Work) -> None:
        """One idempotent step for a job (its run begun, when it starts); raises
        base.Temporary or base.Permanent."""
        if work.state == job_rules.STARTING:
            if work.step == job_runs.LAUNCHING:
                self._launch(work)
            elif work.step == job_runs.SUBMITTING:
                self._submit(work)
            elif work.step == job_runs.RUN_RUNNING:
                self._watch(work)
        elif work.state in (job_rules.RUNNING, job_rules.RESTARTING):
            if work.step in (job_runs.RUN_RUNNING, job_runs.SUBMITTING, job_runs.LAUNCHING):
                if not self._due(work):
                    return
                self._supervise(work)
                if work.step == job_runs.RUN_RUNNING:
                    self._watch(work)
                elif work.step == job_runs.SUBMITTING:
                    self._submit(work)
            else:
                job_records.move(
                    self.platform,
                    work.job_id,
                    job_rules.FAILED,
                    message=job_events.plain("run lost", "运行记录丢失"),
                )
        elif work.state == job_rules.STOPPING:
            self._stop(work)

    def _due(self, work: Work) -> bool:
        """A running job is read every `watch_interval_seconds`; starting and stopping ones
        on every pass, so they move on quickly."""
        now = self.monotonic()
        if self._watch_due.get(work.job_id, 0.0) > now:
            return False
        self._watch_due[work.job_id] = now + self.platform.settings.jobs.watch_interval_seconds
        return True

    # ---- starting ------------------------------------------------------------------------

    def _begin(self, work: Work) -> Work:
        try:
            return job_runs.begin_run(self.platform, work.job_id)
        except job_runs.CannotStart as exc:
            raise base.Permanent(f"cannot start: {exc}", f"无法启动：{exc}") from exc

    def _timed_out(self, work: Work) -> bool:
        limit = self.platform.settings.jobs.start_timeout_seconds
        started = work.started_at or work.state_since
        return (self.platform.now() - started).total_seconds() > limit

    def _launch(self, work: Work) -> None:
        if self._timed_out(work):
            tail = self.runtime.log_tail(work)
            limit = self.platform.settings.jobs.start_timeout_seconds
            log_part = f"; JobManager log:\n{tail}" if tail else ""
            raise base.Permanent(
                f"the job's Flink cluster did not come up in {limit:.0f} s{log_part}",
                f"作业的 Flink 集群在 {limit:.0f} 秒内未能启动"
                + (f"；JobManager 日志：\n{tail}" if tail else ""),
            )
        try:
            # every process at once: TaskManagers retry until their JobManager is up, so
            # their JVM start overlaps the JobManager's
            for process in work.processes:
                if self.runtime.find(work, process) is None:
                    self.runtime.start(work, process)
        except runtime_module.LaunchError as exc:  # the host or the sandbox refused it
            raise base.Permanent(str(exc), f"进程无法启动：{exc}") from exc
        if self._answering(work) is not None:
            # submit as soon as the JobManager answers: Flink schedules the job when the
            # TaskManagers' slots register
            job_records.update_run(self.platform, work.job_id, work.run, step=job_runs.SUBMITTING)
            self._submit(replace(work, step=job_runs.SUBMITTING))

    def _answering(self, work: Work) -> runtime_module.Rest | None:
        """The REST API of a JobManager that answers (the leader, with a standby)."""
        for process in work.processes:
            if process.kind != placement.JOBMANAGER:
                continue
            api = self.runtime.rest(process)
            try:
                api.overview()
            except (runtime_module.Unreachable, runtime_module.FlinkError):
                continue
            return api
        return None

    def _submit(self, work: Work) -> None:
        key = (work.job_id, work.run)
        api = self._answering(work)
        if api is None:
            if self._timed_out(work) and work.state == job_rules.STARTING:
                raise base.Permanent(
                    "the JobManager stopped answering before the job was submitted",
                    "作业提交之前 JobManager 已停止响应",
                )
            return
        with self._lock:
            future = self._submits.get(key)
        if future is None:
            try:
                existing = [j for j in api.jobs() if j.get("state") not in TERMINAL]
            except (runtime_module.Unreachable, runtime_module.FlinkError) as exc:
                raise _flink_failed("list its jobs", exc) from exc
            if existing:
                self._adopt(work, api, existing)
                return
            submission = job_runs.submission(self.platform, work.job_id)
            if submission.problems:
                first = submission.problems[0]
                raise base.Permanent(*_at_line(first.line, first.column, first.message))
            config = dict(work.config)
            config.update(job_runs.restore_config(work))
            leader = work.leader
            assert leader is not None
            config.update(
                {
                    "execution.target": "remote",
                    "rest.address": leader.host,
                    "rest.port": str(leader.rest_port),
                }
            )
            if submission.jars:  # tenant code: the pool submits these in an isolated worker
                config["pipeline.jars"] = ";".join(submission.jars)
            with self._lock:
                # the worker runs the INSERTs once the rules approved what Flink resolved
                approve = base.fenced(
                    functools.partial(job_runs.judge_submission, self.platform, work.job_id)
                )
                self._submits[key] = self._pool.submit(
                    base.in_context(self.runtime.submit),
                    work.version,
                    submission.script,
                    config,
                    approve,
                    work.account_id,
                )
            return
        if not future.done():
            return
        with self._lock:
            self._submits.pop(key, None)
        try:
            result = future.result()
        except Exception as exc:
            if isinstance(exc, errors.RtcError) and not isinstance(exc, errors.Unavailable):
                # the version is gone, say
                raise base.Permanent(exc.message, exc.text("zh_CN")) from exc
            # the worker died, timed out or was busy: submit again, later
            raise base.Temporary(
                f"the submission did not finish: {exc}", delay=SUBMIT_RETRY_SECONDS
            ) from exc
        if result.job_id is None and not result.approved and result.problems:
            first = result.problems[0]
            raise base.Permanent(*_at_line(first.line, first.column, first.message))
        if result.job_id is None:
            message = result.problems[0].message if result.problems else "the submission failed"
            raise base.Permanent(
                f"submission refused by Flink: {message}", f"Flink 拒绝了作业提交：{message}"
            )
        job_records.update_run(
            self.platform,
            work.job_id,
            work.run,
            flink_job_id=result.job_id,
            step=job_runs.RUN_RUNNING,
        )
        job_records.add_event(
            self.platform,
            work.job_id,
            job_events.STATE,
            job_events.submitted(work.run, result.job_id),
        )

    def _adopt(self, work: Work, api: runtime_module.Rest, existing: list[dict[str, Any]]) -> None:
        """The cluster runs the job already (a crash came after the submission): keep the
        oldest, cancel any other, never submit again."""
        ordered = sorted(existing, key=lambda j: int(j.get("start-time") or 0))
        keep = str(ordered[0].get("jid"))
        for extra in ordered[1:]:
            with contextlib.suppress(runtime_module.Unreachable, runtime_module.FlinkError):
                api.cancel(str(extra.get("jid")))
        job_records.update_run(
            self.platform, work.job_id, work.run, flink_job_id=keep, step=job_runs.RUN_RUNNING
        )
        job_records.add_event(
            self.platform, work.job_id, job_events.STATE, job_events.adopted(work.run, keep)
        )

    # ---- running -------------------------------------------------------------------------

    def _supervise(self, work: Work) -> None:
        """Start again what died: Flink does the rest (restart from the checkpoint)."""
        for process in work.processes:
            if self.runtime.host_lost(process.host):
                self._off_lost_host(work, process)
                continue
            try:
                if self.runtime.find(work, process) is not None:
                    continue
            except runtime_module.Unreachable:
                # its host's agent does not answer: not known dead; lost soon, or back
                continue
            killed = self.runtime.memory_kills(work, process)  # read before a fresh start
            try:
                self.runtime.start(work, process)
            except runtime_module.LaunchError as exc:
                job_records.observe(
                    self.platform,
                    work.job_id,
                    flink_state="",
                    message=job_events.process_refused(process.name, str(exc)),
                )
                continue
            if process.kind == placement.JOBMANAGER:
                # a JobManager failover: Flink's own restart count starts again with the new
                # JobManager, so the platform counts it (a standby took over, or it is back)
                job_records.count_jobmanager_failover(self.platform, work.job_id, work.run)
            job_records.add_event(
                self.platform,
                work.job_id,
                job_events.FAILOVER,
                job_events.process_back(
                    process.name, job_runs.node_label(process.node), killed=bool(killed)
                ),
            )

    def _off_lost_host(self, work: Work, process: placement.Process) -> None:
        """A process whose host is lost (docs/hosts.md): a TaskManager is placed again on a
        slave with room, where Flink restarts the job from its latest checkpoint; without
        room the job waits, saying how many CU it lacks. A JobManager's standby takes over
        through ZooKeeper; without one the job waits for the host."""
        node = job_runs.node_label(process.node)
        if process.kind == placement.JOBMANAGER:
            standby = any(
                p.kind == placement.JOBMANAGER
                and p.name != process.name
                and not self.runtime.host_lost(p.host)
                for p in work.processes
            )
            if standby:
                job_records.add_event(
                    self.platform,
                    work.job_id,
                    job_events.FAILOVER,
                    job_events.plain(
                        f"the host of {node} is lost: if {process.name} led, the standby "
                        "JobManager takes over through ZooKeeper and recovers the job from its "
                        "latest checkpoint",
                        f"{node} 所在主机失联：若 {process.name} 为主 JobManager，备用 "
                        "JobManager 将通过 ZooKeeper 接管并从最近的检查点恢复作业",
                    ),
                )
            else:
                job_records.observe(
                    self.platform,
                    work.job_id,
                    flink_state="",
                    message=job_events.plain(
                        f"the host of {node}, where the JobManager runs, is lost: the job "
                        "waits for it to come back (a 3-master cluster has a standby)",
                        f"{node} 所在主机失联，JobManager 在其上运行：作业等待该主机恢复"
                        "（3 个 Master 的集群有备用 JobManager）",
                    ),
                )
            return
        moved = job_runs.move_taskmanager(self.platform, work.job_id, work.run, process.name)
        if moved.process is None:
            job_records.observe(
                self.platform,
                work.job_id,
                flink_state="",
                message=job_events.plain(
                    f"the host of {node} is lost and no other slave has room for "
                    f"{process.name}: {moved.missing} more CU are needed (scale the cluster "
                    "out, or stop another job); the job waits",
                    f"{node} 所在主机失联，其他 Slave 没有容纳 {process.name} 的余量：还需要 "
                    f"{moved.missing} CU（请扩容集群或停止其他作业）；作业等待中",
                ),
            )
            return
        job_records.add_event(
            self.platform,
            work.job_id,
            job_events.FAILOVER,
            job_events.plain(
                f"the host of {node} is lost: {process.name} moves to "
                f"{job_runs.node_label(moved.process.node)}, where the job restarts from its "
                "latest checkpoint",
                f"{node} 所在主机失联：{process.name} 迁移到 "
                f"{job_runs.node_label(moved.process.node)}，作业从最近的检查点重启",
            ),
        )

    def _watch(self, work: Work) -> None:
        api = self._answering(work)
        if api is None:
            job_records.observe(
                self.platform, work.job_id, flink_state="", message=job_events.jobmanager_silent()
            )
            return
        try:
            details = api.job(work.flink_job_id)
        except runtime_module.FlinkError as exc:
            if exc.status != 404:
                raise _flink_failed("read the job", exc) from exc
            self._lost(work)
            return
        except runtime_module.Unreachable as exc:
            raise _flink_failed("read the job", exc) from exc
        state = str(details.get("state") or "")
        duration = _running_ms(details, self._tasks_running_at(api, work, details))
        if duration is not None:
            job_records.update_run(self.platform, work.job_id, work.run, flink_duration_ms=duration)
        failures = self._history(work, api)
        if state == "FAILED":  # Flink's restart strategy gave up (or allows no restart)
            self._end(work)
            self._fail(work, job_events.gave_up(failures.root or failures.cause), stop=False)
            return
        if state == "FINISHED":
            self._end(work)
            if work.state == job_rules.STARTING:  # a bounded job done before it was seen RUNNING
                job_records.move(self.platform, work.job_id, job_rules.RUNNING, flink_state=state)
            job_records.move(self.platform, work.job_id, job_rules.FINISHED, flink_state=state)
            return
        if state == "CANCELED":
            self._end(work)
            job_records.move(
                self.platform,
                work.job_id,
                job_rules.STOPPED,
                flink_state=state,
                message=job_events.plain("the job was cancelled in Flink", "作业在 Flink 中被取消"),
            )
            return
        self._follow(work, state, _tasks_running(details), failures)
        self._checkpoints(work, api)
        self._sample(work, api)
        job_alerts.evaluate(self.platform, work.job_id)

    def _lost(self, work: Work) -> None:
        """The JobManager came back without the job (no standby): submit it again from the
        latest retained checkpoint."""
        location = job_records.latest_checkpoint(self.platform, work.job_id, work.run)
        job_records.update_run(
            self.platform,
            work.job_id,
            work.run,
            step=job_runs.SUBMITTING,
            flink_job_id="",
            restore_path=location or work.restore_path,
        )
        job_records.add_event(
            self.platform, work.job_id, job_events.FAILOVER, job_events.job_lost(location or "")
        )

    def _follow(self, work: Work, state: str, tasks_running: bool, failures: Failures) -> None:
        """The job's state from Flink's: a failure Flink recorded makes a starting or
        running job `restarting` with its cause at once; a restarting job is `running`
        again when its tasks run and no failure came for RECOVERED_AFTER_SECONDS."""
        since_failure = (
            (self.platform.now() - job_records.from_millis(failures.newest_ms)).total_seconds()
            if failures.newest_ms
            else float("inf")
        )
        failing = state in ("RESTARTING", "FAILING") or failures.fresh > 0
        message = job_events.restarting(failures.cause)
        if failing and work.state in (job_rules.STARTING, job_rules.RUNNING):
            job_records.move(
                self.platform,
                work.job_id,
                job_rules.RESTARTING,
                flink_state=state,
                message=message,
            )
        elif work.state == job_rules.RESTARTING:
            if not failing and job_rules.recovered(tasks_running, since_failure):
                job_records.move(self.platform, work.job_id, job_rules.RUNNING, flink_state=state)
            else:
                job_records.observe(self.platform, work.job_id, flink_state=state, message=message)
        elif work.state == job_rules.STARTING and state == "RUNNING" and tasks_running:
            job_records.move(self.platform, work.job_id, job_rules.RUNNING, flink_state=state)
        elif work.state == job_rules.STARTING and self._timed_out(work):
            limit = self.platform.settings.jobs.start_timeout_seconds
            raise base.Permanent(
                f"the job stayed {state or 'unknown'} in Flink for {limit:.0f} s",
                f"作业在 Flink 中停留在 {state or '未知'} 状态达 {limit:.0f} 秒",
            )
        else:
            job_records.observe(self.platform, work.job_id, flink_state=state, message="")

    def _history(self, work: Work, api: runtime_module.Rest) -> Failures:
        """Failures Flink recorded (its exception history): the new ones become failover
        events with their cause, and count as restarts."""
        try:
            found = api.exceptions(work.flink_job_id)
        except (runtime_module.Unreachable, runtime_module.FlinkError):
            return Failures(0, "", "", work.failover_seen_ms)
        root = job_events.cause_of(str(found.get("root-exception") or ""))
        entries = [
            e
            for e in (found.get("exceptionHistory") or {}).get("entries") or ()
            if isinstance(e, dict)
        ]
        entries.sort(key=_stamp)
        fresh = [e for e in entries if _stamp(e) > work.failover_seen_ms]
        newest = max([work.failover_seen_ms, *(_stamp(e) for e in entries)])
        cause = _cause(entries[-1]) if entries else root
        for entry in fresh:
            job_records.add_event(
                self.platform,
                work.job_id,
                job_events.FAILOVER,
                job_events.failure(_cause(entry)),
                at=job_records.from_millis(_stamp(entry)),
            )
        if fresh:
            job_records.count_failovers(self.platform, work.job_id, work.run, len(fresh), newest)
        return Failures(len(fresh), cause, root, newest)

    def _checkpoints(self, work: Work, api: runtime_module.Rest) -> None:
        try:
            found = api.checkpoints(work.flink_job_id)
        except (runtime_module.Unreachable, runtime_module.FlinkError):
            return
        latest = ((found.get("latest") or {}).get("completed")) or {}
        location = latest.get("external_path")
        if location:
            job_records.record_savepoint(
                self.platform,
                work.job_id,
                work.run,
                kind="checkpoint",
                reason="checkpoint",
                location=str(location),
            )
        failed = int((found.get("counts") or {}).get("failed") or 0)
        # Flink's reason for its latest failed checkpoint ("Not all required tasks are
        # currently running.", a timeout, a storage error): the first line of it
        latest_failed = (found.get("latest") or {}).get("failed") or {}
        reason = _first_lines(str(latest_failed.get("failure_message") or ""), 1)[:500]
        job_records.count_checkpoint_failures(self.platform, work.job_id, failed, reason)

    def _sample(self, work: Work, api: runtime_module.Rest) -> None:
        now = self.monotonic()
        if self._metrics_due.get(work.job_id, 0.0) > now:
            return
        self._metrics_due[work.job_id] = now + self.platform.settings.jobs.metrics_interval_seconds
        try:
            found = api.metrics(work.flink_job_id)
        except (runtime_module.Unreachable, runtime_module.FlinkError):
            return
        job_records.record_metrics(
            self.platform,
            work.job_id,
            work.run,
            job_records.Sample(
                records_in_per_second=found.records_in_per_second,
                records_out_per_second=found.records_out_per_second,
                backpressure=found.backpressure,
                watermark_lag_ms=found.watermark_lag_ms,
                checkpoint_duration_ms=found.last_checkpoint_duration_ms,
                checkpoint_size_bytes=found.last_checkpoint_size_bytes,
            ),
        )

    # ---- stopping ------------------------------------------------------------------------

    def _stop(self, work: Work) -> None:
        target = (
            job_rules.SUSPENDED if work.desired == job_rules.WANT_SUSPENDED else job_rules.STOPPED
        )
        if not work.step:
            job_records.move(self.platform, work.job_id, job_rules.STOPPED)
            return
        with self._lock:
            future = self._submits.get((work.job_id, work.run))
        if future is not None and not future.done():
            return  # a submission in flight: stop the job it makes, not half of it
        if not work.flink_job_id:
            if future is not None:
                self._submit(work)  # records the job the submission made, if any
                return
            api = self._answering(work)
            existing = []
            if api is not None:
                try:
                    existing = [j for j in api.jobs() if j.get("state") not in TERMINAL]
                except (runtime_module.Unreachable, runtime_module.FlinkError) as exc:
                    if not self._stop_timed_out(work):
                        raise _flink_failed("list its jobs", exc) from exc
            if api is not None and existing:
                self._adopt(work, api, existing)
                return
            self._end(work)
            job_records.move(
                self.platform,
                work.job_id,
                job_rules.STOPPED,
                message=job_events.plain("stopped before it ran", "作业在运行前已停止"),
            )
            return
        api = self._answering(work)
        if api is None:
            if self._stop_timed_out(work):
                self._end(work)
                job_records.move(
                    self.platform,
                    work.job_id,
                    job_rules.STOPPED,
                    message=job_events.plain(
                        "the JobManager did not answer; its processes were stopped",
                        "JobManager 没有响应，已停止其进程",
                    ),
                )
            return
        if work.trigger_id:
            # a stop with savepoint in flight ends the job (FINISHED): read its result first
            self._stop_with_savepoint(work, api, target)
            return
        try:
            state = str(api.job(work.flink_job_id).get("state") or "")
        except runtime_module.FlinkError:
            state = "CANCELED"
        except runtime_module.Unreachable as exc:
            raise _flink_failed("read the job", exc) from exc
        if state in TERMINAL:
            self._end(work)
            job_records.move(
                self.platform,
                work.job_id,
                target if state != "FAILED" else job_rules.FAILED,
                flink_state=state,
            )
            return
        if work.stop_mode == job_rules.STOP_CANCEL:
            with contextlib.suppress(runtime_module.Unreachable, runtime_module.FlinkError):
                api.cancel(work.flink_job_id)
            return  # the next pass sees CANCELED
        self._stop_with_savepoint(work, api, target)

    def _stop_timed_out(self, work: Work) -> bool:
        limit = self.platform.settings.jobs.stop_timeout_seconds
        return (self.platform.now() - work.state_since).total_seconds() > limit

    def _stop_with_savepoint(self, work: Work, api: runtime_module.Rest, target: str) -> None:
        if not work.trigger_id:
            try:
                trigger = api.stop_with_savepoint(work.flink_job_id, work.savepoint_dir)
            except runtime_module.Unreachable as exc:
                if not self._stop_timed_out(work):
                    raise _flink_failed("take the savepoint", exc) from exc
                self._stop_failed(work, str(exc))
                return
            except runtime_module.FlinkError as exc:  # Flink refused: the stop fails, not the job
                self._stop_failed(work, str(exc))
                return
            job_records.update_run(
                self.platform, work.job_id, work.run, trigger_id=trigger, step=job_runs.RUN_STOPPING
            )
            return
        try:
            status = api.savepoint_status(work.flink_job_id, work.trigger_id)
        except runtime_module.Unreachable as exc:
            if not self._stop_timed_out(work):
                raise _flink_failed("say how the savepoint went", exc) from exc
            self._stop_failed(work, "the savepoint did not complete in time")
            return
        except runtime_module.FlinkError as exc:
            self._stop_failed(work, str(exc))
            return
        if status.state == "COMPLETED" and status.location:
            reason = "suspend" if target == job_rules.SUSPENDED else "stop"
            job_records.record_savepoint(
                self.platform,
                work.job_id,
                work.run,
                kind="savepoint",
                reason=reason,
                location=status.location,
            )
            job_records.forget_checkpoints(self.platform, work.job_id, work.run)
            self._end(work)
            job_records.move(
                self.platform,
                work.job_id,
                target,
                flink_state="FINISHED",
                message=job_events.savepoint_taken(status.location),
            )
        elif status.state == "FAILED":
            self._stop_failed(work, status.failure or "the savepoint failed")
        elif self._stop_timed_out(work):
            self._stop_failed(work, "the savepoint did not complete in time")

    def _stop_failed(self, work: Work, why: str) -> None:
        job_records.update_run(
            self.platform, work.job_id, work.run, trigger_id="", step=job_runs.RUN_RUNNING
        )
        job_records.stop_failed(
            self.platform, work.job_id, job_events.stop_failed(_first_lines(why))
        )

    # ---- ending --------------------------------------------------------------------------

    def _tasks_running_at(
        self, api: runtime_module.Rest, work: Work, details: dict[str, Any]
    ) -> int | None:
        """Flink's time at which the run's last task began processing, read once."""
        key = (work.job_id, work.run)
        if key not in self._tasks_at and _tasks_running(details):
            vertices = [str(v.get("id")) for v in details.get("vertices") or ()]
            try:
                found = api.tasks_running_at(work.flink_job_id, vertices)
            except (runtime_module.Unreachable, runtime_module.FlinkError):
                return None
            if found is not None:
                self._tasks_at[key] = found
        return self._tasks_at.get(key)

    def _end(self, work: Work) -> None:
        self._tasks_at.pop((work.job_id, work.run), None)
        self.runtime.stop(work)
        job_records.update_run(
            self.platform, work.job_id, work.run, step=job_runs.ENDED, trigger_id=""
        )
        self._metrics_due.pop(work.job_id, None)
        self._watch_due.pop(work.job_id, None)

    def _fail(self, work: Work, message: str | job_events.Said, *, stop: bool = True) -> None:
        """The job goes to FAILED with `message` (and its alert); its run ends."""
        if stop and work.step:
            self._end(work)
        if job_records.move(self.platform, work.job_id, job_rules.FAILED, message=message):
            english = message.en if isinstance(message, job_events.Said) else message
            job_alerts.job_failed(self.platform, work.job_id, english)


@dataclass(frozen=True)
class Failures:
    """What Flink's exception history says of a run: how many failures are new since the
    last read, the latest one's cause, the root exception, the newest failure's time."""

    fresh: int
    cause: str
    root: str
    newest_ms: int


def _stamp(entry: dict[str, Any]) -> int:
    try:
        return int(entry.get("timestamp") or 0)
    except (TypeError, ValueError):
        return 0


def _cause(entry: dict[str, Any]) -> str:
    """A history entry's cause in one line (its class and message), else its class name."""
    return (
        job_events.cause_of(str(entry.get("stacktrace") or ""))
        or str(entry.get("exceptionName") or "an unknown failure")[:500]
    )


def _at_line(line: int, column: int, message: str) -> tuple[str, str]:
    """A problem Flink found in the script, where it is (Flink's words kept in both)."""
    return f"line {line}, column {column}: {message}", f"第 {line} 行第 {column} 列：{message}"


def _flink_failed(what: str, exc: Exception) -> base.Temporary:
    """Flink's REST API answered a moment ago and failed this call: try the job again soon."""
    return base.Temporary(
        f"Flink's REST API did not {what}: {_first_lines(str(exc), 1)}", delay=FLINK_RETRY_SECONDS
    )


def _tasks_running(details: dict[str, Any]) -> bool:
    """Every task of the job runs (or is done): Flink says RUNNING as soon as it schedules
    the job, before its tasks have slots; a savepoint needs them all running."""
    vertices = details.get("vertices")
    if not isinstance(vertices, list) or not vertices:
        return False
    return all(isinstance(v, dict) and v.get("status") in ("RUNNING", "FINISHED") for v in vertices)


def _running_ms(details: dict[str, Any], tasks_at: int | None = None) -> int | None:
    """How long the job's tasks have run in Flink (to the job's end, once it ended), by
    Flink's own timestamps: from when its last task began processing (`tasks_at`: RUNNING,
    after deployment and initialisation, which a fresh TaskManager's class loading and code
    generation make slower than the work itself on short jobs), else from the last vertex's
    deployment (the job is RUNNING for Flink before its TaskManagers' slots came), else from
    the job's RUNNING; its `duration` when they are missing."""
    stamps = details.get("timestamps")
    stamps = stamps if isinstance(stamps, dict) else {}
    vertices = details.get("vertices")
    starts = [v.get("start-time") for v in vertices or () if isinstance(v, dict)]
    started = [t for t in starts if isinstance(t, int) and t > 0]
    if tasks_at:
        begin = tasks_at
    elif starts and len(started) == len(starts):
        begin = max(started)
    else:
        running = stamps.get("RUNNING")
        begin = running if isinstance(running, int) and running > 0 else 0
    ends = [stamps.get(s) for s in ("FINISHED", "FAILED", "CANCELED")]
    end = max((e for e in ends if isinstance(e, int) and e > 0), default=0)
    now = details.get("now")
    end = end or (now if isinstance(now, int) else 0)
    if begin and end >= begin:
        return int(end - begin)
    duration = details.get("duration")
    return duration if isinstance(duration, int) and duration >= 0 else None


def _first_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[:count])[:2000]
