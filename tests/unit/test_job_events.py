"""What job events say: Flink's exceptions as one line, both languages, and the default
restart strategy that gives up."""

from __future__ import annotations

from rtcompute.domain import job_events
from rtcompute.domain import jobs as job_rules


def test_the_cause_of_a_stack_trace_is_its_innermost_exception_without_flinks_wrappers() -> None:
    trace = (
        "org.apache.flink.runtime.JobException: Recovery is suppressed by "
        "FailureRateRestartBackoffTimeStrategy(failuresIntervalMS=300000)\n"
        "\tat org.apache.flink.runtime.A.b(A.java:1)\n"
        "Caused by: java.lang.RuntimeException: source failed\n\tat x.Y.z(Y.java:2)\n"
        "\t... 12 more\n"
        "Caused by: java.lang.ArithmeticException: / by zero\n\tat x.Y.w(Y.java:3)\n"
    )
    assert job_events.cause_of(trace) == "java.lang.ArithmeticException: / by zero"
    assert job_events.cause_of("java.lang.OutOfMemoryError: Java heap space\n\tat a.B") == (
        "java.lang.OutOfMemoryError: Java heap space"
    )
    # only a wrapper: it is all there is to say
    only = "org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestart\n\tat a"
    assert job_events.cause_of(only) == only.split("\n")[0]
    assert job_events.cause_of("") == ""


def test_every_sentence_has_its_chinese() -> None:
    said = job_events.moved(job_rules.RESTARTING, job_events.restarting("java.lang.X: y"))
    assert said.en == "restarting: Flink restarts the job after a failure: java.lang.X: y"
    assert said.zh == "重启中：作业出现故障，Flink 正在重启：java.lang.X: y"
    assert job_events.text(said, "zh") == said.zh and job_events.text(said, "en") == said.en
    assert job_events.started("stateless", "acme").zh == "acme 启动作业（无状态启动）"
    assert job_events.text(job_events.Said("only English", ""), "zh") == "only English"
    for state in job_rules.DEPLOYMENT_STATES:
        assert job_events.state_zh(state) != state
    for mode in job_rules.START_MODES:
        assert job_events.start_mode_zh(mode) != mode


def test_the_default_restart_strategy_gives_up_after_bounded_failures_in_a_window() -> None:
    for version in ("flink-1.20.3", "flink-2.2.0"):
        config = job_rules.flink_config(
            version, job_rules.JobSettings(), checkpoint_dir="file:///c", savepoint_dir="file:///s"
        )
        assert config["restart-strategy.type"] == "failure-rate"
        assert config["restart-strategy.failure-rate.max-failures-per-interval"] == "3"
        assert config["restart-strategy.failure-rate.failure-rate-interval"] == "300 s"
        assert config["restart-strategy.failure-rate.delay"] == "10 s"


def test_restarting_is_declared_in_the_state_machine() -> None:
    assert job_rules.can_move(job_rules.RUNNING, job_rules.RESTARTING)
    assert job_rules.can_move(job_rules.STARTING, job_rules.RESTARTING)
    assert job_rules.can_move(job_rules.RESTARTING, job_rules.FAILED)
    assert job_rules.can_move(job_rules.RESTARTING, job_rules.RUNNING)
    assert not job_rules.can_move(job_rules.STOPPED, job_rules.RESTARTING)
    assert job_rules.RESTARTING in job_rules.ACTIONS["stop"].sources
    assert job_rules.RESTARTING in job_rules.ACTIVE and job_rules.RESTARTING in job_rules.HOLDING
    assert not job_rules.recovered(True, job_rules.RECOVERED_AFTER_SECONDS - 1)
    assert not job_rules.recovered(False, job_rules.RECOVERED_AFTER_SECONDS)
    assert job_rules.recovered(True, job_rules.RECOVERED_AFTER_SECONDS)
