"""A small client of a Flink cluster's REST API (stdlib http.client and json only).

The job reconciler asks it one question per tick, so every method is one or two requests
with a short timeout, and parsing is defensive: a field Flink does not send (another
version, a job that just started) gives None, never a KeyError. No answer at all is
`FlinkUnreachable` (the cluster is starting, or gone); an HTTP error answer is `FlinkError`.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# a vertex that has seen no watermark reports Long.MIN_VALUE
NO_WATERMARK = -(2**63)
# task metrics summed or maxed over a vertex's subtasks (names measured on 2.2.1 and 1.20.5)
WATERMARK_METRIC = "currentInputWatermark"
TASK_METRICS = ("numRecordsInPerSecond", "backPressuredTimeMsPerSecond", WATERMARK_METRIC)


class FlinkUnreachable(Exception):
    """No answer: connection refused, reset or timed out."""


class FlinkError(Exception):
    """An HTTP error answer from Flink."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Flink answered {status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class SavepointStatus:
    state: str  # "IN_PROGRESS" | "COMPLETED" | "FAILED"
    location: str | None  # file:///... when COMPLETED
    failure: str | None


@dataclass(frozen=True)
class JobMetrics:
    records_in_per_second: float | None  # what the sources read
    records_out_per_second: float | None  # what the sinks received
    backpressure: float | None  # 0..1: the most back-pressured vertex's time ratio
    watermark_lag_ms: int | None  # now - the lowest watermark; None: no watermark yet
    last_checkpoint_duration_ms: int | None
    last_checkpoint_size_bytes: int | None


class FlinkRest:
    def __init__(self, host: str, port: int, *, timeout: float = 3.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            payload = json.dumps(body) if body is not None else None
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise FlinkUnreachable(f"no answer from {self.host}:{self.port}: {exc}") from exc
        finally:
            connection.close()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {"errors": [raw.decode(errors="replace")[:500]]}
        if response.status >= 400:
            errors = data.get("errors") if isinstance(data, dict) else None
            text = "; ".join(str(e) for e in errors) if isinstance(errors, list) else str(data)
            raise FlinkError(response.status, _first_line(text))
        return data

    def _object(self, path: str) -> dict[str, Any]:
        data = self._request("GET", path)
        return data if isinstance(data, dict) else {}

    def overview(self) -> dict[str, Any]:
        """flink-version, taskmanagers, slots-total, slots-available, jobs-running, ..."""
        return self._object("/overview")

    def jobs(self) -> list[dict[str, Any]]:
        """[{"jid", "name", "state", "start-time", ...}], newest first as Flink sends them."""
        jobs = self._object("/jobs/overview").get("jobs")
        return [j for j in jobs if isinstance(j, dict)] if isinstance(jobs, list) else []

    def job(self, job_id: str) -> dict[str, Any]:
        return self._object(f"/jobs/{_safe(job_id)}")

    def tasks_running_at(self, job_id: str, vertex_ids: list[str]) -> int | None:
        """When the job's last task switched to RUNNING (ms, Flink's clock): deployed and
        initialised, processing. None while a task has not got there."""
        latest = 0
        for vertex in vertex_ids:
            path = f"/jobs/{_safe(job_id)}/vertices/{_safe(vertex)}/subtasktimes"
            subtasks = self._object(path).get("subtasks")
            for subtask in subtasks if isinstance(subtasks, list) else ():
                stamps = subtask.get("timestamps") if isinstance(subtask, dict) else None
                running = stamps.get("RUNNING") if isinstance(stamps, dict) else None
                if not isinstance(running, int) or running <= 0:
                    return None
                latest = max(latest, running)
        return latest or None

    def exceptions(self, job_id: str) -> dict[str, Any]:
        return self._object(f"/jobs/{_safe(job_id)}/exceptions")

    def checkpoints(self, job_id: str) -> dict[str, Any]:
        return self._object(f"/jobs/{_safe(job_id)}/checkpoints")

    def taskmanagers(self) -> list[dict[str, Any]]:
        found = self._object("/taskmanagers").get("taskmanagers")
        return [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []

    def stop_with_savepoint(
        self, job_id: str, target_directory: str, *, drain: bool = False
    ) -> str:
        """Ask for a savepoint and then a stop; the request id to poll `savepoint_status`."""
        body = {"drain": drain, "targetDirectory": target_directory}
        return _request_id(self._request("POST", f"/jobs/{_safe(job_id)}/stop", body))

    def trigger_savepoint(self, job_id: str, target_directory: str) -> str:
        body = {"cancel-job": False, "target-directory": target_directory}
        return _request_id(self._request("POST", f"/jobs/{_safe(job_id)}/savepoints", body))

    def savepoint_status(self, job_id: str, request_id: str) -> SavepointStatus:
        data = self._object(f"/jobs/{_safe(job_id)}/savepoints/{_safe(request_id)}")
        state = _dig(data, "status", "id")
        if state != "COMPLETED":
            return SavepointStatus(str(state or "IN_PROGRESS"), None, None)
        operation = data.get("operation")
        operation = operation if isinstance(operation, dict) else {}
        cause = operation.get("failure-cause")
        if cause:
            text = _dig(cause, "stack-trace") or _dig(cause, "serialized-throwable") or cause
            return SavepointStatus("FAILED", None, _first_line(str(text)))
        location = operation.get("location")
        return SavepointStatus("COMPLETED", str(location) if location else None, None)

    def cancel(self, job_id: str) -> None:
        self._request("PATCH", f"/jobs/{_safe(job_id)}?mode=cancel")

    def metrics(self, job_id: str) -> JobMetrics:
        """Rates, back pressure and watermark lag from the vertices' subtask metrics, and
        the last completed checkpoint's duration and size.

        Records in: what the source operators emit (`Source__<name>.numRecordsOutPerSecond`;
        a source task's own counter counts what its chain sends on). Records out: what the
        sink vertices' tasks receive, or the `Sink__` operators' input where a whole
        pipeline is chained into one task.
        """
        job = self.job(job_id)
        vertices = [v for v in job.get("vertices") or () if isinstance(v, dict)]
        sources, sinks = _ends(job, vertices)
        rates_in: list[float] = []
        rates_out: list[float] = []
        pressure: list[float] = []
        watermarks: list[float] = []
        for vertex in vertices:
            vertex_id = str(vertex.get("id", ""))
            # asking for one name a vertex lacks empties the whole answer: ask for known ones
            names = self._names(job_id, vertex_id)
            wanted = [n for n in names if n in TASK_METRICS or _end_operator(n)]
            values = self._aggregated(job_id, vertex_id, wanted) if wanted else {}
            if vertex_id in sources:
                _append(rates_in, _sum_of(values, "Source__", ".numRecordsOutPerSecond"))
            if vertex_id in sinks and vertex_id not in sources:
                _append(rates_out, _value(values, "numRecordsInPerSecond", "sum"))
            elif vertex_id in sinks:
                _append(rates_out, _sum_of(values, "Sink__", ".numRecordsInPerSecond"))
            _append(pressure, _value(values, "backPressuredTimeMsPerSecond", "max"))
            low = _value(values, WATERMARK_METRIC, "min")
            if low is not None and low > NO_WATERMARK:
                watermarks.append(low)
        completed = _dig(self.checkpoints(job_id), "latest", "completed")
        completed = completed if isinstance(completed, dict) else {}
        return JobMetrics(
            records_in_per_second=sum(rates_in) if rates_in else None,
            records_out_per_second=sum(rates_out) if rates_out else None,
            backpressure=min(max(pressure) / 1000.0, 1.0) if pressure else None,
            watermark_lag_ms=(
                max(int(time.time() * 1000 - min(watermarks)), 0) if watermarks else None
            ),
            last_checkpoint_duration_ms=_int(completed.get("end_to_end_duration")),
            last_checkpoint_size_bytes=_int(
                completed.get("checkpointed_size", completed.get("state_size"))
            ),
        )

    def _names(self, job_id: str, vertex_id: str) -> list[str]:
        path = f"/jobs/{_safe(job_id)}/vertices/{_safe(vertex_id)}/subtasks/metrics"
        rows = self._request("GET", path)
        rows = rows if isinstance(rows, list) else []
        return [str(r.get("id")) for r in rows if isinstance(r, dict) and r.get("id")]

    def _aggregated(
        self, job_id: str, vertex_id: str, names: list[str]
    ) -> dict[str, dict[str, Any]]:
        query = urllib.parse.urlencode({"get": ",".join(names), "agg": "min,max,sum"})
        path = f"/jobs/{_safe(job_id)}/vertices/{_safe(vertex_id)}/subtasks/metrics?{query}"
        data = self._request("GET", path)
        rows = data if isinstance(data, list) else []
        return {str(r.get("id")): r for r in rows if isinstance(r, dict)}


def _end_operator(name: str) -> bool:
    return (name.startswith("Source__") and name.endswith(".numRecordsOutPerSecond")) or (
        name.startswith("Sink__") and name.endswith(".numRecordsInPerSecond")
    )


def _sum_of(values: dict[str, dict[str, Any]], prefix: str, suffix: str) -> float | None:
    found = [
        _value(values, name, "sum")
        for name in values
        if name.startswith(prefix) and name.endswith(suffix)
    ]
    numbers = [f for f in found if f is not None]
    return sum(numbers) if numbers else None


def _ends(job: dict[str, Any], vertices: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """Source vertices (no inputs) and sink vertices (nobody's input), from the plan."""
    ids = {str(v.get("id", "")) for v in vertices}
    nodes = _dig(job, "plan", "nodes")
    if not isinstance(nodes, list):
        return ids, ids
    has_input: set[str] = set()
    is_input: set[str] = set()
    for node in nodes:
        if not isinstance(node, dict):
            continue
        inputs = [i for i in node.get("inputs") or () if isinstance(i, dict)]
        if inputs:
            has_input.add(str(node.get("id", "")))
        is_input.update(str(i.get("id", "")) for i in inputs)
    return ids - has_input, ids - is_input


def _value(values: dict[str, dict[str, Any]], name: str, aggregate: str) -> float | None:
    raw = values.get(name, {}).get(aggregate)
    try:
        return float(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _append(target: list[float], value: float | None) -> None:
    if value is not None:
        target.append(value)


def _int(raw: Any) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _request_id(data: Any) -> str:
    found = data.get("request-id") if isinstance(data, dict) else None
    if not found:
        raise FlinkError(200, f"no request id in the answer: {str(data)[:200]}")
    return str(found)


def _safe(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _first_line(text: str) -> str:
    lines: Iterable[str] = (line.strip() for line in text.strip().splitlines())
    return next((line for line in lines if line), "")[:1000]
