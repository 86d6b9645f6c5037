"""`rtc jobs start|stop|suspend|resume|offline`: the online job's lifecycle. Merged into
`rtc jobs` (cli/jobs.py); what a running job shows is in cli/job_watch.py.

The API only records the wish; the job reconciler drives Flink. `--wait` follows it by polling
the deployment until it settles (running, stopped, suspended, failed, finished), a spinner on
a terminal and a line per change otherwise, on stderr, so stdout stays the deployment itself.
Exit status: 0 it reached the wanted state, 1 an API error, a job that failed or settled
elsewhere, or `--timeout`; 2 a usage mistake.
"""

from __future__ import annotations

import contextlib
import enum
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer
from rich.status import Status

from rtcompute import client
from rtcompute.cli import commands, folders, output
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption
ProjectOption = folders.ProjectOption
JobName = Annotated[str, typer.Argument(help="The job's name.")]
WaitOption = Annotated[
    bool,
    typer.Option("--wait", help="Wait until the job settles, showing its state on stderr."),
]
TimeoutOption = Annotated[
    float, typer.Option(help="Seconds --wait waits before giving up (exit status 1).")
]
POLL_SECONDS = 1.0
TRANSIENT = frozenset({"starting", "stopping"})
RUNNING = ("running", "finished")  # a bounded job may finish before the first poll
DEPLOYMENT_KEYS = (
    "job",
    "state",
    "desired",
    "flink_state",
    "message",
    "revision",
    "engine_version",
    "target",
    "cu",
    "parallelism",
    "run",
    "restarts",
    "flink_job_id",
    "start_mode",
    "stop_mode",
    "state_since",
    "published_by",
    "published_at",
)

runs_app = typer.Typer()


class StartMode(enum.StrEnum):
    stateless = "stateless"
    latest_checkpoint = "latest-checkpoint"
    latest_savepoint = "latest-savepoint"
    savepoint = "savepoint"

    @property
    def api(self) -> str:
        """The API's spelling: `latest_checkpoint`."""
        return self.value.replace("-", "_")


# ---- rendering --------------------------------------------------------------------------


def deployment_row(found: schemas.jobs.Deployment) -> dict[str, Any]:
    """The deployment in a person's order: state first, the bookkeeping last."""
    answer = output.fields(found)
    return {k: answer[k] for k in DEPLOYMENT_KEYS if k in answer}


def show_deployment(found: schemas.jobs.Deployment, fmt: output.Format) -> None:
    output.emit(found if fmt is output.Format.json else deployment_row(found), fmt)


def state_line(found: schemas.jobs.Deployment, *, since_run: int = -1) -> str:
    """`etl: starting (Flink CREATED), run 3: a message`; Flink's state and the run only for
    a run after `since_run` (a start waits for a new run: the older ones are not its)."""
    line = f"{found.job}: {found.state}"
    if found.run <= since_run:
        return f"{line}: {found.message}" if found.message else line
    if found.flink_state:
        line += f" (Flink {found.flink_state})"
    if found.run:
        line += f", run {found.run}"
    if found.message:
        line += f": {found.message}"
    return line


def start_mode(mode: StartMode | None, savepoint: int | None) -> str:
    """The API's mode; `--savepoint ID` alone means mode savepoint."""
    if mode is None:
        return StartMode.savepoint.api if savepoint is not None else StartMode.stateless.api
    if mode is StartMode.savepoint and savepoint is None:
        raise commands.usage("--mode savepoint needs --savepoint ID (see `rtc jobs savepoints`)")
    if mode is not StartMode.savepoint and savepoint is not None:
        raise commands.usage(f"--savepoint goes with --mode savepoint, not {mode.value}")
    return mode.api


# ---- following a lifecycle call ---------------------------------------------------------


class StateDisplay:
    """A spinner on a terminal; otherwise (a log, a CI job) a plain line per change."""

    def __init__(self) -> None:
        self.console = output.err_console
        self.spinner: Status | None = None
        self.last = ""

    @contextlib.contextmanager
    def running(self, first: str) -> Iterator[StateDisplay]:
        if not self.console.is_terminal:
            yield self
            return
        with self.console.status(first) as spinner:
            self.spinner = spinner
            yield self

    def update(self, found: schemas.jobs.Deployment, *, since_run: int = -1) -> None:
        line = state_line(found, since_run=since_run)
        if self.spinner is not None:
            self.spinner.update(line)
        elif line != self.last:
            self.say(line)
        self.last = line

    def say(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)


def follow(
    api: client.Client,
    project: str,
    job: str,
    wanted: tuple[str, ...],
    timeout: float,
    *,
    since_run: int = -1,
) -> schemas.jobs.Deployment:
    """Poll the deployment until it leaves starting/stopping; exit 1 unless it is `wanted`.
    A start passes the run the job had (`since_run`): until the reconciler places the new
    run, the deployment still carries the old run's number and Flink state, not shown."""
    display = StateDisplay()
    deadline = time.monotonic() + timeout
    with display.running(f"{job}: waiting"):
        while True:
            found = api.get_deployment(project, job)
            display.update(found, since_run=since_run)
            if found.state not in TRANSIENT:
                break
            if time.monotonic() >= deadline:
                display.say(f"gave up after {timeout:g} s waiting for {job}: {display.last}")
                raise typer.Exit(1)
            time.sleep(POLL_SECONDS)
    if found.state not in wanted:
        reason = found.message or "no reason given"
        display.say(f"job {job} is {found.state}, not {' or '.join(wanted)}: {reason}")
        raise typer.Exit(1)
    return found


def lifecycle(
    profile: str,
    project: str,
    job: str,
    send: Callable[[client.Client], schemas.jobs.Deployment],
    *,
    wanted: tuple[str, ...],
    wait: bool,
    timeout: float,
    fmt: output.Format,
    new_run: bool = False,
) -> None:
    """Make the lifecycle call (`send`), follow it with --wait, print the deployment;
    `new_run`: the call starts a run (start, resume), the one it answers with is the last."""
    with commands.connect(profile) as api:
        try:
            found = send(api)
            if wait:
                since_run = found.run if new_run else -1
                found = follow(api, project, job, wanted, timeout, since_run=since_run)
        except client.ApiError as exc:
            raise output.fail(exc) from None
    show_deployment(found, fmt)


# ---- lifecycle commands -----------------------------------------------------------------


@runs_app.command("start")
def jobs_start(
    name: JobName,
    project: ProjectOption,
    mode: Annotated[
        StartMode | None,
        typer.Option(
            help="Where the state comes from (default stateless; savepoint with --savepoint)."
        ),
    ] = None,
    savepoint: Annotated[
        int | None, typer.Option(help="The savepoint id to start from (`rtc jobs savepoints`).")
    ] = None,
    allow_non_restored_state: Annotated[
        bool,
        typer.Option(
            "--allow-non-restored-state",
            help="Start even if some savepoint state maps to no operator any more.",
        ),
    ] = False,
    wait: WaitOption = False,
    timeout: TimeoutOption = 300.0,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Start the online job; its CU must fit the project's free quota (JobQuotaExceeded)."""
    start = start_mode(mode, savepoint)  # a usage mistake stops before any call
    lifecycle(
        profile,
        project,
        name,
        lambda api: api.start_job(
            project,
            name,
            mode=start,
            savepoint_id=savepoint,
            allow_non_restored_state=allow_non_restored_state,
        ),
        wanted=RUNNING,
        wait=wait,
        timeout=timeout,
        fmt=fmt,
        new_run=True,
    )


@runs_app.command("stop")
def jobs_stop(
    name: JobName,
    project: ProjectOption,
    cancel: Annotated[
        bool, typer.Option("--cancel", help="Cancel without a savepoint (state is lost).")
    ] = False,
    wait: WaitOption = False,
    timeout: TimeoutOption = 300.0,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Stop the job with a savepoint (or --cancel); its CU is released."""
    lifecycle(
        profile,
        project,
        name,
        lambda api: api.stop_job(project, name, mode="cancel" if cancel else "savepoint"),
        wanted=("stopped",),
        wait=wait,
        timeout=timeout,
        fmt=fmt,
    )


@runs_app.command("suspend")
def jobs_suspend(
    name: JobName,
    project: ProjectOption,
    wait: WaitOption = False,
    timeout: TimeoutOption = 300.0,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Stop with a savepoint and keep the job's CU for `resume`."""
    lifecycle(
        profile,
        project,
        name,
        lambda api: api.suspend_job(project, name),
        wanted=("suspended",),
        wait=wait,
        timeout=timeout,
        fmt=fmt,
    )


@runs_app.command("resume")
def jobs_resume(
    name: JobName,
    project: ProjectOption,
    wait: WaitOption = False,
    timeout: TimeoutOption = 300.0,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Resume a suspended job from its suspend savepoint."""
    lifecycle(
        profile,
        project,
        name,
        lambda api: api.resume_job(project, name),
        wanted=RUNNING,
        wait=wait,
        timeout=timeout,
        fmt=fmt,
        new_run=True,
    )


@runs_app.command("offline")
def jobs_offline(
    name: JobName,
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Go offline (下线): the job releases its engine version; its savepoints stay."""
    commands.call(profile, lambda api: api.offline_job(project, name))
    output.emit({"offline": name}, fmt)
