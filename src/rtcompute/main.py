"""The `rtc` command: client commands (API only) plus the server's `up` and `db`."""

from __future__ import annotations

import typer

import rtcompute
from rtcompute.cli import commands
from rtcompute.server import commands as server_commands

app = typer.Typer(
    name="rtc",
    help="rtcompute: managed Apache Flink, self-hosted. Start the platform with `rtc up`, "
    "sign in with `rtc login`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("up")(server_commands.up)
app.add_typer(server_commands.db_app, name="db")
app.command("login")(commands.login)
app.command("logout")(commands.logout)
app.command("whoami")(commands.whoami)
app.add_typer(commands.keys_app, name="access-keys")
app.add_typer(commands.audit_app, name="audit")
app.add_typer(commands.accounts_app, name="accounts")


@app.command("version")
def version() -> None:
    """Print the rtcompute version."""
    typer.echo(f"rtcompute {rtcompute.__version__}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
