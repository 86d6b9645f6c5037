"""`rtc jobs resources NAME [--attach bucket/key ...] [--detach bucket/key ...]`: the JARs and
files of the account's buckets attached to a job (upload them first: `rtc buckets put`).
Merged into `rtc jobs` (cli/jobs.py).

The API replaces the whole list (PUT), so the command reads the list, applies the
attachments and detachments, and writes it back in one request; a change is a new revision
of the job, which goes online with the next `rtc jobs publish`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rtcompute import client
from rtcompute.cli import commands, folders, job_runs, output
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption
ProjectOption = folders.ProjectOption
JobName = job_runs.JobName
RESOURCE_COLUMNS = ("bucket", "key", "kind", "created_at")
AttachOption = Annotated[
    list[str] | None,
    typer.Option(metavar="BUCKET/KEY", help="an object to attach (repeat for more)"),
]
DetachOption = Annotated[
    list[str] | None,
    typer.Option(metavar="BUCKET/KEY", help="an attached object to detach (repeat for more)"),
]

resources_app = typer.Typer()


def ref_of(value: str, option: str) -> dict[str, str]:
    """`bucket/key/with/slashes` (or oss://bucket/key) as {bucket, key}."""
    bucket, sep, key = value.removeprefix("oss://").partition("/")
    if not sep or not bucket or not key:
        raise commands.usage(f"{value!r}: expected BUCKET/KEY, e.g. udfs/lib/twice.jar", option)
    return {"bucket": bucket, "key": key}


def refs(resources: list[schemas.jobs.JobResource]) -> list[dict[str, str]]:
    """The resources as {bucket, key}, as the API takes them back."""
    return [{"bucket": r.bucket, "key": r.key} for r in resources]


def changed(
    current: list[schemas.jobs.JobResource],
    attach: list[dict[str, str]],
    detach: list[dict[str, str]],
) -> list[dict[str, str]]:
    """The new list: the current one without `detach`, with `attach` added at the end."""
    wanted = refs(current)
    wanted = [r for r in wanted if r not in detach]
    return wanted + [r for r in attach if r not in wanted]


@resources_app.command("resources")
def jobs_resources(
    name: JobName,
    project: ProjectOption,
    attach: AttachOption = None,
    detach: DetachOption = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the job's resources, or attach (--attach) and detach (--detach) some (repeat);
    `.jar` objects go on the job's classpath."""
    added = [ref_of(v, "--attach") for v in attach or []]
    removed = [ref_of(v, "--detach") for v in detach or []]
    with commands.connect(profile) as api:
        try:
            found = api.get_job_resources(project, name)
            if added or removed:
                missing = [r for r in removed if r not in refs(found)]
                if missing:
                    first = missing[0]
                    raise commands.usage(
                        f"{first['bucket']}/{first['key']} is not attached to {name}", "--detach"
                    )
                found = api.set_job_resources(project, name, changed(found, added, removed))
        except client.ApiError as exc:
            raise output.fail(exc) from None
    output.emit(found, fmt, RESOURCE_COLUMNS)
