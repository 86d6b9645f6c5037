"""`rtc jobs status|savepoints|events|metrics|logs|alerts`: what an online job shows, read
from the API (the job reconciler records Flink's state, failovers, checkpoints and readings).
Merged into `rtc jobs` (cli/jobs.py).

`metrics --watch` refreshes a live table on a terminal; elsewhere (a log, a pipe) it prints
each new reading once, as `key=value` pairs (of the readings it has) or a JSON line, so it
can be followed like a log.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from rtcompute import client
from rtcompute.cli import commands, folders, job_runs, output
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption
ProjectOption = folders.ProjectOption
JobName = job_runs.JobName
WATCH_SECONDS = 5.0
MAX_SAMPLES = 120  # the API's limit per call
SAVEPOINT_COLUMNS = ("id", "kind", "run", "reason", "location", "created_at")
EVENT_COLUMNS = ("at", "kind", "count", "first_at", "message")
LOG_COLUMNS = ("name", "process", "kind", "size_bytes")
ALERT_COLUMNS = ("kind", "threshold", "window_seconds")
MISSING = "-"  # a reading the sample lacks: Flink had not reported it (a job just started)
METRIC_COLUMNS = (
    "at",
    "run",
    "in/s",
    "out/s",
    "backpressure",
    "watermark lag",
    "checkpoint",
    "checkpoint size",
)

watch_app = typer.Typer()


# ---- rendering --------------------------------------------------------------------------


def size_text(value: int | None) -> str:
    if value is None:
        return MISSING
    amount = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return ""  # not reached


def millis_text(value: int | None) -> str:
    if value is None:
        return MISSING
    return f"{value} ms" if value < 10_000 else f"{value / 1000:.1f} s"


def rate_text(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.1f}"


def metric_row(sample: schemas.jobs.MetricSample) -> dict[str, str]:
    """One reading as a person reads it: rates with 1 decimal, backpressure in percent, `-`
    for what the sample lacks (the first samples of a run may lack every reading)."""
    pressure = sample.backpressure
    return {
        "at": str(output.json_value(sample.at)),
        "run": str(sample.run),
        "in/s": rate_text(sample.records_in_per_second),
        "out/s": rate_text(sample.records_out_per_second),
        "backpressure": MISSING if pressure is None else f"{pressure * 100:.0f}%",
        "watermark lag": millis_text(sample.watermark_lag_ms),
        "checkpoint": millis_text(sample.checkpoint_duration_ms),
        "checkpoint size": size_text(sample.checkpoint_size_bytes),
    }


def metrics_table(samples: list[schemas.jobs.MetricSample]) -> Table:
    table = Table()
    for column in METRIC_COLUMNS:
        table.add_column(column, justify="left" if column == "at" else "right")
    for sample in samples:
        table.add_row(*metric_row(sample).values())
    return table


def alert_rules(
    *, failed: bool, restarts: int | None, window: int, checkpoint_failures: int | None
) -> list[dict[str, Any]]:
    """The rules the options ask for (they replace the job's rules)."""
    rules: list[dict[str, Any]] = []
    if failed:
        rules.append({"kind": "failed", "threshold": 0, "window_seconds": window})
    if restarts is not None:
        rules.append({"kind": "restarts", "threshold": restarts, "window_seconds": window})
    if checkpoint_failures is not None:
        rules.append(
            {
                "kind": "checkpoint_failures",
                "threshold": checkpoint_failures,
                "window_seconds": window,
            }
        )
    return rules


# ---- commands ---------------------------------------------------------------------------


@watch_app.command("status")
def jobs_status(
    name: JobName,
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """The online job: state, Flink's own state, run, restarts, CU (JobNotOnline otherwise)."""
    job_runs.show_deployment(
        commands.call(profile, lambda api: api.get_deployment(project, name)), fmt
    )


@watch_app.command("savepoints")
def jobs_savepoints(
    name: JobName,
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Savepoints and retained checkpoints a start can restore from, newest first."""
    found = commands.call(profile, lambda api: api.list_savepoints(project, name))
    output.emit(found, fmt, SAVEPOINT_COLUMNS)


@watch_app.command("events")
def jobs_events(
    name: JobName,
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """State changes, failovers (with Flink's root exception), checkpoint failures, alerts."""
    output.emit(
        commands.call(profile, lambda api: api.list_job_events(project, name)), fmt, EVENT_COLUMNS
    )


@watch_app.command("metrics")
def jobs_metrics(
    name: JobName,
    project: ProjectOption,
    limit: Annotated[int, typer.Option(help="How many of the latest readings (1-120).")] = 10,
    watch: Annotated[bool, typer.Option("--watch", help="Keep refreshing until Ctrl-C.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between refreshes with --watch.")] = (
        WATCH_SECONDS
    ),
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Records in/out per second, backpressure, watermark lag, checkpoint duration and size."""
    if not 1 <= limit <= MAX_SAMPLES:
        raise commands.usage(f"from 1 to {MAX_SAMPLES}", "--limit")
    with commands.connect(profile) as api:
        try:
            samples = api.job_metrics(project, name, limit=limit)
            if not watch:
                if fmt is output.Format.json:
                    output.emit(samples, fmt)
                else:
                    output.console.print(metrics_table(samples))
                return
            with contextlib.suppress(KeyboardInterrupt):
                watch_metrics(api, project, name, samples, limit, interval, fmt)
        except client.ApiError as exc:
            raise output.fail(exc) from None


def watch_metrics(
    api: client.Client,
    project: str,
    job: str,
    samples: list[schemas.jobs.MetricSample],
    limit: int,
    interval: float,
    fmt: output.Format,
) -> None:
    """A live table on a terminal; otherwise each new reading once (a JSON line with -o json)."""
    if fmt is output.Format.table and output.console.is_terminal:
        with Live(metrics_table(samples), console=output.console, auto_refresh=False) as live:
            while True:
                time.sleep(interval)
                live.update(metrics_table(api.job_metrics(project, job, limit=limit)))
                live.refresh()
    seen: datetime | None = None
    while True:
        fresh = [s for s in samples if seen is None or s.at > seen]
        for sample in fresh:
            if fmt is output.Format.json:
                typer.echo(json.dumps(output.fields(sample), ensure_ascii=False))
            else:
                pairs = metric_row(sample).items()
                typer.echo("  ".join(f"{k}={v}" for k, v in pairs if v != MISSING))
        if fresh:
            seen = fresh[-1].at
        sys.stdout.flush()
        time.sleep(interval)
        samples = api.job_metrics(project, job, limit=limit)


@watch_app.command("logs")
def jobs_logs(
    name: JobName,
    project: ProjectOption,
    file: Annotated[
        str | None,
        typer.Argument(help="A log file's name from the list; print it (or --download it)."),
    ] = None,
    download: Annotated[
        Path | None, typer.Option(help="Write FILE to this path instead of standard output.")
    ] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the JobManager and TaskManager logs and stdout files, or print or download one."""
    if file is None:
        if download is not None:
            raise commands.usage("--download needs a FILE from the list", "--download")
        output.emit(
            commands.call(profile, lambda api: api.list_job_logs(project, name)), fmt, LOG_COLUMNS
        )
        return
    with commands.connect(profile) as api:
        try:
            if download is None:
                api.download_job_log(project, name, file, sys.stdout.buffer)
                sys.stdout.buffer.flush()
                return
            size = save_log(api, project, name, file, download)
        except client.ApiError as exc:
            raise output.fail(exc) from None
    output.err_console.print(f"{size} bytes written to {download}", markup=False)


def save_log(api: client.Client, project: str, job: str, file: str, target: Path) -> int:
    """Download into `<target>.part`, then rename: a failed download leaves no half file."""
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as sink:
            size = api.download_job_log(project, job, file, sink)
        partial.replace(target)
    except client.ApiError:
        partial.unlink(missing_ok=True)
        raise
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise commands.usage(f"cannot write {target}: {exc.strerror}", "--download") from None
    return size


@watch_app.command("alerts")
def jobs_alerts(
    name: JobName,
    project: ProjectOption,
    failed: Annotated[bool, typer.Option("--failed", help="Alert when the job fails.")] = False,
    restarts: Annotated[
        int | None, typer.Option(help="Alert on more than N restarts within --window.")
    ] = None,
    checkpoint_failures: Annotated[
        int | None, typer.Option(help="Alert on more than N failed checkpoints within --window.")
    ] = None,
    window: Annotated[int, typer.Option(help="The window in seconds (60-604800).")] = 600,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every alert rule.")] = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Show the job's alert rules, or replace them with the ones given (--clear: none)."""
    wanted = alert_rules(
        failed=failed, restarts=restarts, window=window, checkpoint_failures=checkpoint_failures
    )
    if clear and wanted:
        raise commands.usage("--clear goes alone", "--clear")
    if wanted or clear:
        found = commands.call(profile, lambda api: api.set_job_alerts(project, name, wanted))
    else:
        found = commands.call(profile, lambda api: api.get_job_alerts(project, name))
    output.emit(found, fmt, ALERT_COLUMNS)
