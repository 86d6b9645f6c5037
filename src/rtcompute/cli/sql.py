"""`rtc sql`: the syntax check (语法检查) and the plan of a Flink SQL script, on the engine of
a project (its cluster's current version, or the shared pool's; `--engine` picks another
installed one). Nothing runs.

Problems print like a compiler's, `FILE:LINE:COLUMN: message`, so editors and CI logs link to
them. Exit status: 0 valid, 4 the SQL has errors, 1 the API refused (e.g. 30006: the version
is not installed where the project runs), 2 a usage mistake.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from rtcompute import client
from rtcompute.cli import commands, output
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption
FileArgument = Annotated[str, typer.Argument(help="The SQL script, or - for standard input.")]
ProjectOption = Annotated[str, typer.Option("--project", help="The project whose engine checks.")]
EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine", help="An installed version, e.g. flink-1.20.5 (default: the current one)."
    ),
]
Checked = TypeVar("Checked", bound=schemas.engines.SqlCheck)
SQL_ERRORS = 4
# the first check of a version starts its engine process (an interpreter and a JVM): the
# server allows 120 s for that and 60 s for the answer, so the CLI waits longer than both
SQL_TIMEOUT_SECONDS = 200.0
STDIN_LABEL = "<stdin>"

sql_app = typer.Typer(
    help="Check Flink SQL on a project's engine: syntax check and plan.",
    no_args_is_help=True,
)


def read_script(file: str) -> tuple[str, str]:
    """(label for messages, text); `-` is standard input. A missing file is a usage mistake."""
    if file == "-":
        return STDIN_LABEL, sys.stdin.read()
    path = Path(file)
    try:
        return file, path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise commands.usage(f"cannot read {file}: {exc}", "FILE") from None


def problem_lines(label: str, result: schemas.engines.SqlCheck) -> list[str]:
    """`FILE:LINE:COLUMN: message`, one per problem, in the script's order."""
    return [f"{label}:{p.line}:{p.column}: {p.message}" for p in result.problems]


def summary(result: schemas.engines.SqlCheck) -> str:
    """`OK (flink-2.2.1, 123 ms)`."""
    return f"OK ({result.engine_version}, {result.elapsed_ms:.0f} ms)"


def check(
    file: str, profile: str, send: Callable[[client.Client, str], Checked]
) -> tuple[str, Checked]:
    """Read the script and send it; an API error exits 1 with its code (e.g. 30006)."""
    label, text = read_script(file)
    if not text.strip():
        raise commands.usage(f"{label} is empty", "FILE")
    with commands.connect(profile, timeout=SQL_TIMEOUT_SECONDS) as api:
        try:
            result = send(api, text)
        except client.ApiError as exc:
            raise output.fail(exc) from None
    return label, result


def report_problems(label: str, result: schemas.engines.SqlCheck) -> None:
    """Print the problems and exit 4 when there are any."""
    if result.ok and not result.problems:
        return
    for line in problem_lines(label, result):
        typer.echo(line)
    count = len(result.problems)
    output.err_console.print(
        f"{count} problem{'s' if count != 1 else ''} ({result.engine_version})",
        markup=False,
        highlight=False,
    )
    raise typer.Exit(SQL_ERRORS)


@sql_app.command("validate")
def sql_validate(
    file: FileArgument,
    project: ProjectOption,
    engine: EngineOption = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Syntax-check a script: `FILE:LINE:COLUMN: message` per problem (exit 4), or OK."""
    label, result = check(
        file, profile, lambda api, text: api.validate_sql(project, text, engine_version=engine)
    )
    if fmt is output.Format.json:
        output.emit(result, fmt)
        if not result.ok:
            raise typer.Exit(SQL_ERRORS)
        return
    report_problems(label, result)
    typer.echo(summary(result))


@sql_app.command("explain")
def sql_explain(
    file: FileArgument,
    project: ProjectOption,
    engine: EngineOption = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Print the plan Flink makes of a script (problems as in validate, exit 4)."""
    label, explained = check(
        file, profile, lambda api, text: api.explain_sql(project, text, engine_version=engine)
    )
    if fmt is output.Format.json:
        output.emit(explained, fmt)
        if not explained.ok:
            raise typer.Exit(SQL_ERRORS)
        return
    report_problems(label, explained)
    typer.echo(explained.plan.rstrip("\n"))
    output.err_console.print(summary(explained), markup=False, highlight=False)
