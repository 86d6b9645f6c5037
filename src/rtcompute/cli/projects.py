"""`rtc projects`: the account's projects, shared-mode (from a paid order) or in a cluster.

Every project operation needs the service role authorized first (`rtc ram service-role
authorize`). Only the account itself creates projects (a RAM user gets 403
Forbidden.MainAccountOnly). Renewing or scaling a shared project places an order: it takes
effect once paid (`--pay` pays at once).
"""

from __future__ import annotations

from typing import Annotated

import typer

from rtcompute.cli import commands, orders, output

ProfileOption = commands.ProfileOption
ProjectName = Annotated[str, typer.Argument(help="The project's name.")]
PayOption = Annotated[bool, typer.Option("--pay", help="Pay the new order at once.")]
PROJECT_COLUMNS = (
    "name",
    "mode",
    "cu",
    "state",
    "cluster",
    "order_id",
    "expires_at",
    "description",
    "created_by",
)

projects_app = typer.Typer(
    help="Projects: where jobs live (needs the service role: `rtc ram service-role authorize`).",
    no_args_is_help=True,
)


@projects_app.command("list")
def projects_list(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """List the projects you may see (a RAM user: those its policies name)."""
    output.emit(commands.call(profile, lambda api: api.list_projects()), fmt, PROJECT_COLUMNS)


@projects_app.command("create")
def projects_create(
    name: Annotated[
        str, typer.Argument(help="3-64 letters, digits and underscores, starting with a letter.")
    ],
    order: Annotated[
        str | None,
        typer.Option("--order", help="A paid, unconsumed shared order (shared mode)."),
    ] = None,
    cluster: Annotated[
        str | None, typer.Option(help="A running exclusive cluster to create it in (with --cu).")
    ] = None,
    cu: Annotated[
        int | None, typer.Option("--cu", help="CU of the cluster it gets (with --cluster).")
    ] = None,
    description: Annotated[str, typer.Option(help="What it is for (optional).")] = "",
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create a project from a paid shared order (--order), or in a cluster (--cluster --cu)."""
    if order is not None and (cluster is not None or cu is not None):
        raise commands.usage("give --order, or --cluster with --cu, not both", "--order")
    if order is None and (cluster is None or cu is None):
        raise commands.usage(
            "give --order ID (shared mode), or --cluster NAME with --cu N", "--order"
        )
    output.emit(
        commands.call(
            profile,
            lambda api: api.create_project(
                name, description=description, order_id=order, cluster=cluster, cu=cu
            ),
        ),
        fmt,
    )


@projects_app.command("show")
def projects_show(
    name: ProjectName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Show one project."""
    output.emit(commands.call(profile, lambda api: api.get_project(name)), fmt)


@projects_app.command("update")
def projects_update(
    name: ProjectName,
    description: Annotated[str | None, typer.Option(help="The new description.")] = None,
    cu: Annotated[
        int | None,
        typer.Option("--cu", help="New CU of a project in a cluster (shared: `scale`)."),
    ] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Change a project's description, or resize a project in a cluster."""
    if description is None and cu is None:
        raise commands.usage("give --description or --cu (or both)", "--description")
    output.emit(
        commands.call(
            profile, lambda api: api.update_project(name, description=description, cu=cu)
        ),
        fmt,
    )


@projects_app.command("delete")
def projects_delete(
    name: ProjectName,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete a project (refused while it has online jobs); its order is released."""
    if not yes:
        typer.confirm(f"Delete project {name}?", abort=True)
    commands.call(profile, lambda api: api.delete_project(name))
    output.emit({"deleted": name}, fmt)


@projects_app.command("renew")
def projects_renew(
    name: ProjectName,
    months: Annotated[int, typer.Option(help="Months to add (1-36).")],
    pay: PayOption = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Place a renewal order for a shared project; paying it extends the project."""
    order = commands.call(profile, lambda api: api.renew_project(name, months))
    orders.show_placed(order, fmt, pay=pay, profile=profile)


@projects_app.command("scale")
def projects_scale(
    name: ProjectName,
    cu: Annotated[int, typer.Option("--cu", help="The project's new CU (out or in).")],
    pay: PayOption = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Place a scale-out / scale-in order for a shared project; paying it changes the CU."""
    order = commands.call(profile, lambda api: api.scale_project(name, cu))
    orders.show_placed(order, fmt, pay=pay, profile=profile)
