"""The reconciler runner: one leader over a shared database, retries after Temporary."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from rtcompute.reconcilers import base, runner
from rtcompute.services.kernel import leadership
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from tests.conftest import FakeClock


@dataclass
class FakeReconciler:
    name: str = "fake"
    interval_seconds: float = 10.0
    calls: int = 0
    fail_with: list[Exception] = field(default_factory=list)
    called: threading.Event = field(default_factory=threading.Event)

    def reconcile_once(self) -> None:
        self.calls += 1
        self.called.set()
        if self.fail_with:
            raise self.fail_with.pop(0)


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pair(
    platform: platform_module.Platform,
) -> tuple[runner.Runner, FakeReconciler, runner.Runner, FakeReconciler, Monotonic]:
    ticks = Monotonic()
    first, second = FakeReconciler(), FakeReconciler()
    a = runner.Runner(platform, [first], holder="runner-a", monotonic=ticks)
    b = runner.Runner(platform, [second], holder="runner-b", monotonic=ticks)
    return a, first, b, second, ticks


def test_only_the_leader_reconciles(platform: platform_module.Platform) -> None:
    a, first, b, second, ticks = pair(platform)
    a.tick()
    b.tick()
    assert (a.is_leader, b.is_leader) == (True, False)
    assert (first.calls, second.calls) == (1, 0)
    for _ in range(3):
        ticks.now += 10
        b.tick()
        a.tick()
    assert (a.is_leader, b.is_leader) == (True, False)
    assert (first.calls, second.calls) == (4, 0)
    lease = leadership.current_holder(platform, name=leadership.RECONCILER_LEASE)
    assert lease == "runner-a"


def test_standby_takes_over_when_the_leader_stops_renewing(
    platform: platform_module.Platform, clock: FakeClock
) -> None:
    a, first, b, second, ticks = pair(platform)
    a.tick()
    b.tick()
    clock.advance(seconds=platform.settings.reconcilers.lease_seconds + 1)  # a died
    ticks.now += 20
    b.tick()
    assert b.is_leader
    assert second.calls == 1
    a.tick()  # a comes back: it is the standby now
    assert not a.is_leader
    assert first.calls == 1


def test_interval_is_respected(platform: platform_module.Platform) -> None:
    a, first, _, _, ticks = pair(platform)
    a.tick()
    ticks.now += 9.9
    a.tick()
    assert first.calls == 1
    ticks.now += 0.1
    a.tick()
    assert first.calls == 2


def test_temporary_reschedules_after_its_delay(platform: platform_module.Platform) -> None:
    a, first, _, _, ticks = pair(platform)
    first.fail_with.append(base.Temporary("not yet", delay=30))
    a.tick()
    assert first.calls == 1
    ticks.now += 10  # the normal interval has passed, the delay has not
    a.tick()
    assert first.calls == 1
    ticks.now += 19.9
    a.tick()
    assert first.calls == 1
    ticks.now += 0.1
    a.tick()
    assert first.calls == 2
    ticks.now += 5  # back to the normal interval after a success
    a.tick()
    assert first.calls == 2
    ticks.now += 5
    a.tick()
    assert first.calls == 3


def test_a_crash_does_not_stop_the_runner(platform: platform_module.Platform) -> None:
    ticks = Monotonic()
    broken = FakeReconciler(name="broken", fail_with=[RuntimeError("boom")])
    healthy = FakeReconciler(name="healthy")
    a = runner.Runner(platform, [broken, healthy], holder="runner-a", monotonic=ticks)
    a.tick()
    assert (broken.calls, healthy.calls) == (1, 1)
    ticks.now += 10
    a.tick()
    assert (broken.calls, healthy.calls) == (2, 2)


def test_a_pass_that_keeps_crashing_backs_off(platform: platform_module.Platform) -> None:
    """The runner applies the reconcilers' failure rules (base.attempt) to whole passes."""
    ticks = Monotonic()
    broken = FakeReconciler(name="broken", interval_seconds=1.0)
    broken.fail_with = [RuntimeError("boom"), RuntimeError("boom"), RuntimeError("boom")]
    a = runner.Runner(platform, [broken], holder="runner-a", monotonic=ticks)
    started, calls = ticks.now, []
    for _ in range(60):
        before = broken.calls
        a.tick()
        if broken.calls > before:
            calls.append(ticks.now - started)
        ticks.now += 1.0
    # failures at 0, 5 and 15 s; the pass at 35 s succeeds: every interval again
    assert calls[:6] == [0.0, 5.0, 15.0, 35.0, 36.0, 37.0]


def test_database_failure_means_standby(platform: platform_module.Platform) -> None:
    a, first, _, _, _ = pair(platform)
    a.tick()
    assert a.is_leader
    platform.engine.dispose()
    original = platform.sessions

    def broken() -> None:
        raise RuntimeError("database down")

    platform.sessions = broken  # type: ignore[assignment]
    try:
        a.tick()
    finally:
        platform.sessions = original
    assert not a.is_leader
    assert first.calls == 1


@pytest.mark.timeout(30)
def test_start_and_stop_release_the_lease(platform: platform_module.Platform) -> None:
    reconciler = FakeReconciler(interval_seconds=0.05)
    a = runner.Runner(platform, [reconciler], holder="runner-a")
    a.start()
    try:
        assert reconciler.called.wait(10)
        assert leadership.current_holder(platform, name=leadership.RECONCILER_LEASE) == "runner-a"
    finally:
        a.stop()
    assert not a.is_leader
    assert leadership.current_holder(platform, name=leadership.RECONCILER_LEASE) is None
    b = runner.Runner(platform, [], holder="runner-b")
    b.tick()
    assert b.is_leader


@dataclass
class Writer:
    """A reconciler whose every pass writes: a lease row of its own, named by the runner."""

    platform: platform_module.Platform
    name: str = "writer"
    interval_seconds: float = 1.0
    passes: int = 0

    def reconcile_once(self) -> None:
        self.passes += 1
        with db.transaction(self.platform.sessions) as session:
            session.add(tables.Lease(name=f"pass-{self.passes}", holder="w", expires_at=T0))


T0 = datetime(2026, 3, 1, tzinfo=UTC)


def written(platform: platform_module.Platform) -> set[str]:
    with db.transaction(platform.sessions) as session:
        rows = session.scalars(select(tables.Lease.name).where(tables.Lease.name.like("pass-%")))
        return set(rows)


def test_an_old_leader_that_wakes_up_cannot_act(
    platform: platform_module.Platform, clock: FakeClock
) -> None:
    """A stalls past its lease, B takes over in a new term; A, awake again, with a fence its
    own clock still calls valid (a clock that did not see the stall), writes nothing."""
    ticks = Monotonic()
    writer = Writer(platform)
    a = runner.Runner(platform, [writer], holder="runner-a", monotonic=ticks)
    b = runner.Runner(platform, [], holder="runner-b", monotonic=ticks)
    a.tick()
    assert a.is_leader and writer.passes == 1 and written(platform) == {"pass-1"}
    stale = a.fence
    assert stale is not None and stale.term == 1
    clock.advance(seconds=platform.settings.reconcilers.lease_seconds + 1)
    b.tick()
    assert b.is_leader and b.fence is not None and b.fence.term == 2
    # A's pass, under its old fence: the step runs (its clock saw no stall) but its write is
    # refused in the database, rolled back, and A stops acting
    ticks.now += 1.0  # due again; within A's lease by A's own clock
    a.run_due()
    assert writer.passes == 2
    assert written(platform) == {"pass-1"}
    assert not a.is_leader and a.fence is None
    # and what A hands to a thread is fenced too
    with leadership.acting(stale), pytest.raises(leadership.Fenced):
        base.in_context(writer.reconcile_once)()
    assert written(platform) == {"pass-1"}


def test_a_leader_past_its_lease_takes_no_step(platform: platform_module.Platform) -> None:
    """By its own clock: the lease it renewed last has run out, so no step starts (no
    database needed to know it)."""
    ticks = Monotonic()
    first = FakeReconciler(interval_seconds=1.0)
    a = runner.Runner(platform, [first], holder="runner-a", monotonic=ticks)
    a.tick()
    assert first.calls == 1
    ticks.now += platform.settings.reconcilers.lease_seconds + 0.1  # no renewal meanwhile
    a.run_due()
    assert first.calls == 1
    a.tick()  # renewed: acting again (nobody took it over)
    assert first.calls == 2 and a.is_leader
