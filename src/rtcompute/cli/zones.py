"""`rtc zones`: where cluster nodes can be placed. The operator registers each zone with its
host capacity (how many nodes of each machine type it holds); every tenant lists them, with
what remains, to pick a zone for a subnet and a cluster."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import typer

from rtcompute.cli import commands, output
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption
ZoneName = Annotated[str, typer.Argument(help="The zone's name.")]
Region = Annotated[str | None, typer.Option(help="The zone's region (default: the server's).")]
CapacityOption = Annotated[
    list[str],
    typer.Option(
        "--capacity",
        help="TYPE=COUNT: nodes of a machine type the zone holds, e.g. 4c16g=10; repeat it.",
    ),
]
ZONE_COLUMNS = ("name", "region", "provider", "capacity", "used", "remaining", "created_at")

zones_app = typer.Typer(
    help="Zones and their capacity for nodes (create, update, delete: operator).",
    no_args_is_help=True,
)


def parse_capacity(values: list[str]) -> dict[str, int]:
    """`["4c16g=10", "8c32g=4"]` -> `{"4c16g": 10, "8c32g": 4}`; a usage error otherwise."""
    capacity: dict[str, int] = {}
    for value in values:
        name, equals, count = value.partition("=")
        if (
            not equals
            or not name.strip()
            or not (count.strip().isascii() and count.strip().isdigit())
        ):
            raise commands.usage(f"{value!r} is not TYPE=COUNT (e.g. 4c16g=10)", "--capacity")
        if name.strip() in capacity:
            raise commands.usage(f"{name.strip()} is given twice", "--capacity")
        capacity[name.strip()] = int(count)
    return capacity


def counts(value: dict[str, int]) -> str:
    return " ".join(f"{name}={count}" for name, count in sorted(value.items())) or "-"


def table_row(zone: schemas.zones.Zone) -> dict[str, Any]:
    return output.fields(zone) | {
        "capacity": counts(zone.capacity),
        "used": counts(zone.used),
        "remaining": counts(zone.remaining),
    }


@zones_app.command("list")
def zones_list(
    region: Region = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the region's zones: capacity, nodes placed and what remains, per machine type."""
    found = commands.call(profile, lambda api: api.list_zones(region=region))
    rows = found if fmt is output.Format.json else [table_row(z) for z in found]
    output.emit(rows, fmt, ZONE_COLUMNS)


class Provider(enum.StrEnum):
    local = "local"
    hosts = "hosts"


@zones_app.command("create")
def zones_create(
    name: ZoneName,
    capacity: Annotated[
        list[str],
        typer.Option(
            "--capacity",
            help="TYPE=COUNT: nodes of a machine type the zone holds, e.g. 4c16g=10; repeat "
            "it (a zone of this machine; a hosts zone's capacity is its hosts).",
        ),
    ] = [],  # noqa: B006 (typer's way to say: none given)
    provider: Annotated[
        Provider,
        typer.Option(help="local: nodes on this machine; hosts: on joined hosts (`rtc hosts`)."),
    ] = Provider.local,
    region: Region = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Register a zone: this machine with its node capacity, or joined hosts (operator)."""
    wanted = parse_capacity(capacity)
    zone = commands.call(
        profile,
        lambda api: api.create_zone(name, wanted, region=region, provider=provider.value),
    )
    output.emit(zone if fmt is output.Format.json else table_row(zone), fmt)


@zones_app.command("update")
def zones_update(
    name: ZoneName,
    capacity: CapacityOption,
    region: Region = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Replace a zone's capacity; never below the nodes placed in it (operator)."""
    wanted = parse_capacity(capacity)
    zone = commands.call(profile, lambda api: api.update_zone(name, wanted, region=region))
    output.emit(zone if fmt is output.Format.json else table_row(zone), fmt)


@zones_app.command("delete")
def zones_delete(
    name: ZoneName,
    region: Region = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Remove a zone that no subnet, node or cluster uses (operator)."""
    commands.call(profile, lambda api: api.delete_zone(name, region=region))
    output.emit({"deleted": name}, fmt)
