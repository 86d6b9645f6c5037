"""`rtc catalog`: machine types, their CU and prices, and the regions.

A slave type's CU is what it adds to a cluster; a master type's CU is the largest cluster it
can run (the guide's two tables). The operator edits prices and adds types and regions.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rtcompute.cli import commands, output

ProfileOption = commands.ProfileOption
TYPE_COLUMNS = ("role", "name", "cores", "memory_gb", "cu", "month", "hour")
REGION_COLUMNS = ("name", "display_name", "shared_cu_month")

catalog_app = typer.Typer(
    help="Show the catalog (machine types, CU, prices, regions); the operator edits it.",
    invoke_without_command=True,
)


@catalog_app.callback()
def catalog_show(
    ctx: typer.Context,
    region: Annotated[
        str | None, typer.Option(help="This region's prices (default: the server's).")
    ] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Show the catalog: machine types (slave CU it adds, master CU it can run), prices, regions."""
    if ctx.invoked_subcommand is not None:
        return
    catalog = commands.call(profile, lambda api: api.get_catalog(region=region))
    if fmt is output.Format.json:
        output.emit(catalog, fmt)
        return
    types = [
        output.fields(t) | {"cu": "no limit" if t.cu is None else t.cu}
        for t in catalog.machine_types
    ]
    output.emit(types, fmt, TYPE_COLUMNS, title=f"machine types in {catalog.region}")
    output.emit(catalog.regions, fmt, REGION_COLUMNS, title="regions (shared CU per month)")
    output.console.print(
        "slave cu: usable CU it adds; master cu: the largest cluster (usable CU) it can run"
    )


@catalog_app.command("set-region")
def catalog_set_region(
    name: Annotated[str, typer.Argument(help="The region's name, e.g. local.")],
    shared_cu_month_cents: Annotated[
        int, typer.Option(help="Price of 1 shared CU for a month, in cents.")
    ],
    display_name: Annotated[str, typer.Option(help="A name for people (optional).")] = "",
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Add a region or change its shared CU price (operator)."""
    output.emit(
        commands.call(
            profile,
            lambda api: api.update_region(
                name, display_name=display_name, shared_cu_month_cents=shared_cu_month_cents
            ),
        ),
        fmt,
    )


@catalog_app.command("set-type")
def catalog_set_type(
    role: Annotated[str, typer.Argument(help="master or slave.")],
    name: Annotated[str, typer.Argument(help="The machine type, e.g. 8c32g.")],
    month_cents: Annotated[int, typer.Option(help="Price per month, in cents.")],
    hour_cents: Annotated[int, typer.Option(help="Price per hour (pay-as-you-go), in cents.")],
    cu: Annotated[
        int | None,
        typer.Option(help="Slave: usable CU it adds; master: the largest cluster it runs."),
    ] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Add a machine type or change its CU figure and prices (operator)."""
    output.emit(
        commands.call(
            profile,
            lambda api: api.update_machine_type(
                role, name, cu=cu, month_cents=month_cents, hour_cents=hour_cents
            ),
        ),
        fmt,
    )
