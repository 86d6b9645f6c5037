"""`rtc engines`: the catalog of engine versions (Flink releases) that clusters and the shared
pool can install, with the guide's tags (stable / beta / none) and end of service.

A version past its end of service stays usable but is no longer maintained: the table flags
it `retired` so nobody picks it by accident. The operator adds and changes versions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from rtcompute.cli import commands, output
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption
COLUMNS = ("name", "release", "tag", "released_on", "end_of_service", "flags", "notes")
DATE_FORMATS = ["%Y-%m-%d"]
RETIRED_NOTE = "retired: past its end of service; still usable, no longer maintained"

engines_app = typer.Typer(
    help="Engine versions (Flink releases): the catalog; the operator edits it.",
    no_args_is_help=True,
)


def flags(entry: schemas.engines.EngineVersion) -> str:
    """`default`, `retired`, `unlisted`, comma-separated (empty for a plain row)."""
    found = [
        name
        for name, on in (
            ("default", entry.default),
            ("RETIRED", entry.retired),
            ("unlisted", not entry.listed),
        )
        if on
    ]
    return ", ".join(found)


@engines_app.command("catalog")
def engines_catalog(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """List the installable versions, newest first: tag, release date, end of service, flags."""
    found = commands.call(profile, lambda api: api.list_engines())
    if fmt is output.Format.json:
        output.emit(found, fmt)
        return
    output.emit([output.fields(e) | {"flags": flags(e)} for e in found], fmt, COLUMNS)
    if any(e.retired for e in found):
        output.console.print(RETIRED_NOTE)


@engines_app.command("set")
def engines_set(
    version: Annotated[str, typer.Argument(help="The version's name, e.g. flink-2.2.1.")],
    tag: Annotated[str, typer.Option(help="stable (recommended), beta or none.")],
    released_on: Annotated[
        datetime, typer.Option(formats=DATE_FORMATS, help="Release date, YYYY-MM-DD.")
    ],
    end_of_service: Annotated[
        datetime | None,
        typer.Option(
            formats=DATE_FORMATS, help="End of service, YYYY-MM-DD (default: a year after release)."
        ),
    ] = None,
    notes: Annotated[str, typer.Option(help="A note shown with the version.")] = "",
    unlisted: Annotated[
        bool, typer.Option("--unlisted", help="Hide it from new installs (installed ones stay).")
    ] = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Add a version to the catalog or change its tag, dates and notes (operator)."""
    entry = commands.call(
        profile,
        lambda api: api.update_engine(
            version,
            tag=tag,
            released_on=released_on.date(),
            end_of_service=end_of_service.date() if end_of_service else None,
            notes=notes,
            listed=not unlisted,
        ),
    )
    row = output.fields(entry) | {"flags": flags(entry)}
    output.emit(entry if fmt is output.Format.json else row, fmt)
