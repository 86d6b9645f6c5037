"""A job that fails at run time, on a live `rtc up` with real Flink (issue 18 §5): its root
exception reaches the state message and the events within seconds, it shows `restarting`
while Flink restarts it, its repeated failures are folded into one event, and when the
restart strategy gives up it ends `failed` with Flink's cause.

The SQL passes planning and fails in its first record: `1 / (id - id)` is an integer
division by zero at run time (`java.lang.ArithmeticException: / by zero`). (A datagen
`sequence` of 10^8 values fails too, with the issue's OutOfMemoryError: the generator holds
its whole range in memory.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_engines_flow import ok
from tests.e2e.test_jobs_flow import API, V2, Tenant, Webhook, live_world
from tests.engines_fixtures import InstalledEngines

pytestmark = pytest.mark.slow

FAILING = """CREATE TABLE src (id BIGINT) WITH (
  'connector' = 'datagen',
  'fields.id.min' = '1',
  'fields.id.max' = '100',
  'rows-per-second' = '10'
);
CREATE TABLE sink (x BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT 1 / (id - id) FROM src;
"""
CAUSE = "java.lang.ArithmeticException: / by zero"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    made = Webhook()
    yield made
    made.close()


def test_a_job_failing_at_run_time_restarts_with_its_cause_then_fails(
    installed_engines: InstalledEngines, tmp_path: Path, webhook: Webhook
) -> None:
    with live_world(tmp_path, installed_engines, webhook) as world:
        tenant = Tenant(world.server)
        try:
            tenant.cluster_with_versions("c_fail", [V2])
            tenant.project("p_fail", "c_fail", cu=2)
            # a small per-job restart strategy: 2 failures within 2 minutes, 3 s apart
            restart = {
                "type": "failure-rate",
                "max_failures": 2,
                "interval_seconds": 120,
                "delay_seconds": 3,
            }
            body = {
                "name": "divider",
                "sql": FAILING,
                "settings": {"parallelism": 1, "restart": restart},
            }
            ok(tenant.client.post(f"{API}/projects/p_fail/jobs", json=body), 201)
            job = tenant.job("p_fail", "divider")
            ok(tenant.client.post(f"{job}:publish"))
            ok(tenant.client.post(f"{job}:start"))
            started = time.monotonic()
            restarting = tenant.wait_state("p_fail", "divider", {"restarting", "failed"}, 240)
            # the cause, at once: not `starting` until the start timeout
            assert CAUSE in restarting["message"], restarting
            assert time.monotonic() - started < 200
            zh = {"Accept-Language": "zh-CN"}
            shown = ok(tenant.client.get(f"{job}/deployment", headers=zh))
            if shown["state"] == "restarting":
                assert shown["message"].startswith("作业出现故障，Flink 正在重启："), shown
            failed = tenant.wait_state("p_fail", "divider", {"failed"}, 180)
            assert failed["message"] == f"the job failed in Flink: {CAUSE}", failed
            assert failed["restarts"] >= 2
            events = ok(tenant.client.get(f"{job}/events"))
            failovers = [e for e in events if e["kind"] == "failover" and e["message"] == CAUSE]
            # Flink's failures, folded: one row counting them all
            assert len(failovers) == 1 and failovers[0]["count"] >= 3, events
            assert any(
                e["kind"] == "state" and e["message"].startswith("restarting: ") for e in events
            )
        finally:
            tenant.close()
