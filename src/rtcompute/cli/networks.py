"""`rtc networks`: a tenant's networks and their subnets (the guide's VPC and VSwitch).

A cluster's nodes take their addresses from one subnet, so a subnet must sit in the zone the
cluster is placed in and have as many free addresses as the cluster has nodes.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rtcompute.cli import commands, output

ProfileOption = commands.ProfileOption
NetworkName = Annotated[str, typer.Argument(help="The network's name.")]
SubnetName = Annotated[str, typer.Argument(help="The subnet's name.")]
NETWORK_COLUMNS = ("name", "region", "cidr", "subnets", "description", "created_at")
SUBNET_COLUMNS = ("network", "name", "cidr", "zone", "usable_addresses", "free_addresses")

networks_app = typer.Typer(
    help="Networks (VPC) and their subnets (VSwitch) for exclusive clusters.",
    no_args_is_help=True,
)


@networks_app.command("list")
def networks_list(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """List your networks."""
    output.emit(commands.call(profile, lambda api: api.list_networks()), fmt, NETWORK_COLUMNS)


@networks_app.command("show")
def networks_show(
    name: NetworkName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Show one network."""
    output.emit(commands.call(profile, lambda api: api.get_network(name)), fmt)


@networks_app.command("create")
def networks_create(
    name: Annotated[str, typer.Argument(help="The new network's name.")],
    cidr: Annotated[str, typer.Option(help="A private IPv4 block, /8 to /24, e.g. 10.0.0.0/16.")],
    description: Annotated[str, typer.Option(help="A note (optional).")] = "",
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create a network."""
    output.emit(
        commands.call(profile, lambda api: api.create_network(name, cidr, description=description)),
        fmt,
    )


@networks_app.command("delete")
def networks_delete(
    name: NetworkName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete a network that has no subnets left."""
    commands.call(profile, lambda api: api.delete_network(name))
    output.emit({"deleted": name}, fmt)


@networks_app.command("subnets")
def networks_subnets(
    network: NetworkName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List a network's subnets with their usable and free addresses."""
    output.emit(commands.call(profile, lambda api: api.list_subnets(network)), fmt, SUBNET_COLUMNS)


@networks_app.command("add-subnet")
def networks_add_subnet(
    network: NetworkName,
    name: Annotated[str, typer.Argument(help="The new subnet's name.")],
    cidr: Annotated[
        str, typer.Option(help="A block inside the network, overlapping no other subnet.")
    ],
    zone: Annotated[str, typer.Option(help="The zone it is in (see `rtc zones list`).")],
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create a subnet of a network in a zone."""
    output.emit(
        commands.call(profile, lambda api: api.create_subnet(network, name, cidr, zone)), fmt
    )


@networks_app.command("delete-subnet")
def networks_delete_subnet(
    network: NetworkName,
    name: SubnetName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete a subnet in which no cluster node holds an address."""
    commands.call(profile, lambda api: api.delete_subnet(network, name))
    output.emit({"deleted": f"{network}/{name}"}, fmt)
