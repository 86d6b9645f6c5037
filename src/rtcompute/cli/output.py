"""Tables for people, JSON for scripts (`--output json` on every command).

The client answers with the API's response models; they print as the API sent them (their
JSON form: times as ISO text), so a table cell and a JSON field read the same as the answer.

A terminal gets lines as wide as the terminal; anything else (a pipe, a file, a CI log) gets
whole lines: Rich would otherwise cut tables and wrap words at 80 columns, and a script
reading `rtc ... | grep` would see half a row. `COLUMNS` still sets the width when given.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from typing import Annotated, Any

import pydantic
import pydantic_core
import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.table import Table

from rtcompute import client
from rtcompute.cli import root

UNWRAPPED_WIDTH = 1_000_000  # off a terminal: wider than any row, so nothing is cut


class Output(Console):
    """A console as wide as the terminal, or unwrapped when its stream is not a terminal."""

    @property
    def size(self) -> ConsoleDimensions:
        measured = super().size
        chosen = self._width is not None or self._environ.get("COLUMNS", "").isdigit()
        if self.is_terminal or chosen:
            return measured
        return ConsoleDimensions(UNWRAPPED_WIDTH, measured.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


# markup off: names and messages are data; "[/x]" in a display name must print, not crash
console = Output(emoji=False, highlight=False, markup=False)
err_console = Output(stderr=True, emoji=False)


class Format(enum.StrEnum):
    table = "table"
    json = "json"


OUTPUT_HELP = "table for people, json for scripts"
OutputOption = Annotated[
    Format,
    typer.Option("--output", "-o", help=OUTPUT_HELP, callback=root.given_before),
]


def fields(model: pydantic.BaseModel) -> dict[str, Any]:
    """A response model as the API sent it, for a table row or a JSON document."""
    return model.model_dump(mode="json")


def json_value(value: object) -> Any:
    """A value as the API sent it (a time as ISO text, not Python's `str`); models and lists
    of them become their fields."""
    return pydantic_core.to_jsonable_python(value, fallback=str)


def emit(data: object, fmt: Format, columns: Sequence[str] | None = None, title: str = "") -> None:
    """A model, a list of models, or rows (dicts) the command made: JSON or a table."""
    sent = json_value(data)
    if fmt is Format.json:
        typer.echo(json.dumps(sent, indent=2, ensure_ascii=False, default=str))
        return
    rows = sent if isinstance(sent, list) else [sent]
    if isinstance(sent, dict) and columns is None:
        table = Table(show_header=False, title=title or None)
        for key, value in sent.items():
            table.add_row(str(key), "" if value is None else str(value))
        console.print(table)
        return
    columns = list(columns or (rows[0].keys() if rows else []))
    table = Table(title=title or None)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)


# what to run next for an error the CLI itself can fix (the API's message names no command)
HINTS = {
    "ServiceRoleNotAuthorized": "authorize it with `rtc ram service-role authorize`",
}


def fail(error: client.ApiError) -> typer.Exit:
    """Print an API error the same way everywhere; exit status 1."""
    suffix = f" (request id {error.request_id})" if error.request_id else ""
    err_console.print(
        f"[red]error[/red] {escape(error.code)}: {escape(error.message)}{escape(suffix)}",
        highlight=False,
        soft_wrap=True,
    )
    hint = HINTS.get(error.code)
    if hint:
        err_console.print(f"hint: {escape(hint)}", highlight=False, soft_wrap=True)
    return typer.Exit(1)
