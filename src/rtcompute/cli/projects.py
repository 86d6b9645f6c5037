"""`rtc projects`: the account's projects.

Every project operation needs the service role authorized first (`rtc ram service-role
authorize`); a RAM user creating a project also needs `ram:PassRole` on it (error 922019).
"""

from __future__ import annotations

from typing import Annotated

import typer

from rtcompute.cli import commands, output

ProfileOption = commands.ProfileOption
ProjectName = Annotated[str, typer.Argument(help="The project's name.")]
PROJECT_COLUMNS = ("name", "region", "description", "created_by", "created_at")

projects_app = typer.Typer(
    help="Projects: where jobs live (needs the service role: `rtc ram service-role authorize`).",
    no_args_is_help=True,
)


@projects_app.command("list")
def projects_list(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """List the projects you may see (a RAM user: those its policies name)."""
    output.emit(commands.call(profile, "list_projects"), fmt, PROJECT_COLUMNS)


@projects_app.command("create")
def projects_create(
    name: Annotated[
        str, typer.Argument(help="3-64 letters, digits and underscores, starting with a letter.")
    ],
    description: Annotated[str, typer.Option(help="What it is for (optional).")] = "",
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create a project (a RAM user needs ram:PassRole on the service role: error 922019)."""
    output.emit(commands.call(profile, "create_project", name, description=description), fmt)


@projects_app.command("show")
def projects_show(
    name: ProjectName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Show one project."""
    output.emit(commands.call(profile, "get_project", name), fmt)


@projects_app.command("update")
def projects_update(
    name: ProjectName,
    description: Annotated[str, typer.Option(help="The new description.")],
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Change a project's description."""
    output.emit(commands.call(profile, "update_project", name, description=description), fmt)


@projects_app.command("delete")
def projects_delete(
    name: ProjectName,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete a project."""
    if not yes:
        typer.confirm(f"Delete project {name}?", abort=True)
    commands.call(profile, "delete_project", name)
    output.emit({"deleted": name}, fmt)
