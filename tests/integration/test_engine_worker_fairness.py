"""How the warm workers are shared between tenants (runtime/engines/workers.py, "Fairness").

The workers here are a stand-in engine that speaks the worker protocol: it answers at once,
except a statement `HOLD <name>`, which it answers only once the test releases it, so a
test decides exactly which request keeps a worker busy and for how long. Each answer names
the worker's pid in `plan`. The same scheduling on the real engine, with a 60-join plan as
the heavy request, is measured by bench/check_fairness.py; test_engine_workers.py holds a
real worker the same way.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from rtcompute import errors
from rtcompute.runtime.engines import workers
from tests.waiting import holds_for, wait_for

VERSION = "flink-0.0.9"

FAKE_WORKER = """
import json, os, sys, time
signals = sys.argv[1]
print(json.dumps({"ready": True, "flink_version": "0.0.9"}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    sql = request["statements"][0]["sql"]
    if sql.startswith("HOLD "):
        name = sql.split()[1]
        open(os.path.join(signals, "started-" + name), "w").close()
        while not os.path.exists(os.path.join(signals, "release-" + name)):
            time.sleep(0.01)
    answer = {"id": request["id"], "ok": True, "problems": [], "plan": str(os.getpid())}
    print(json.dumps({**answer, "job_id": "0" * 32}), flush=True)
"""


class Engine:
    """The stand-in engine's directory: requests that started, and their release."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.signals = home / "signals"
        self.signals.mkdir()
        script = home / "fake_worker.py"
        script.write_text(FAKE_WORKER)
        python = home / VERSION / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text(f"#!/bin/sh\nexec {sys.executable} {script} {self.signals}\n")
        python.chmod(0o755)

    def started(self, name: str) -> bool:
        return (self.signals / f"started-{name}").exists()

    def release(self, name: str) -> None:
        (self.signals / f"release-{name}").touch()


class Held:
    """A request in a thread of its own: `HOLD <name>` for `account`."""

    def __init__(self, pool: workers.WorkerPool, account: str, name: str) -> None:
        self.answer: str | None = None
        self.error: BaseException | None = None

        def ask() -> None:
            try:
                self.answer = pool.explain(VERSION, f"HOLD {name}", account=account).plan
            except BaseException as error:
                self.error = error

        self.thread = threading.Thread(target=ask, daemon=True)
        self.thread.start()

    def result(self) -> str | None:
        self.thread.join(30)
        assert not self.thread.is_alive(), "the held request was never answered"
        if self.error is not None:
            raise self.error
        return self.answer


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(tmp_path)


@pytest.fixture
def pools(engine: Engine) -> Iterator[list[workers.WorkerPool]]:
    made: list[workers.WorkerPool] = []
    yield made
    for pool in made:
        pool.close()


def pool_of(
    engine: Engine,
    made: list[workers.WorkerPool],
    *,
    per_version: int,
    spare_after: float = 60.0,
    request_timeout: float = 30.0,
) -> workers.WorkerPool:
    pool = workers.WorkerPool(
        engine.home,
        idle_seconds=600,
        request_timeout=request_timeout,
        start_timeout=30,
        per_version=per_version,
        spare_after=spare_after,
    )
    made.append(pool)
    return pool


def submission_held(pool: workers.WorkerPool, engine: Engine) -> threading.Thread:
    """A's submission `HOLD a1`, in its worker: its own timeout (30 s), not the pool's."""
    holder = threading.Thread(
        target=pool.submit,
        args=(VERSION, "HOLD a1", {"parallelism.default": "1"}),
        kwargs={"timeout": 30, "account": "a"},
        daemon=True,
    )
    holder.start()
    wait_for("A's submission in the worker", lambda: engine.started("a1"), 10, every=0.01)
    return holder


def check(pool: workers.WorkerPool, account: str) -> str:
    result = pool.explain(VERSION, "SELECT 1", account=account)
    assert result.ok
    return result.plan


def test_another_tenant_is_answered_while_one_holds_a_worker(
    engine: Engine, pools: list[workers.WorkerPool]
) -> None:
    pool = pool_of(engine, pools, per_version=2)
    first = check(pool, "a")
    held = Held(pool, "a", "a1")
    wait_for("A's request in its worker", lambda: engine.started("a1"), 10, every=0.01)
    answered_by = check(pool, "b")
    assert answered_by != first  # a second worker, while A's request keeps the first
    assert held.thread.is_alive()
    engine.release("a1")
    assert held.result() == first


def test_an_account_holds_one_worker_at_a_time(
    engine: Engine, pools: list[workers.WorkerPool]
) -> None:
    """A's second request waits for its first, even with a worker free for it; B and C
    are answered meanwhile, and the pool never gives A a second worker."""
    pool = pool_of(engine, pools, per_version=3)
    first = Held(pool, "a", "a1")
    wait_for("A's first request in a worker", lambda: engine.started("a1"), 10, every=0.01)
    second = Held(pool, "a", "a2")
    check(pool, "b")
    check(pool, "c")
    holds_for("A's second request waiting its turn", lambda: not engine.started("a2"), 0.5)
    assert len(pool.status()) == 2  # A's and the one B and C shared
    engine.release("a1")
    wait_for("A's second request in a worker", lambda: engine.started("a2"), 10, every=0.01)
    engine.release("a2")
    assert first.result() and second.result()


def test_a_spare_starts_when_every_worker_is_held(
    engine: Engine, pools: list[workers.WorkerPool]
) -> None:
    pool = pool_of(engine, pools, per_version=2, spare_after=0.2)
    first = check(pool, "a")
    held = Held(pool, "a", "a1")
    wait_for("a spare worker", lambda: len(pool.status()) == 2, 10, every=0.02)
    [spare] = [s.pid for s in pool.status() if str(s.pid) != first]
    assert check(pool, "b") == str(spare)  # warm before B asked
    engine.release("a1")
    held.result()
    # no third worker: the pool stays within `per_version`
    assert len(pool.status()) == 2


def test_a_short_request_starts_no_spare(engine: Engine, pools: list[workers.WorkerPool]) -> None:
    pool = pool_of(engine, pools, per_version=3, spare_after=0.1)
    for _ in range(20):
        check(pool, "b")
    holds_for("one worker only", lambda: len(pool.status()) == 1, 0.3, every=0.02)


def test_a_full_pool_refuses_after_the_timeout(
    engine: Engine, pools: list[workers.WorkerPool]
) -> None:
    pool = pool_of(engine, pools, per_version=1, request_timeout=0.5)
    holder = submission_held(pool, engine)
    with pytest.raises(errors.Unavailable) as raised:
        check(pool, "b")
    assert raised.value.code == "EngineWorkerBusy"
    assert raised.value.message == f"every engine worker for {VERSION} is busy; try again"
    engine.release("a1")
    holder.join(10)
    assert check(pool, "b")  # the worker is free again


def test_an_account_waiting_its_turn_is_refused_after_the_timeout(
    engine: Engine, pools: list[workers.WorkerPool]
) -> None:
    pool = pool_of(engine, pools, per_version=3, request_timeout=0.5)
    holder = submission_held(pool, engine)
    with pytest.raises(errors.Unavailable) as raised:
        check(pool, "a")
    assert raised.value.code == "EngineWorkerBusy"
    assert "this account's previous request" in raised.value.message
    check(pool, "b")  # another account is not held up
    engine.release("a1")
    holder.join(10)


def test_closing_the_pool_wakes_the_waiting_requests(
    engine: Engine, pools: list[workers.WorkerPool]
) -> None:
    pool = pool_of(engine, pools, per_version=1)
    held = Held(pool, "a", "a1")
    wait_for("A's request in the worker", lambda: engine.started("a1"), 10, every=0.01)
    waiting = Held(pool, "b", "b1")
    holds_for("B waiting for the one worker", lambda: not engine.started("b1"), 0.3)
    pool.close()
    with pytest.raises(errors.Unavailable) as raised:
        waiting.result()
    assert raised.value.message == workers.CLOSING
    with pytest.raises(errors.Unavailable):
        held.result()  # its worker was stopped under it
