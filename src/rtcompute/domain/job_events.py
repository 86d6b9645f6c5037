"""What a job's events and state messages say, in English and in Chinese.

The reconciler and the services write a job's events in both languages at once, as an
error carries both (errors.RtcError): the API answers in the Accept-Language language and
the console in the page's. What Flink says (an exception, a checkpoint's failure reason)
is kept in Flink's words in both texts. Each sentence has one function here, so the two
languages cannot drift apart.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from rtcompute.domain import jobs as job_rules

# kinds of events
STATE = "state"
FAILOVER = "failover"
CHECKPOINT = "checkpoint"
ALERT = "alert"
KINDS_ZH = {STATE: "状态", FAILOVER: "故障恢复", CHECKPOINT: "检查点", ALERT: "告警"}


class Said(NamedTuple):
    """A sentence in English and in Chinese."""

    en: str
    zh: str


def text(said: Said, language: str) -> str:
    """The sentence in `language` (`zh` or `en`); English when it has no Chinese."""
    return said.zh if language == "zh" and said.zh else said.en


def state_zh(state: str) -> str:
    return job_rules.STATES_ZH.get(state, state)


def start_mode_zh(mode: str) -> str:
    return job_rules.START_MODES_ZH.get(mode, mode)


def moved(target: str, why: Said | None) -> Said:
    """The job moved to `target` (with why, when there is a why)."""
    if why is None or not why.en:
        return Said(target, state_zh(target))
    return Said(f"{target}: {why.en}", f"{state_zh(target)}：{why.zh or why.en}")


def went_online(revision: int, version: str, who: str) -> Said:
    return Said(
        f"revision {revision} went online on {version} by {who}",
        f"{who} 将修订 {revision} 上线（引擎版本 {version}）",
    )


def started(mode: str, who: str) -> Said:
    return Said(f"start ({mode}) by {who}", f"{who} 启动作业（{start_mode_zh(mode)}）")


def resumed(who: str) -> Said:
    return Said(f"resume by {who}", f"{who} 恢复作业")


def stopping(mode: str, who: str, *, suspend: bool) -> Said:
    if suspend:
        return Said(f"suspend by {who}", f"{who} 暂停作业")
    how = "带保存点" if mode == job_rules.STOP_WITH_SAVEPOINT else "直接取消"
    return Said(f"stop ({mode}) by {who}", f"{who} 停止作业（{how}）")


def taken_offline(who: str) -> Said:
    return Said(f"offline by {who}", f"{who} 将作业下线")


def placed(run: int, processes: int) -> Said:
    return Said(
        f"run {run}: {processes} Flink processes placed",
        f"第 {run} 次运行：已安排 {processes} 个 Flink 进程",
    )


def submitted(run: int, flink_job_id: str) -> Said:
    return Said(
        f"run {run}: submitted as {flink_job_id}",
        f"第 {run} 次运行：已提交，Flink 作业 {flink_job_id}",
    )


def adopted(run: int, flink_job_id: str) -> Said:
    return Said(
        f"run {run}: adopted Flink job {flink_job_id}",
        f"第 {run} 次运行：接管已在运行的 Flink 作业 {flink_job_id}",
    )


def process_back(process: str, node: str, *, killed: bool) -> Said:
    """A process of the job was gone (or killed by its memory limit) and started again."""
    if killed:
        return Said(
            f"{process} on {node} went over the memory its CU allows and was killed by its "
            "limit: started again; Flink restarts the job from its last checkpoint",
            f"{node} 上的 {process} 超出了其 CU 允许的内存，被限制终止：已重新启动；"
            "Flink 将从最近的检查点重启作业",
        )
    return Said(
        f"{process} on {node} was gone: started again; Flink restarts the job from its "
        "last checkpoint",
        f"{node} 上的 {process} 已退出：已重新启动；Flink 将从最近的检查点重启作业",
    )


def process_refused(process: str, why: str) -> Said:
    return Said(f"{process}: {why}", f"{process} 无法启动：{why}")


def jobmanager_silent() -> Said:
    return Said(
        "the JobManager does not answer; it is being started again",
        "JobManager 没有响应，正在重新启动",
    )


def job_lost(location: str) -> Said:
    if location:
        return Said(
            f"the JobManager lost the job: submitting it again from {location}",
            f"JobManager 丢失了作业：正从 {location} 重新提交",
        )
    return Said(
        "the JobManager lost the job: submitting it again from its start state",
        "JobManager 丢失了作业：正按启动时的状态重新提交",
    )


def failure(cause: str) -> Said:
    """Flink recorded a failure of the job (its exception, in Flink's words)."""
    return Said(cause, cause)


def restarting(cause: str) -> Said:
    """The state message of a job Flink restarts after a failure."""
    if not cause:
        return Said("Flink restarts the job after a failure", "作业出现故障，Flink 正在重启")
    return Said(
        f"Flink restarts the job after a failure: {cause}",
        f"作业出现故障，Flink 正在重启：{cause}",
    )


def gave_up(cause: str) -> Said:
    """Flink's restart strategy gave up: the job failed with its cause."""
    if not cause:
        return Said("the job failed in Flink", "作业在 Flink 中失败")
    return Said(
        f"the job failed in Flink: {cause}",
        f"作业在 Flink 中失败：{cause}",
    )


def checkpoint_failed(reason: str) -> Said:
    if reason:
        return Said(f"a checkpoint failed: {reason}", f"检查点失败：{reason}")
    return Said("a checkpoint failed", "检查点失败")


def stop_failed(why: str) -> Said:
    return Said(
        f"stop with savepoint failed: {why}; the job keeps running (stop with mode cancel "
        "to stop it without a savepoint)",
        f"带保存点停止失败：{why}；作业继续运行（如需不带保存点停止，请选择直接取消）",
    )


def savepoint_taken(location: str) -> Said:
    return Said(f"savepoint {location}", f"保存点 {location}")


def plain(en: str, zh: str) -> Said:
    return Said(en, zh)


# ---- Flink's exceptions -----------------------------------------------------------------

# a stack frame, or the "... 12 more" that ends a cause's frames
_FRAME = re.compile(r"^\s*(at |\.\.\. \d+ more)")
_CAUSED_BY = "Caused by: "
# wrappers that say that Flink gave up or restarts, not why the job failed
_WRAPPERS = (
    "org.apache.flink.runtime.JobException: Recovery is suppressed",
    "org.apache.flink.runtime.client.JobExecutionException: Job execution failed",
    "org.apache.flink.util.FlinkException: Global failure triggered",
    "org.apache.flink.util.FlinkRuntimeException: Exceeded checkpoint tolerable",
)


def cause_of(stacktrace: str) -> str:
    """A Java stack trace as one line: the innermost cause's class and its message's first
    line (`java.lang.ArithmeticException: / by zero`), Flink's own wrappers skipped."""
    lines = [line.rstrip() for line in stacktrace.strip().splitlines()]
    heads: list[str] = []
    for index, line in enumerate(lines):
        if not line.strip() or _FRAME.match(line):
            continue
        if index == 0:
            heads.append(line.strip())
        elif line.startswith(_CAUSED_BY):
            heads.append(line[len(_CAUSED_BY) :].strip())
    if not heads:
        return ""
    meaningful = [h for h in heads if not h.startswith(_WRAPPERS)]
    return (meaningful or heads)[-1][:500]
