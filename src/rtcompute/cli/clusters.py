"""`rtc clusters`: exclusive clusters, created from a paid exclusive order in the guide's
steps (order -> name and note -> bucket, network, subnet, zone -> confirm).

The API only records what is wanted; the cluster reconciler starts the nodes. `--wait`
follows that by polling the cluster and shows its progress on stderr, so that stdout stays
the cluster itself (a table, or JSON for scripts). Exit status: 0 running (or released),
1 failed or out of time, 2 a usage mistake.
"""

from __future__ import annotations

import contextlib
import time
from typing import Annotated, Any

import typer

from rtcompute import client
from rtcompute.cli import commands, engine_versions, orders, output
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption
ClusterName = Annotated[str, typer.Argument(help="The cluster's name.")]
PayOption = Annotated[bool, typer.Option("--pay", help="Pay the new order at once.")]
WaitOption = Annotated[
    bool, typer.Option("--wait", help="Wait until it is done, showing progress on stderr.")
]
TimeoutOption = Annotated[
    float, typer.Option(help="Seconds --wait waits before giving up (exit status 1).")
]
POLL_SECONDS = 0.5
CLUSTER_COLUMNS = (
    "name",
    "state",
    "billing",
    "masters",
    "slaves",
    "expires_at",
    "description",
    "created_at",
)
COMPONENT_COLUMNS = (
    "node",
    "role",
    "type",
    "address",
    "component",
    "port",
    "pid",
    "state",
    "since",
    "restarts",
)
RUNNING, FAILED, RELEASING, RELEASED = "running", "failed", "releasing", "released"

clusters_app = typer.Typer(
    help="Exclusive clusters: create from an exclusive order, watch them start, scale, release.",
    no_args_is_help=True,
)
clusters_app.add_typer(engine_versions.cluster_versions_app, name="versions")


def summary(cluster: schemas.clusters.Cluster) -> dict[str, Any]:
    return output.fields(cluster) | {
        "masters": f"{cluster.master_type} x {cluster.master_count}",
        "slaves": f"{cluster.slave_type} x {cluster.slave_count}",
    }


def component_rows(cluster: schemas.clusters.ClusterDetail) -> list[dict[str, Any]]:
    """One row per component (the guide's 组件 view); a node without any yet gets one row."""
    rows = []
    for node in cluster.nodes:
        place = {
            "node": node.name,
            "role": node.role,
            "type": node.machine_type,
            "address": node.address,
        }
        if not node.components:
            rows.append(place | {"state": node.state, "since": output.json_value(node.since)})
        for component in node.components:
            rows.append(
                place
                | {
                    "component": component.kind,
                    "port": component.port,
                    "pid": component.pid,
                    "state": component.state,
                    "since": output.json_value(component.since),
                    "restarts": component.restarts,
                }
            )
    return rows


def show(cluster: schemas.clusters.Cluster, fmt: output.Format) -> None:
    """A cluster; with its nodes and their components when it is a ClusterDetail."""
    if fmt is output.Format.json:
        output.emit(cluster, fmt)
        return
    output.emit({k: v for k, v in summary(cluster).items() if k != "nodes"}, fmt)
    if isinstance(cluster, schemas.clusters.ClusterDetail) and cluster.nodes:
        output.emit(component_rows(cluster), fmt, COMPONENT_COLUMNS, title="nodes and components")


def progress(cluster: schemas.clusters.ClusterDetail) -> str:
    """One line: `c1 starting: 3/5 nodes running`, `c1 releasing: 2 nodes left`."""
    nodes = cluster.nodes
    running = sum(1 for node in nodes if node.state == RUNNING)
    if cluster.state in (RELEASING, RELEASED):
        line = f"{cluster.name} {cluster.state}: {len(nodes)} nodes left"
    else:
        line = f"{cluster.name} {cluster.state}: {running}/{len(nodes)} nodes running"
    return f"{line} ({cluster.message})" if cluster.message else line


def wait_for(
    api: client.Client, name: str, goal: str, timeout: float
) -> schemas.clusters.ClusterDetail:
    """Poll the cluster until it reaches `goal`; exit 1 when it fails or time runs out.

    On a terminal the progress is one live status line; otherwise (a log, a CI job) a plain
    line each time it changes."""
    console = output.err_console
    live = console.status("", spinner="dots") if console.is_terminal else None
    deadline = time.monotonic() + timeout
    last = ""
    with live or contextlib.nullcontext():
        while True:
            cluster = api.get_cluster(name)
            line = progress(cluster)
            if line != last and live is not None:
                live.update(line)
            elif line != last:
                console.print(line, markup=False, highlight=False)
            last = line
            if cluster.state == goal:
                return cluster
            if cluster.state == FAILED:
                reason = cluster.message or "no reason given"
                console.print(f"cluster {name} failed: {reason}", markup=False, highlight=False)
                raise typer.Exit(1)
            if time.monotonic() >= deadline:
                console.print(
                    f"gave up after {timeout:g} s waiting for {name} to be {goal}: {line}",
                    markup=False,
                    highlight=False,
                )
                raise typer.Exit(1)
            time.sleep(POLL_SECONDS)


def wait_and_show(profile: str, name: str, goal: str, timeout: float, fmt: output.Format) -> None:
    with commands.connect(profile) as api:
        try:
            cluster = wait_for(api, name, goal, timeout)
        except client.ApiError as exc:
            raise output.fail(exc) from None
    show(cluster, fmt)


@clusters_app.command("list")
def clusters_list(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """List the account's clusters and their states."""
    found = commands.call(profile, lambda api: api.list_clusters())
    rows = found if fmt is output.Format.json else [summary(c) for c in found]
    output.emit(rows, fmt, CLUSTER_COLUMNS)


@clusters_app.command("show")
def clusters_show(
    name: ClusterName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Show a cluster with its nodes and their components (port, pid, state, restarts)."""
    show(commands.call(profile, lambda api: api.get_cluster(name)), fmt)


@clusters_app.command("create")
def clusters_create(
    name: Annotated[str, typer.Argument(help="The new cluster's name.")],
    order: Annotated[str, typer.Option("--order", help="A paid, unconsumed exclusive order.")],
    bucket: Annotated[str, typer.Option(help="A standard-class, non-public bucket.")],
    network: Annotated[str, typer.Option(help="The network (VPC) the nodes join.")],
    subnet: Annotated[str, typer.Option(help="A subnet of the network with enough addresses.")],
    zone: Annotated[str, typer.Option(help="The zone of the subnet, with room for the nodes.")],
    description: Annotated[str, typer.Option(help="A note (optional).")] = "",
    wait: WaitOption = False,
    timeout: TimeoutOption = 300.0,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create a cluster from an exclusive order; it starts (--wait: until it runs)."""
    created = commands.call(
        profile,
        lambda api: api.create_cluster(
            name,
            order_id=order,
            bucket=bucket,
            network=network,
            subnet=subnet,
            zone=zone,
            description=description,
        ),
    )
    if wait:
        wait_and_show(profile, name, RUNNING, timeout, fmt)
    else:
        show(created, fmt)


@clusters_app.command("release")
def clusters_release(
    name: ClusterName,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    wait: WaitOption = False,
    timeout: TimeoutOption = 120.0,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Release a cluster: its processes stop, its nodes are freed (refused with projects)."""
    if not yes:
        typer.confirm(f"Release cluster {name} and stop all its nodes?", abort=True)
    released = commands.call(profile, lambda api: api.release_cluster(name))
    if wait:
        wait_and_show(profile, name, RELEASED, timeout, fmt)
    else:
        show(released, fmt)


@clusters_app.command("scale")
def clusters_scale(
    name: ClusterName,
    slaves: Annotated[int, typer.Option(help="The new number of slaves (out or in).")],
    pay: PayOption = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Place a scale-out / scale-in order; paying it starts the scale."""
    order = commands.call(profile, lambda api: api.scale_cluster(name, slaves))
    orders.show_placed(order, fmt, pay=pay, profile=profile)


@clusters_app.command("renew")
def clusters_renew(
    name: ClusterName,
    months: Annotated[int, typer.Option(help="Months to add (1-36).")],
    pay: PayOption = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Place a renewal order; paying it extends the cluster (and restarts an expired one)."""
    order = commands.call(profile, lambda api: api.renew_cluster(name, months))
    orders.show_placed(order, fmt, pay=pay, profile=profile)


@clusters_app.command("update")
def clusters_update(
    name: ClusterName,
    description: Annotated[str, typer.Option(help="The new note.")],
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Change a cluster's note."""
    found = commands.call(profile, lambda api: api.update_cluster(name, description=description))
    output.emit(found if fmt is output.Format.json else summary(found), fmt)
