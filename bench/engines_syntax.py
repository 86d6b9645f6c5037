"""Benchmark the syntax check: a warm engine worker vs a cold PyFlink `explain_sql`.

Same SQL, same engine environment, same run:

  warm  one `runtime.engines.workers.WorkerPool` worker for the version; one check to warm
        it up, then `--checks` (>= 30) `validate` calls back to back, timed from the call
        to the result (splitting, the JSON protocol, a fresh TableEnvironment, DDL,
        planning), then as many again 0.3 s apart (the worker makes the next request's
        environment between requests, so spaced checks do not wait for it);
  cold  `--rounds` fresh `python -c ...` processes in the same environment that create a
        TableEnvironment, run the DDL and explain the INSERT, timed end to end.

Prints warm p50/p95, the cold median and the ratio cold / warm p50; target: warm p50
(back to back) <= 300 ms (the ratio is expected to be >= 10x). `run_syntax` is also used
by bench/engines.py.
Run alone: `python bench/engines_syntax.py --python <home>/flink-2.2.1/bin/python`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rtcompute.runtime.engines import workers

WARM_P50_TARGET_MS = 300.0
MIN_WARM_CHECKS = 30
# checks as a user makes them, a moment apart: the worker prepares the next environment
# between requests, which back-to-back checks (the figure the target is judged on) wait for
SPACED_PAUSE_SECONDS = 0.3

SCRIPT = """-- orders per customer, every second
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DOUBLE,
  ts AS PROCTIME()
) WITH ('connector' = 'datagen', 'fields.customer.length' = '4');

CREATE TABLE totals (customer STRING, window_end TIMESTAMP(3), total DOUBLE)
  WITH ('connector' = 'blackhole');

INSERT INTO totals
SELECT customer, TUMBLE_END(ts, INTERVAL '1' SECOND), SUM(amount)
FROM orders
WHERE amount > 10
GROUP BY customer, TUMBLE(ts, INTERVAL '1' SECOND);
"""

# what a user without the worker runs: a fresh process, the same statements, explain only
COLD = """
import json, sys
from pyflink.table import EnvironmentSettings, TableEnvironment
statements = json.loads(sys.argv[1])
env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
for sql in statements[:-1]:
    env.execute_sql(sql)
print(len(env.explain_sql(statements[-1])))
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def warm_checks(engine_python: Path, checks: int) -> tuple[list[float], list[float], float, str]:
    """(ms of each back-to-back check, ms of each spaced check, start-up s, Flink version)."""
    version_dir = engine_python.parent.parent
    pool = workers.WorkerPool(
        version_dir.parent, idle_seconds=600, request_timeout=60, start_timeout=180
    )
    try:
        started = time.monotonic()
        first = pool.validate(version_dir.name, SCRIPT)  # start-up and warm-up
        start_seconds = time.monotonic() - started
        if not first.ok:
            raise RuntimeError(f"the benchmark's SQL does not check: {first.problems}")
        timings: dict[float, list[float]] = {0.0: [], SPACED_PAUSE_SECONDS: []}
        for pause, spent in timings.items():
            for _ in range(checks):
                time.sleep(pause)
                began = time.perf_counter()
                result = pool.validate(version_dir.name, SCRIPT)
                spent.append((time.perf_counter() - began) * 1000)
                if not result.ok:
                    raise RuntimeError(f"a warm check failed: {result.problems}")
        return timings[0.0], timings[SPACED_PAUSE_SECONDS], start_seconds, first.flink_version
    finally:
        pool.close()


def cold_checks(engine_python: Path, rounds: int) -> list[float]:
    statements = [part.strip() for part in SCRIPT.split(";") if part.strip()]
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        done = subprocess.run(
            [str(engine_python), "-c", COLD, json.dumps(statements)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        timings.append((time.perf_counter() - began) * 1000)
        if done.returncode != 0:
            raise RuntimeError(f"cold explain failed: {done.stderr[-2000:]}")
    return timings


def run_syntax(engine_python: Path, rounds: int, checks: int = MIN_WARM_CHECKS) -> dict[str, Any]:
    """Warm vs cold syntax check on the engine whose interpreter is `engine_python`."""
    warm, spaced, start_seconds, flink_version = warm_checks(
        engine_python, max(checks, MIN_WARM_CHECKS)
    )
    cold = cold_checks(engine_python, rounds)
    warm_p50 = statistics.median(warm)
    cold_median = statistics.median(cold)
    return {
        "version": engine_python.parent.parent.name,
        "flink_version": flink_version,
        "worker_start_s": round(start_seconds, 2),
        "warm_checks": len(warm),
        "warm_p50_ms": round(warm_p50, 1),
        "warm_p95_ms": round(percentile(warm, 0.95), 1),
        "warm_spaced_p50_ms": round(statistics.median(spaced), 1),
        "warm_spaced_p95_ms": round(percentile(spaced, 0.95), 1),
        "cold_rounds": len(cold),
        "cold_median_ms": round(cold_median, 1),
        "cold_min_ms": round(min(cold), 1),
        "ratio": round(cold_median / warm_p50, 1),
        "warm_p50_target_ms": WARM_P50_TARGET_MS,
        "passed": warm_p50 <= WARM_P50_TARGET_MS,
    }


def report(result: dict[str, Any]) -> str:
    return (
        f"syntax check on {result['version']} (Flink {result['flink_version']}): "
        f"warm p50 {result['warm_p50_ms']:.0f} ms, p95 {result['warm_p95_ms']:.0f} ms "
        f"over {result['warm_checks']} back-to-back checks; "
        f"{SPACED_PAUSE_SECONDS:g} s apart: p50 {result['warm_spaced_p50_ms']:.0f} ms, "
        f"p95 {result['warm_spaced_p95_ms']:.0f} ms "
        f"(worker start {result['worker_start_s']:.1f} s); "
        f"cold median {result['cold_median_ms']:.0f} ms over {result['cold_rounds']} runs; "
        f"ratio cold/warm {result['ratio']:.1f}x; "
        f"{'PASS' if result['passed'] else 'FAIL'} (warm p50 <= {WARM_P50_TARGET_MS:.0f} ms)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", type=Path, required=True, help="<home>/<version>/bin/python")
    parser.add_argument("--rounds", type=int, default=3, help="cold runs")
    parser.add_argument("--checks", type=int, default=MIN_WARM_CHECKS, help="warm checks")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    result = run_syntax(args.python, args.rounds, args.checks)
    print(report(result))
    if args.json:
        print(json.dumps(result))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
