"""The `rtc` command: client commands (API only) plus the server's `up` and `db`.

`rtc up` and `rtc db` skip the client commands' imports (httpx, rich tables): the server's
start-up time counts, the client's does not matter to it.
"""

from __future__ import annotations

import enum
import gc
import json
import sys
from typing import Annotated

import typer

import rtcompute

SERVER_COMMANDS = frozenset({"up", "db", "agent"})
HELP = (
    "rtcompute: managed Apache Flink, self-hosted. Start the platform with `rtc up`, "
    "sign in with `rtc login`."
)


class VersionFormat(enum.StrEnum):
    table = "table"
    json = "json"


def version(
    fmt: Annotated[
        VersionFormat, typer.Option("--output", "-o", help="table for people, json for scripts")
    ] = VersionFormat.table,
) -> None:
    """Print the rtcompute version."""
    if fmt is VersionFormat.json:
        typer.echo(json.dumps({"version": rtcompute.__version__}))
    else:
        typer.echo(f"rtcompute {rtcompute.__version__}")


def build_app(*, client_commands: bool = True) -> typer.Typer:
    from rtcompute.cli import root
    from rtcompute.server import commands as server_commands

    app = typer.Typer(
        name="rtc",
        cls=root.RootGroup if client_commands else None,  # `rtc up` starts without Rich
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.command("up")(server_commands.up)
    app.command("agent")(server_commands.agent)
    app.add_typer(server_commands.db_app, name="db")
    if client_commands:
        from rtcompute.cli import (
            buckets,
            catalog,
            clusters,
            commands,
            engines,
            folders,
            hosts,
            jobs,
            networks,
            orders,
            pool,
            projects,
            ram,
            sizing,
            sql,
            zones,
        )

        app.callback()(commands.root_options)
        app.command("login")(commands.login)
        app.command("logout")(commands.logout)
        app.command("whoami")(commands.whoami)
        app.add_typer(commands.keys_app, name="access-keys")
        app.add_typer(commands.audit_app, name="audit")
        app.add_typer(commands.accounts_app, name="accounts")
        app.add_typer(ram.ram_app, name="ram")
        app.add_typer(projects.projects_app, name="projects")
        app.add_typer(orders.orders_app, name="orders")
        app.add_typer(clusters.clusters_app, name="clusters")
        app.add_typer(networks.networks_app, name="networks")
        app.add_typer(buckets.buckets_app, name="buckets")
        app.add_typer(zones.zones_app, name="zones")
        app.add_typer(hosts.hosts_app, name="hosts")
        app.add_typer(sizing.sizing_app, name="sizing")
        app.add_typer(catalog.catalog_app, name="catalog")
        app.add_typer(engines.engines_app, name="engines")
        app.add_typer(pool.pool_app, name="pool")
        app.add_typer(sql.sql_app, name="sql")
        app.add_typer(folders.folders_app, name="folders")
        app.add_typer(jobs.jobs_app, name="jobs")
    app.command("version")(version)
    return app


def main() -> None:
    server_only = len(sys.argv) > 1 and sys.argv[1] in SERVER_COMMANDS
    if server_only:
        # start-up allocates a lot and frees little; `rtc up` collects once and freezes
        gc.disable()
    build_app(client_commands=not server_only)()


if __name__ == "__main__":
    main()
