"""`rtc sizing`: the guide's rules of thumb, answered by the server so that the CLI, the
console's live calculator and the API agree to the cent."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from rtcompute.cli import commands, output
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption

sizing_app = typer.Typer(
    help="Sizing helpers: records per second to CU, CU to the cheapest cluster.",
    no_args_is_help=True,
)


class Complexity(enum.StrEnum):
    simple = "simple"
    complex = "complex"


def cu_range(estimate: schemas.orders.CuEstimate) -> str:
    low, high = estimate.low, estimate.high
    return f"{low} CU" if low == high else f"{low}-{high} CU"


@sizing_app.command("cu")
def sizing_cu(
    qps: Annotated[int, typer.Option("--qps", help="Records per second the job must process.")],
    complexity: Annotated[
        Complexity,
        typer.Option(
            help="simple (filters, string transforms) or complex (JOIN, WINDOW, GROUP BY)."
        ),
    ] = Complexity.simple,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Estimate the CU a job needs for a rate of records per second, with the reasoning."""
    estimate = commands.call(profile, lambda api: api.size_cu(qps, complexity.value))
    if fmt is output.Format.json:
        output.emit(estimate, fmt)
        return
    output.console.print(f"{estimate.qps:,} records/s, {estimate.complexity}: {cu_range(estimate)}")
    output.console.print(estimate.reasoning)


@sizing_app.command("quote")
def sizing_quote(
    cu: Annotated[int, typer.Option("--cu", help="Usable CU the cluster must give at least.")],
    ha: Annotated[
        bool, typer.Option("--ha", help="3 masters (a standby JobManager) instead of 1.")
    ] = False,
    region: Annotated[
        str | None, typer.Option(help="Price in this region (default: the server's).")
    ] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """The cheapest exclusive-cluster machine mix with at least --cu usable CU, and its price."""
    quote = commands.call(profile, lambda api: api.size_quote(cu, ha=ha, region=region))
    if fmt is output.Format.json:
        output.emit(quote, fmt)
        return
    output.emit(
        {
            "slaves": f"{quote.slave_type} x {quote.slave_count}",
            "masters": f"{quote.master_type} x {quote.master_count}",
            "usable CU": f"{quote.usable_cu} (asked {quote.cu})",
            "price per month": quote.month,
            "price per hour": quote.hour,
        },
        fmt,
    )
    output.console.print(
        f"buy it: rtc orders buy exclusive --agree --master-type {quote.master_type} "
        f"--masters {quote.master_count} --slave-type {quote.slave_type} "
        f"--slaves {quote.slave_count} --months 1"
    )
