"""`rtc networks`: a tenant's networks and their subnets (the guide's VPC and VSwitch).

A cluster's nodes take their addresses from one subnet, so a subnet must sit in the zone the
cluster is placed in and have as many free addresses as the cluster has nodes. `placement`
asks the server which zones and subnets can hold a paid order's cluster (the rule creation
applies, the one the console's cluster wizard offers its choices by), before creating it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rtcompute.cli import commands, output
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption
NetworkName = Annotated[str, typer.Argument(help="The network's name.")]
SubnetName = Annotated[str, typer.Argument(help="The subnet's name.")]
NETWORK_COLUMNS = ("name", "region", "cidr", "subnets", "description", "created_at")
SUBNET_COLUMNS = ("network", "name", "cidr", "zone", "usable_addresses", "free_addresses")
PLACEMENT_COLUMNS = ("kind", "name", "zone", "room", "fits", "reason")

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


def nodes_text(nodes: dict[str, int]) -> str:
    """`{"4c16g": 3}` -> `4c16g x 3` (machine types and node counts)."""
    return ", ".join(f"{name} x {count}" for name, count in sorted(nodes.items()))


def placement_rows(options: schemas.networks.PlacementOptions) -> list[dict[str, str]]:
    """One row per zone, then per subnet: its room, whether the order fits, and why not."""
    rows = [
        {
            "kind": "zone",
            "name": zone.name,
            "zone": zone.name,
            "room": ", ".join(f"{t}: {n} left" for t, n in sorted(zone.remaining.items()))
            or "none",
            "fits": "yes" if zone.fits else "no",
            "reason": zone.reason or "",
        }
        for zone in options.zones
    ]
    rows += [
        {
            "kind": "subnet",
            "name": subnet.name,
            "zone": subnet.zone,
            "room": f"{subnet.free_addresses} free addresses ({subnet.cidr})",
            "fits": "yes" if subnet.fits else "no",
            "reason": subnet.reason or "",
        }
        for subnet in options.subnets
    ]
    return rows


@networks_app.command("placement")
def networks_placement(
    network: NetworkName,
    order: Annotated[
        str,
        typer.Option("--order", help="A paid exclusive-cluster order (see `rtc orders list`)."),
    ],
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Which zones and subnets of NETWORK can hold the cluster of a paid order, and why not."""
    options = commands.call(profile, lambda api: api.placement_options(network, order))
    if fmt is output.Format.json:
        output.emit(options, fmt)
        return
    title = (
        f"order {options.order_id} needs {nodes_text(options.nodes_needed)} "
        f"and {options.addresses_needed} addresses"
    )
    output.emit(placement_rows(options), fmt, PLACEMENT_COLUMNS, title=title)
