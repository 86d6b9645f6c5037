"""`rtc pool`: the shared pool that runs every shared project. Its engine versions are
managed like a cluster's (the same `versions` commands), by the operator; shared projects
use its current version."""

from __future__ import annotations

import typer

from rtcompute.cli import engine_versions

pool_app = typer.Typer(
    help="The shared pool of shared projects: its engine versions (operator writes).",
    no_args_is_help=True,
)
pool_app.add_typer(engine_versions.pool_versions_app, name="versions")
