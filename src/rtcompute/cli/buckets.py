"""`rtc buckets`: buckets and their objects (the guide's OSS), e.g. a cluster's checkpoints.

A cluster needs a standard-class bucket that is not public-read. A RAM user writing to
storage (bucket create / delete, object put / rm) also needs `ram:PassRole` on the service
role, else error 922019. `get` writes the object's bytes: to stdout, or to `--output FILE`
(so it has no `--output json`; `ls` and `show` describe objects and buckets).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rtcompute import client
from rtcompute.cli import commands, output

ProfileOption = commands.ProfileOption
BucketName = Annotated[str, typer.Argument(help="The bucket's name.")]
Key = Annotated[str, typer.Argument(help="The object's key, e.g. checkpoints/1.bin.")]
BUCKET_COLUMNS = ("name", "region", "storage_class", "acl", "created_by", "created_at")
OBJECT_COLUMNS = ("key", "size", "modified")

buckets_app = typer.Typer(
    help="Buckets (standard, infrequent, archive; private or public-read) and their objects.",
    no_args_is_help=True,
)


@buckets_app.command("list")
def buckets_list(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """List your buckets."""
    output.emit(commands.call(profile, lambda api: api.list_buckets()), fmt, BUCKET_COLUMNS)


@buckets_app.command("show")
def buckets_show(
    name: BucketName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Show one bucket."""
    output.emit(commands.call(profile, lambda api: api.get_bucket(name)), fmt)


@buckets_app.command("create")
def buckets_create(
    name: Annotated[
        str,
        typer.Argument(help="3-63 lowercase letters, digits, hyphens; unique on the platform."),
    ],
    storage_class: Annotated[
        str, typer.Option(help="standard, infrequent or archive (a cluster needs standard).")
    ] = "standard",
    acl: Annotated[str, typer.Option(help="private or public-read.")] = "private",
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create a bucket."""
    output.emit(
        commands.call(
            profile, lambda api: api.create_bucket(name, storage_class=storage_class, acl=acl)
        ),
        fmt,
    )


@buckets_app.command("update")
def buckets_update(
    name: BucketName,
    acl: Annotated[str | None, typer.Option(help="private or public-read.")] = None,
    storage_class: Annotated[
        str | None, typer.Option(help="standard, infrequent or archive.")
    ] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Change a bucket's ACL or storage class."""
    if acl is None and storage_class is None:
        raise commands.usage("give --acl or --storage-class (or both)", "--acl")
    output.emit(
        commands.call(
            profile, lambda api: api.update_bucket(name, acl=acl, storage_class=storage_class)
        ),
        fmt,
    )


@buckets_app.command("delete")
def buckets_delete(
    name: BucketName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete an empty bucket that no cluster uses."""
    commands.call(profile, lambda api: api.delete_bucket(name))
    output.emit({"deleted": name}, fmt)


@buckets_app.command("ls")
def buckets_ls(
    bucket: BucketName,
    prefix: Annotated[str, typer.Option(help="Only keys that start with this.")] = "",
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List a bucket's objects: key, size, modified."""
    output.emit(
        commands.call(profile, lambda api: api.list_objects(bucket, prefix=prefix)),
        fmt,
        OBJECT_COLUMNS,
    )


@buckets_app.command("put")
def buckets_put(
    bucket: BucketName,
    key: Key,
    file: Annotated[str, typer.Argument(help="The file to upload; - reads standard input.")],
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Upload a file as an object (an existing key is replaced)."""
    if file == "-":
        content = sys.stdin.buffer.read()
    else:
        try:
            content = Path(file).read_bytes()
        except OSError as exc:
            raise commands.usage(f"cannot read {file}: {exc.strerror}", "FILE") from None
    output.emit(commands.call(profile, lambda api: api.put_object(bucket, key, content)), fmt)


@buckets_app.command("get")
def buckets_get(
    bucket: BucketName,
    key: Key,
    output_file: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of standard output."),
    ] = None,
    profile: ProfileOption = "default",
) -> None:
    """Download an object's content."""
    with commands.connect(profile) as api:
        try:
            if output_file is None:
                api.download_object(bucket, key, sys.stdout.buffer)
                sys.stdout.buffer.flush()
                return
            partial = output_file.with_name(output_file.name + ".part")
            try:
                with partial.open("wb") as sink:
                    size = api.download_object(bucket, key, sink)
                partial.replace(output_file)
            except client.ApiError:
                partial.unlink(missing_ok=True)
                raise
            except OSError as exc:
                partial.unlink(missing_ok=True)
                raise commands.usage(
                    f"cannot write {output_file}: {exc.strerror}", "--output"
                ) from None
        except client.ApiError as exc:
            raise output.fail(exc) from None
    output.err_console.print(f"{size} bytes written to {output_file}", markup=False)


@buckets_app.command("rm")
def buckets_rm(
    bucket: BucketName,
    key: Key,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete an object."""
    commands.call(profile, lambda api: api.delete_object(bucket, key))
    output.emit({"deleted": f"{bucket}/{key}"}, fmt)
