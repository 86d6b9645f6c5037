"""`rtc hosts`: the operator's machines, joined to a hosts zone through their node agents
(docs/hosts.md). A join token lets one machine join once; `rtc agent` on the machine uses
it. Hosts are listed with their state (ready, in_use, draining, lost), drained and removed."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rtcompute.cli import commands, output
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption
HostName = Annotated[str, typer.Argument(help="The host's name (`rtc hosts list`).")]
HOST_COLUMNS = (
    "name",
    "zone",
    "state",
    "address",
    "cores",
    "memory_mb",
    "pinned_type",
    "cluster",
    "node",
    "last_heartbeat_at",
)

hosts_app = typer.Typer(
    help="Joined hosts: list, drain, remove; join tokens for new ones (operator).",
    no_args_is_help=True,
)
token_app = typer.Typer(help="Single-use tokens a machine joins a hosts zone with.")
hosts_app.add_typer(token_app, name="join-token")


def table_row(host: schemas.hosts.Host) -> dict[str, Any]:
    row = output.fields(host)
    row.pop("report", None)
    return row


@hosts_app.command("list")
def hosts_list(
    zone: Annotated[str | None, typer.Option(help="Only this zone's hosts.")] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List joined hosts: state, what each serves, the last heartbeat."""
    found = commands.call(profile, lambda api: api.list_hosts(zone=zone))
    rows = found if fmt is output.Format.json else [table_row(h) for h in found]
    output.emit(rows, fmt, HOST_COLUMNS)


@hosts_app.command("show")
def hosts_show(
    name: HostName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """One host, with what its agent last reported."""
    host = commands.call(profile, lambda api: api.get_host(name))
    output.emit(host, fmt)


@hosts_app.command("drain")
def hosts_drain(
    name: HostName,
    undo: Annotated[bool, typer.Option("--undo", help="Put the host back in service.")] = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Drain a host: no new node claims it; what runs there stays until released."""
    host = commands.call(profile, lambda api: api.drain_host(name, not undo))
    output.emit(host if fmt is output.Format.json else table_row(host), fmt)


@hosts_app.command("remove")
def hosts_remove(
    name: HostName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Forget a host that serves no node; its agent's credentials stop working at once."""
    commands.call(profile, lambda api: api.remove_host(name))
    output.emit({"removed": name}, fmt)


@token_app.command("create")
def token_create(
    zone: Annotated[str, typer.Option(help="The hosts zone the machine joins.")],
    ttl: Annotated[
        int | None, typer.Option(help="Seconds the token stays valid (default 3600).")
    ] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Make a join token (shown once) and say how to start the agent with it."""
    made = commands.call(profile, lambda api: api.create_join_token(zone, ttl_seconds=ttl))
    if fmt is output.Format.json:
        output.emit(made, fmt)
        return
    output.emit(output.fields(made), fmt)
    typer.echo(
        "\nOn the machine (it must mount the platform's storage at the same path, "
        f"see docs/hosts.md):\n  rtc agent --server URL --token {made.token}",
        err=True,
    )
