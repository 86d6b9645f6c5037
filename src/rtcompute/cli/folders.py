"""`rtc folders`: the folders a project's jobs are filed in (`/`, `/etl`, `/etl/daily`).

The project option lives here because every folder and job command takes it: `--project`
(`-P`, or `RTC_PROJECT` for a shell that works in one project); `-p` is `--profile`
everywhere in `rtc`, so the project cannot have it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rtcompute.cli import commands, output

ProfileOption = commands.ProfileOption
ProjectOption = Annotated[
    str,
    typer.Option("--project", "-P", envvar="RTC_PROJECT", help="The project (or set RTC_PROJECT)."),
]
FolderPath = Annotated[str, typer.Argument(help="A folder's path, e.g. /etl/daily.")]

folders_app = typer.Typer(
    help="Folders of a project's jobs: list, create, move (rename), delete.",
    no_args_is_help=True,
)


def emit_paths(paths: list[str], fmt: output.Format) -> None:
    """JSON: {"folders": [...]} as the API answers; a table: one path a row."""
    if fmt is output.Format.json:
        output.emit({"folders": paths}, fmt)
        return
    output.emit([{"folder": p} for p in paths], fmt, ("folder",))


@folders_app.command("list")
def folders_list(
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the project's folders by path (`/` always exists)."""
    emit_paths(commands.call(profile, lambda api: api.list_folders(project)), fmt)


@folders_app.command("create")
def folders_create(
    path: FolderPath,
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create a folder; its parent must exist."""
    emit_paths([commands.call(profile, lambda api: api.create_folder(project, path))], fmt)


@folders_app.command("move")
def folders_move(
    path: FolderPath,
    to: Annotated[str, typer.Argument(help="The new path (a rename or a move).")],
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Rename or move a folder with its jobs and folders."""
    emit_paths([commands.call(profile, lambda api: api.move_folder(project, path, to))], fmt)


@folders_app.command("delete")
def folders_delete(
    path: FolderPath,
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete an empty folder."""
    commands.call(profile, lambda api: api.delete_folder(project, path))
    output.emit({"deleted": path}, fmt)
