"""`rtc jobs`: SQL jobs of a project as drafts (create, edit, rename, move, delete), their
revisions (every save is one; diff two, restore one), the syntax check and plan, and going
online (`publish`). Starting and stopping an online job (cli/job_runs.py) and watching it
(cli/job_watch.py) are merged into the same group.

Problems print like a compiler's, `NAME.sql:LINE:COLUMN: message` (the job's SQL has no file of
its own, so it is named after the job). Exit status: 0 success, 1 an API error (its code and
message on stderr), 2 a usage mistake, 4 the SQL has problems (`validate`, `explain`,
`publish`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pydantic
import typer

from rtcompute import client
from rtcompute.cli import commands, folders, job_resources, job_runs, job_watch, output
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption
ProjectOption = folders.ProjectOption
JobName = job_runs.JobName
FolderOption = Annotated[str, typer.Option(help="The folder, e.g. /etl (it must exist).")]
FileOption = Annotated[
    str | None, typer.Option("--file", "-f", help="Read the SQL from this file (- for stdin).")
]
SqlOption = Annotated[str | None, typer.Option("--sql", help="The SQL text itself.")]
EngineOption = Annotated[
    str | None,
    typer.Option("--engine", help="The engine version, e.g. flink-1.20.5 (empty: current)."),
]
ParallelismOption = Annotated[
    int | None, typer.Option(help="Parallelism (1-256) = CU for TaskManagers.")
]
CheckpointOption = Annotated[
    int | None, typer.Option(help="Seconds between checkpoints (checkpoint_interval_seconds).")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="An allow-listed Flink key for flink_config: key=value (repeat)."),
]
SettingsFileOption = Annotated[
    Path | None,
    typer.Option(help="A JSON object of settings (parallelism, restart, state_bucket, ...)."),
]
SQL_ERRORS = 4
CHECK_FAILED = "JobCheckFailed"
# the first check of a version starts its engine process: wait as long as `rtc sql` does
SQL_TIMEOUT_SECONDS = 200.0
JOB_COLUMNS = (
    "name",
    "folder",
    "state",
    "revision",
    "online_revision",
    "engine_version",
    "cu",
    "updated_at",
)
# the problems of a JobCheckFailed answer (in its error body) are those of a check
PROBLEMS = pydantic.TypeAdapter(list[schemas.engines.Problem])
Checked = TypeVar("Checked", bound=schemas.engines.SqlCheck)
REVISION_COLUMNS = ("number", "created_at", "created_by", "engine_version", "message")

jobs_app = typer.Typer(
    help="SQL jobs of a project: drafts and revisions, checks, going online, start and stop, "
    "state, metrics, logs and alerts.",
    no_args_is_help=True,
)
jobs_app.add_typer(job_runs.runs_app)
jobs_app.add_typer(job_watch.watch_app)
jobs_app.add_typer(job_resources.resources_app)


# ---- reading what the command line gives -----------------------------------------------


def read_sql(file: str | None, text: str | None) -> str | None:
    """The SQL from --file (or - for stdin) or --sql; None when neither is given."""
    if file is not None and text is not None:
        raise commands.usage("give --file or --sql, not both", "--sql")
    if text is not None:
        return text
    if file is None:
        return None
    if file == "-":
        return sys.stdin.read()
    try:
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise commands.usage(f"cannot read {file}: {exc}", "--file") from None


def parse_sets(pairs: list[str]) -> dict[str, str]:
    """`key=value` pairs; the value may hold `=`; an empty value is kept (Flink decides)."""
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise commands.usage(f"{pair!r} is not key=value", "--set")
        found[key.strip()] = value
    return found


def load_settings(path: Path | None) -> dict[str, Any]:
    """The JSON object of --settings-file (empty without one)."""
    if path is None:
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise commands.usage(f"cannot read {path}: {exc}", "--settings-file") from None
    except ValueError as exc:
        raise commands.usage(f"{path} is not JSON: {exc}", "--settings-file") from None
    if not isinstance(loaded, dict):
        raise commands.usage(f"{path} must hold a JSON object", "--settings-file")
    return loaded


def settings_change(
    *,
    base: dict[str, Any],
    parallelism: int | None,
    checkpoint_interval: int | None,
    sets: dict[str, str],
    current_config: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    """The settings to send: the file's, then the options over them. `--set` keys join the
    job's current flink_config (the API replaces flink_config as a whole)."""
    change = dict(base)
    if parallelism is not None:
        change["parallelism"] = parallelism
    if checkpoint_interval is not None:
        change["checkpoint_interval_seconds"] = checkpoint_interval
    if sets:
        config = change.get("flink_config", current_config or {})
        if not isinstance(config, dict):
            raise commands.usage("flink_config must be a JSON object", "--settings-file")
        change["flink_config"] = {**config, **sets}
    return change or None


def job_row(job: schemas.jobs.Job | schemas.jobs.Revision) -> dict[str, Any]:
    """The job (or a revision) without its SQL (`show --sql` prints that); a row per setting,
    a nested one (restart, flink_config) as `key=value, ...`."""
    answer = output.fields(job)
    row = {k: v for k, v in answer.items() if k not in ("sql", "settings")}
    row["sql_lines"] = len(job.sql.splitlines())
    for key, value in answer["settings"].items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        row[f"settings.{key}"] = value
    return row


def show_job(job: schemas.jobs.Job | schemas.jobs.Revision, fmt: output.Format) -> None:
    output.emit(job if fmt is output.Format.json else job_row(job), fmt)


def problem_lines(label: str, problems: list[schemas.engines.Problem]) -> list[str]:
    """`LABEL:LINE:COLUMN: message`, one per problem."""
    return [f"{label}:{p.line}:{p.column}: {p.message}" for p in problems]


def report_problems(label: str, problems: list[schemas.engines.Problem], what: str) -> typer.Exit:
    """Print the problems on stdout, a count on stderr; exit status 4."""
    for line in problem_lines(label, problems):
        typer.echo(line)
    count = len(problems)
    output.err_console.print(
        f"{count} problem{'s' if count != 1 else ''} ({what})", markup=False, highlight=False
    )
    return typer.Exit(SQL_ERRORS)


def label_of(name: str) -> str:
    return f"{name}.sql"


# ---- drafts -----------------------------------------------------------------------------


@jobs_app.command("list")
def jobs_list(
    project: ProjectOption,
    folder: Annotated[str | None, typer.Option(help="Only the jobs of this folder.")] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the project's jobs by name: folder, state, revision, engine version, CU."""
    found = commands.call(profile, lambda api: api.list_jobs(project, folder=folder))
    output.emit(found, fmt, JOB_COLUMNS)


@jobs_app.command("create")
def jobs_create(
    name: JobName,
    project: ProjectOption,
    folder: FolderOption = "/",
    file: FileOption = None,
    sql: SqlOption = None,
    engine: EngineOption = None,
    parallelism: ParallelismOption = None,
    checkpoint_interval: CheckpointOption = None,
    set_: SetOption = None,
    settings_file: SettingsFileOption = None,
    description: Annotated[str, typer.Option(help="A note for people.")] = "",
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create a SQL job draft (revision 1); settings from --settings-file and the options."""
    settings = settings_change(
        base=load_settings(settings_file),
        parallelism=parallelism,
        checkpoint_interval=checkpoint_interval,
        sets=parse_sets(set_ or []),
    )
    text = read_sql(file, sql) or ""
    made = commands.call(
        profile,
        lambda api: api.create_job(
            project,
            name,
            folder=folder,
            sql=text,
            settings=settings,
            engine_version=engine or "",
            description=description,
        ),
    )
    show_job(made, fmt)


@jobs_app.command("show")
def jobs_show(
    name: JobName,
    project: ProjectOption,
    revision: Annotated[
        int | None, typer.Option(help="Show this revision instead of the head.")
    ] = None,
    sql_only: Annotated[
        bool, typer.Option("--sql", help="Print only the SQL (e.g. to edit it and save back).")
    ] = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Show a job (or one of its revisions): state, revisions, settings, engine version."""
    found: schemas.jobs.Job | schemas.jobs.Revision
    if revision is None:
        found = commands.call(profile, lambda api: api.get_job(project, name))
    else:
        found = commands.call(profile, lambda api: api.get_revision(project, name, revision))
    if sql_only:
        typer.echo(found.sql, nl=not found.sql.endswith("\n"))
    else:
        show_job(found, fmt)


@jobs_app.command("edit")
def jobs_edit(
    name: JobName,
    project: ProjectOption,
    file: FileOption = None,
    sql: SqlOption = None,
    engine: EngineOption = None,
    parallelism: ParallelismOption = None,
    checkpoint_interval: CheckpointOption = None,
    set_: SetOption = None,
    settings_file: SettingsFileOption = None,
    description: Annotated[str | None, typer.Option(help="A new note for people.")] = None,
    message: Annotated[str, typer.Option("--message", "-m", help="The revision's note.")] = "",
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Save the draft: a change of SQL, settings or engine version is a new revision."""
    text = read_sql(file, sql)
    base = load_settings(settings_file)
    sets = parse_sets(set_ or [])
    nothing = (text, engine, parallelism, checkpoint_interval, settings_file, description)
    if all(v is None for v in nothing) and not sets:
        raise commands.usage("nothing to change: give --file, --sql, --engine or a setting")
    with commands.connect(profile) as api:
        try:
            # the revision read here is the one the save builds on: a save by someone else
            # in between is refused (RevisionConflict) instead of overwritten
            current = api.get_job(project, name)
            settings = settings_change(
                base=base,
                parallelism=parallelism,
                checkpoint_interval=checkpoint_interval,
                sets=sets,
                current_config=dict(current.settings.get("flink_config") or {}),
            )
            saved = api.update_job(
                project,
                name,
                sql=text,
                settings=settings,
                engine_version=engine,
                description=description,
                message=message,
                base_revision=current.revision,
            )
        except client.ApiError as exc:
            raise output.fail(exc) from None
    before, after = current.revision, saved.revision
    note = f"saved as revision {after}" if after != before else f"no change: revision {after}"
    output.err_console.print(note, markup=False, highlight=False)
    show_job(saved, fmt)


@jobs_app.command("rename")
def jobs_rename(
    name: JobName,
    new_name: Annotated[str, typer.Argument(help="The job's new name.")],
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Rename a job (its revisions go with it)."""
    show_job(
        commands.call(profile, lambda api: api.move_job(project, name, new_name=new_name)), fmt
    )


@jobs_app.command("move")
def jobs_move(
    name: JobName,
    folder: Annotated[str, typer.Argument(help="The folder to move it to, e.g. /etl.")],
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Move a job to another folder."""
    show_job(commands.call(profile, lambda api: api.move_job(project, name, folder=folder)), fmt)


@jobs_app.command("delete")
def jobs_delete(
    name: JobName,
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete a draft and its revisions (an online job must go offline first)."""
    commands.call(profile, lambda api: api.delete_job(project, name))
    output.emit({"deleted": name}, fmt)


# ---- revisions --------------------------------------------------------------------------


@jobs_app.command("revisions")
def jobs_revisions(
    name: JobName,
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List every save of a job, newest first (`show --revision N` shows one)."""
    found = commands.call(profile, lambda api: api.list_revisions(project, name))
    if fmt is output.Format.json:
        output.emit(found, fmt)
        return
    output.emit(found, fmt, REVISION_COLUMNS)


@jobs_app.command("diff")
def jobs_diff(
    name: JobName,
    first: Annotated[int, typer.Argument(help="The older revision.")],
    second: Annotated[int, typer.Argument(help="The newer revision.")],
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """A unified diff of two revisions: SQL, engine version and settings."""
    found: str = commands.call(
        profile, lambda api: api.diff_revisions(project, name, first, second)
    )
    if fmt is output.Format.json:
        output.emit({"diff": found}, fmt)
        return
    typer.echo(found, nl=bool(found) and not found.endswith("\n"))


@jobs_app.command("restore")
def jobs_restore(
    name: JobName,
    revision: Annotated[int, typer.Argument(help="The revision whose content comes back.")],
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Save an old revision's content as a new revision."""
    restored = commands.call(profile, lambda api: api.restore_revision(project, name, revision))
    output.err_console.print(
        f"revision {revision} restored as revision {restored.revision}",
        markup=False,
        highlight=False,
    )
    show_job(restored, fmt)


# ---- checks and going online ------------------------------------------------------------


def check(profile: str, send: Callable[[client.Client], Checked]) -> Checked:
    """A check of the job (`send`), given the time an engine's first start takes."""
    with commands.connect(profile, timeout=SQL_TIMEOUT_SECONDS) as api:
        try:
            return send(api)
        except client.ApiError as exc:
            raise output.fail(exc) from None


def checked(name: str, result: schemas.engines.SqlCheck, fmt: output.Format) -> None:
    """JSON as the API answers; problems exit 4 either way."""
    if fmt is output.Format.json:
        output.emit(result, fmt)
        if not result.ok:
            raise typer.Exit(SQL_ERRORS)
        return
    if not result.ok or result.problems:
        raise report_problems(label_of(name), result.problems, result.engine_version)


@jobs_app.command("validate")
def jobs_validate(
    name: JobName,
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Syntax-check the job's SQL and paths: `NAME.sql:LINE:COLUMN: message` (exit 4), or OK."""
    result = check(profile, lambda api: api.validate_job(project, name))
    checked(name, result, fmt)
    if fmt is output.Format.table:
        typer.echo(f"OK ({result.engine_version}, {result.elapsed_ms:.0f} ms)")


@jobs_app.command("explain")
def jobs_explain(
    name: JobName,
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Print the plan Flink makes of the job's SQL (problems as in validate, exit 4)."""
    result = check(profile, lambda api: api.explain_job(project, name))
    checked(name, result, fmt)
    if fmt is output.Format.table:
        typer.echo(result.plan.rstrip("\n"))


@jobs_app.command("publish")
def jobs_publish(
    name: JobName,
    project: ProjectOption,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Go online (上线): check the head revision and freeze it; problems exit 4."""
    with commands.connect(profile, timeout=SQL_TIMEOUT_SECONDS) as api:
        try:
            found = api.publish_job(project, name)
        except client.ApiError as exc:
            problems = exc.body.get("problems") if isinstance(exc.body, dict) else None
            if exc.code != CHECK_FAILED or not problems:
                raise output.fail(exc) from None
            output.err_console.print(
                f"{exc.code}: job {name} does not pass its check", markup=False, highlight=False
            )
            found_problems = PROBLEMS.validate_python(problems)
            raise report_problems(label_of(name), found_problems, "not online") from None
    job_runs.show_deployment(found, fmt)
