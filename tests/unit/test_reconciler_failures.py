"""How a reconciler's failures are acted on (reconcilers/base.py), with a fake clock: the
back-off of a Temporary (its attempt times, the cap, a success forgetting it), a Permanent
putting the resource in its failed state once, and an unexpected exception logged once and
retried like a Temporary. The reconcilers' own tests show their steps raising them."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

import pytest

from rtcompute import errors
from rtcompute.reconcilers import base


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Widgets:
    """A reconciler of named resources: each step does (raises) what `script` says next for
    its resource, and a failure puts the resource in its failed state."""

    clock: Clock
    states: dict[str, str]
    script: dict[str, list[Exception]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    steps: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.retries = base.Backoff(self.clock)

    def reconcile_once(self) -> None:
        for name, state in self.states.items():
            if state != "failed":
                base.attempt(
                    self.retries,
                    name,
                    functools.partial(self.step, name),
                    what=f"widget {name}",
                    fail=functools.partial(self.fail, name),
                )

    def step(self, name: str) -> None:
        self.steps.append((self.clock.now - 100.0, name))
        planned = self.script.get(name)
        if planned:
            raise planned.pop(0)
        self.states[name] = "ready"

    def fail(self, name: str, failure: base.Permanent) -> None:
        self.states[name] = "failed"
        self.messages[name] = failure.message


def tick(widgets: Widgets, seconds: float, passes: int = 1) -> None:
    """`passes` passes, `seconds` apart (the first one now)."""
    for _ in range(passes):
        widgets.reconcile_once()
        widgets.clock.now += seconds


def test_a_temporary_failure_is_retried_after_a_doubling_delay_up_to_the_cap() -> None:
    clock = Clock()
    backoff = base.Backoff(clock, cap=60.0)
    waits = [backoff.failed("job 7", 5.0) for _ in range(6)]
    assert waits == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0]
    assert backoff.failures("job 7") == 6
    assert backoff.retry_at("job 7") == 160.0
    assert not backoff.due("job 7")
    clock.now = 159.9
    assert not backoff.due("job 7")
    clock.now = 160.0
    assert backoff.due("job 7")
    # a delay longer than the cap is kept as asked; it only stops growing
    assert backoff.failed("cluster 3", 90.0) == 90.0
    assert backoff.failed("cluster 3", 90.0) == 90.0
    # thousands of failures in a row do not overflow
    for _ in range(2000):
        backoff.failed("engine x", 5.0)
    assert backoff.failed("engine x", 5.0) == 60.0


def test_attempt_times_of_a_resource_that_keeps_failing_then_recovers() -> None:
    clock = Clock()
    widgets = Widgets(clock, {"a": "new", "b": "new"})
    widgets.script["a"] = [base.Temporary("REST down", delay=5.0) for _ in range(3)]
    tick(widgets, 1.0, passes=40)
    attempts = [at for at, name in widgets.steps if name == "a"]
    # failures at 0, 5, 15; the retry at 35 succeeds; then every pass again
    assert attempts == [0.0, 5.0, 15.0, 35.0, 36.0, 37.0, 38.0, 39.0]
    assert widgets.states["a"] == "ready"
    # the other resource was never held up
    assert [at for at, name in widgets.steps if name == "b"] == [float(n) for n in range(40)]
    # a success forgets the failures: the next one starts from the first delay again
    assert widgets.retries.failures("a") == 0 and widgets.retries.retry_at("a") is None
    widgets.script["a"] = [base.Temporary("REST down again", delay=5.0)]
    widgets.steps.clear()
    tick(widgets, 1.0, passes=7)
    assert [at for at, name in widgets.steps if name == "a"] == [40.0, 45.0, 46.0]


def test_a_permanent_failure_fails_the_resource_with_its_message_and_is_not_retried() -> None:
    clock = Clock()
    widgets = Widgets(clock, {"a": "new"})
    widgets.script["a"] = [
        base.Temporary("worker died", delay=5.0),
        base.Permanent("the sandbox refused the launch: run rtc up as root"),
    ]
    tick(widgets, 1.0, passes=120)
    assert widgets.states == {"a": "failed"}
    assert widgets.messages == {"a": "the sandbox refused the launch: run rtc up as root"}
    assert widgets.steps == [(0.0, "a"), (5.0, "a")]
    assert widgets.retries.failures("a") == 0  # nothing left to retry


def test_a_failure_that_cannot_be_recorded_is_tried_again() -> None:
    clock = Clock()
    backoff = base.Backoff(clock)
    recorded: list[str] = []

    def record(failure: base.Permanent) -> None:
        if not recorded:
            recorded.append("")
            raise ConnectionError("database gone")
        recorded.append(failure.message)

    def permanent() -> None:
        raise base.Permanent("no room")

    assert not base.attempt(backoff, 1, permanent, what="job 1", fail=record)
    assert backoff.failures(1) == 1
    assert not base.attempt(backoff, 1, permanent, what="job 1", fail=record)  # not due
    clock.now += base.DEFAULT_DELAY_SECONDS
    assert base.attempt(backoff, 1, permanent, what="job 1", fail=record)
    assert recorded == ["", "no room"] and backoff.failures(1) == 0


def test_an_unexpected_exception_is_logged_once_and_retried_like_a_temporary(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    widgets = Widgets(clock, {"a": "new"})
    widgets.script["a"] = [KeyError("run"), KeyError("run"), KeyError("run")]
    with caplog.at_level(logging.WARNING, logger="rtcompute.reconcilers"):
        tick(widgets, 1.0, passes=40)
    assert [at for at, _ in widgets.steps][:5] == [0.0, 5.0, 15.0, 35.0, 36.0]
    assert widgets.states["a"] == "ready"
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1
    assert tracebacks[0].getMessage() == "widget a: unexpected failure; again in 5 s"
    lines = [r.getMessage() for r in caplog.records if not r.exc_info]
    assert lines == [
        "widget a: failed again (KeyError: 'run'; failure 2 in a row; again in 10 s)",
        "widget a: failed again (KeyError: 'run'; failure 3 in a row; again in 20 s)",
    ]


def test_resources_that_are_gone_are_forgotten() -> None:
    backoff = base.Backoff(Clock())
    backoff.failed(1)
    backoff.failed(2)
    backoff.retain([2, 3])
    assert (backoff.failures(1), backoff.failures(2), backoff.failures(3)) == (0, 1, 0)


def test_a_step_waiting_on_work_it_started_keeps_the_failures_counted() -> None:
    """A submission in flight: not a success (the back-off keeps growing) nor a failure (the
    resource is due on the next pass, to collect it)."""
    clock = Clock()
    backoff = base.Backoff(clock)
    outcomes: list[object] = [base.Temporary("worker died"), base.WAITING, base.WAITING]

    def submit() -> object:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert not base.attempt(backoff, "job 1", submit, what="job 1")
    clock.now += 5.0
    assert not base.attempt(backoff, "job 1", submit, what="job 1")  # submitted again
    assert backoff.failures("job 1") == 1 and backoff.due("job 1")
    assert not base.attempt(backoff, "job 1", submit, what="job 1")  # still in flight
    outcomes.append(base.Temporary("worker died"))
    assert not base.attempt(backoff, "job 1", submit, what="job 1")
    assert backoff.failures("job 1") == 2 and backoff.retry_at("job 1") == clock.now + 10.0


def test_a_database_not_available_is_a_temporary_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backoff = base.Backoff(lambda: 0.0)

    def step() -> None:
        raise errors.Unavailable("the database is not available at the moment")

    caplog.set_level(logging.WARNING)
    assert not base.attempt(backoff, "k", step, what="job j")
    assert backoff.failures("k") == 1
    assert backoff.retry_at("k") == base.DEFAULT_DELAY_SECONDS
    assert [r.exc_info for r in caplog.records] == [None]
    assert "not available" in caplog.records[0].getMessage()
