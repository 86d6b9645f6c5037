"""`versions`: the engine versions of a cluster (`rtc clusters versions ... CLUSTER`) or of the
shared pool (`rtc pool versions ...`, the operator's), in the guide's chapter 7 terms:
install (at most 3; beta versions ask first), set current, uninstall.

The API only records the wish; the engine reconciler installs. `install --wait` follows it by
polling the version (phase and percent) and, for a cluster, the cluster's state (`deploying`
until the install ends); progress goes to stderr so stdout stays the version itself. An
install of the same version already under way (another `rtc`, the console) is refused by the
API; `--wait` follows that one instead. Exit status: 0 installed, 1 failed, refused or out of
time, 2 a usage mistake.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from rtcompute import client
from rtcompute.cli import commands, output
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption
ClusterName = Annotated[str, typer.Argument(help="The cluster's name.")]
VersionName = Annotated[str, typer.Argument(help="The engine version, e.g. flink-2.2.1.")]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Confirm a beta version up front (no question).")
]
WaitOption = Annotated[
    bool,
    typer.Option("--wait", help="Wait until it is installed, showing progress on stderr."),
]
TimeoutOption = Annotated[
    float, typer.Option(help="Seconds --wait waits before giving up (exit status 1).")
]
POLL_SECONDS = 0.5
INSTALLED, FAILED, INSTALLING = "installed", "failed", "installing"
ALREADY_UNDER_WAY = frozenset({"VersionDeploying", "VersionAlreadyInstalled"})
BETA_NOT_CONFIRMED = "BetaNotConfirmed"
COLUMNS = ("version", "release", "tag", "state", "progress", "flags", "end_of_service", "message")

cluster_versions_app = typer.Typer(
    help="Engine versions of a cluster: list, install (--wait), set current, uninstall.",
    no_args_is_help=True,
)
pool_versions_app = typer.Typer(
    help="Engine versions of the shared pool (operator writes): list, install, set current, "
    "uninstall.",
    no_args_is_help=True,
)


# ---- rendering ----------------------------------------------------------------------------


def flags(version: schemas.engines.Version) -> str:
    """`current`, `RETIRED` (past its end of service, still usable)."""
    found = [
        name for name, on in (("current", version.current), ("RETIRED", version.retired)) if on
    ]
    return ", ".join(found)


def row(version: schemas.engines.Version) -> dict[str, Any]:
    busy = version.state not in (INSTALLED, FAILED)
    step = f"{version.progress}% {version.phase}".strip() if busy else ""
    return output.fields(version) | {"progress": step, "flags": flags(version)}


def show(version: schemas.engines.Version, fmt: output.Format) -> None:
    output.emit(version if fmt is output.Format.json else row(version), fmt)


def status_line(
    version: schemas.engines.Version,
    cluster: schemas.clusters.Cluster | None,
    *,
    percent: bool = True,
) -> str:
    """`flink-1.20.5 installing 40% download; cluster c1: deploying` (the bar shows the
    percent itself: `percent=False`)."""
    line = f"{version.version} {version.state}"
    if version.state not in (INSTALLED, FAILED):
        line += f" {version.progress}%" if percent else ""
        if version.phase:
            line += f" {version.phase}"
    if cluster is not None:
        line += f"; cluster {cluster.name}: {cluster.state}"
    return line


# ---- install and its progress -------------------------------------------------------------


def interactive() -> bool:
    """Whether a question can be asked (a person at a terminal)."""
    return sys.stdin.isatty()


def start_install(
    api: client.Client, cluster: str | None, version: str, *, yes: bool
) -> schemas.engines.Version:
    """Ask the API to install; a beta version is confirmed by --yes or by a question."""
    try:
        return api.install_version(cluster, version, confirm_beta=yes)
    except client.ApiError as exc:
        if exc.code != BETA_NOT_CONFIRMED or yes:
            raise
        if not interactive():
            refused = output.fail(exc)
            output.err_console.print(
                "not installed: run it again with --yes to install a beta version",
                markup=False,
                highlight=False,
            )
            raise refused from None
        output.err_console.print(exc.message, markup=False, highlight=False, soft_wrap=True)
        if not typer.confirm("Install anyway?", default=False, err=True):
            output.err_console.print("not installed", markup=False, highlight=False)
            raise typer.Exit(1) from None
        return api.install_version(cluster, version, confirm_beta=True)


class Display:
    """A Rich progress bar on a terminal; otherwise (a log, a CI job) a plain line each time
    the status changes."""

    def __init__(self, version: str) -> None:
        self.console = output.err_console
        self.bar: Progress | None = None
        self.task: Any = None
        self.last = ""
        self.version = version

    @contextlib.contextmanager
    def running(self) -> Iterator[Display]:
        if not self.console.is_terminal:
            yield self
            return
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        with self.bar:
            self.task = self.bar.add_task(self.version, total=100)
            yield self

    def update(
        self, version: schemas.engines.Version, cluster: schemas.clusters.Cluster | None
    ) -> None:
        line = status_line(version, cluster)
        if self.bar is not None:
            described = status_line(version, cluster, percent=False)
            self.bar.update(self.task, description=described, completed=version.progress)
        elif line != self.last:
            self.console.print(line, markup=False, highlight=False, soft_wrap=True)
        self.last = line

    def say(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)


def cluster_of(api: client.Client, cluster: str | None) -> schemas.clusters.Cluster | None:
    """The cluster, for its state; None for the pool, or when the caller may see the
    cluster's versions but not the cluster itself (the install goes on regardless)."""
    if cluster is None:
        return None
    try:
        return api.get_cluster(cluster)
    except client.ApiError as exc:
        if exc.status != 403:
            raise
        return None


def follow(
    api: client.Client, cluster: str | None, version: str, timeout: float
) -> schemas.engines.Version:
    """Poll the version until it is installed; exit 1 when it fails or time runs out."""
    display = Display(version)
    deadline = time.monotonic() + timeout
    with display.running():
        while True:
            found = api.get_version(cluster, version)
            owner = cluster_of(api, cluster)
            display.update(found, owner)
            if found.state == INSTALLED:
                return found
            if found.state == FAILED:
                reason = found.message or "no reason given"
                display.say(f"installing {version} failed: {reason}")
                raise typer.Exit(1)
            if time.monotonic() >= deadline:
                display.say(f"gave up after {timeout:g} s waiting for {version}: {display.last}")
                raise typer.Exit(1)
            time.sleep(POLL_SECONDS)


def install(
    cluster: str | None,
    version: str,
    *,
    yes: bool,
    wait: bool,
    timeout: float,
    profile: str,
    fmt: output.Format,
) -> None:
    with commands.connect(profile) as api:
        try:
            try:
                found = start_install(api, cluster, version, yes=yes)
            except client.ApiError as exc:
                if not wait or not under_way(api, cluster, version, exc):
                    raise
                output.err_console.print(
                    f"{version} is already being installed: waiting for that install",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
            if wait:
                found = follow(api, cluster, version, timeout)
        except client.ApiError as exc:
            raise output.fail(exc) from None
    show(found, fmt)


def under_way(
    api: client.Client, cluster: str | None, version: str, refusal: client.ApiError
) -> bool:
    """Whether the install was refused because this version is being installed already (one
    install at a time: `VersionDeploying`; two asked at once: `VersionAlreadyInstalled`), not
    for another reason or because another version is being installed."""
    if refusal.code not in ALREADY_UNDER_WAY:
        return False
    try:
        return api.get_version(cluster, version).state == INSTALLING
    except client.ApiError:
        return False


def list_versions(cluster: str | None, profile: str, fmt: output.Format) -> None:
    found = commands.call(profile, lambda api: api.list_versions(cluster))
    output.emit(found if fmt is output.Format.json else [row(v) for v in found], fmt, COLUMNS)


# ---- the commands, for a cluster and for the pool -----------------------------------------


@cluster_versions_app.command("list")
def cluster_list(
    cluster: ClusterName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the cluster's versions: state, progress, current, retired (past end of service)."""
    list_versions(cluster, profile, fmt)


@cluster_versions_app.command("install")
def cluster_install(
    cluster: ClusterName,
    version: VersionName,
    yes: YesOption = False,
    wait: WaitOption = False,
    timeout: TimeoutOption = 900.0,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Install a version on the cluster (at most 3; beta asks first); it shows `deploying`."""
    install(cluster, version, yes=yes, wait=wait, timeout=timeout, profile=profile, fmt=fmt)


@cluster_versions_app.command("set-current")
def cluster_set_current(
    cluster: ClusterName,
    version: VersionName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Make an installed version the default engine for new jobs of the cluster."""
    show(commands.call(profile, lambda api: api.set_current_version(cluster, version)), fmt)


@cluster_versions_app.command("uninstall")
def cluster_uninstall(
    cluster: ClusterName,
    version: VersionName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Uninstall a version; refused for the current one and while an online job uses it."""
    show(commands.call(profile, lambda api: api.uninstall_version(cluster, version)), fmt)


@pool_versions_app.command("list")
def pool_list(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """List the shared pool's versions; shared projects run on its current one."""
    list_versions(None, profile, fmt)


@pool_versions_app.command("install")
def pool_install(
    version: VersionName,
    yes: YesOption = False,
    wait: WaitOption = False,
    timeout: TimeoutOption = 900.0,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Install a version on the shared pool (operator; at most 3; a beta one asks first)."""
    install(None, version, yes=yes, wait=wait, timeout=timeout, profile=profile, fmt=fmt)


@pool_versions_app.command("set-current")
def pool_set_current(
    version: VersionName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Make an installed version the pool's current one (operator)."""
    show(commands.call(profile, lambda api: api.set_current_version(None, version)), fmt)


@pool_versions_app.command("uninstall")
def pool_uninstall(
    version: VersionName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Uninstall a version from the pool (operator); refused for the current one."""
    show(commands.call(profile, lambda api: api.uninstall_version(None, version)), fmt)
