"""The root of `rtc`: options given before the command, and help off a terminal.

`rtc -p work jobs list` means `rtc jobs list -p work`: the root declares the options every
client command has (`--profile`, `--output`) and each command's own option reads the root's
value unless it was given after the command itself (the command's wins), which comes before
the environment (`RTC_PROFILE`) and the default. Click resolves the root's options before it
parses the command's, so a command's option callback can read them.

Help (Typer draws it with Rich) is as wide as the terminal; off a terminal (a pipe, a file)
it is `HELP_WIDTH` wide instead of Rich's 80 columns, which cut long option names and broke
choices such as `<stateless|latest-checkpoint|...>` mid-word. `TERMINAL_WIDTH` (Typer's own
setting) or `COLUMNS` still choose the width when given. `rtc up` and `rtc db` (the
server's) keep Typer's plain group: the width needs Rich loaded before every command, and the
server's start-up time counts.
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
from collections.abc import Iterator
from typing import Any, TypeVar

import typer
import typer.core

HELP_WIDTH = 160  # off a terminal: every option name and choice list of `rtc` fits unbroken
COMMAND_LINE = "COMMANDLINE"  # click's ParameterSource.COMMANDLINE, by name
Value = TypeVar("Value")


def given_before(ctx: typer.Context, param: typer.CallbackParam, value: Value) -> Value:
    """The command's own value if given after the command, else the root's if given before
    it (`rtc -p work jobs list`), else the environment's or the default."""
    name = param.name
    if name is None or _typed(ctx.get_parameter_source(name)):
        return value
    root = ctx.find_root()
    if root is ctx or not _typed(root.get_parameter_source(name)):
        return value
    given: Value = root.params.get(name, value)
    return given


def _typed(source: enum.Enum | None) -> bool:
    """Whether a value was typed on the command line (not the environment's or a default)."""
    return source is not None and source.name == COMMAND_LINE


@contextlib.contextmanager
def help_width() -> Iterator[None]:
    """Typer's help `HELP_WIDTH` wide while standard output is not a terminal."""
    from typer import rich_utils  # Rich's tables: only when a command runs, as Typer does

    chosen = rich_utils.MAX_WIDTH is not None or os.environ.get("COLUMNS", "").isdigit()
    if chosen or sys.stdout.isatty():
        yield
        return
    rich_utils.MAX_WIDTH = HELP_WIDTH
    try:
        yield
    finally:
        rich_utils.MAX_WIDTH = None


class RootGroup(typer.core.TyperGroup):
    """The `rtc` group: runs every command with `help_width`."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with help_width():
            return super().main(*args, **kwargs)
