"""`rtc orders`: buy shared CU or an exclusive cluster, pay, cancel; the operator approves.

Only the account itself buys (the guide: main account only; a RAM user gets 403
Forbidden.MainAccountOnly). A paid order waits, unconsumed, until `rtc projects create
--order` or `rtc clusters create --order` turns it into something: `rtc orders counts` is the
console's red number on "New project" / "New cluster".
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rtcompute import client
from rtcompute.cli import commands, output
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption
OrderId = Annotated[str, typer.Argument(help="The order's id, from `rtc orders list`.")]
Region = Annotated[str | None, typer.Option(help="Region to buy in (default: the server's).")]
Agree = Annotated[
    bool,
    typer.Option(
        "--agree",
        help="Accept the service agreement (read it with `rtc orders agreement`); required.",
    ),
]
ORDER_COLUMNS = (
    "id",
    "mode",
    "billing",
    "purpose",
    "target",
    "size",
    "months",
    "amount",
    "state",
    "consumed_by",
    "created_at",
)

orders_app = typer.Typer(
    help="Orders: buy shared CU or an exclusive cluster, pay them, see what waits to be used.",
    no_args_is_help=True,
)
buy_app = typer.Typer(
    help="Place an order (pending payment; pay it with `rtc orders pay ID`).",
    no_args_is_help=True,
)
orders_app.add_typer(buy_app, name="buy")


def size(order: schemas.orders.Order) -> str:
    """What an order buys, in one cell: `4 CU` or `4c16g x 1 + 8c32g x 2`."""
    if order.mode == "shared":
        return f"{order.cu} CU"
    if order.purpose == "renew":
        return ""
    masters = f"{order.master_type} x {order.master_count}" if order.master_count else ""
    slaves = f"{order.slave_type} x {order.slave_count}"
    return f"{masters} + {slaves}" if masters else slaves


def amount(order: schemas.orders.Order) -> str:
    """What an order costs, with its currency: `300.00 CNY`, or pay-as-you-go `1.80 CNY/hour`."""
    if order.hour is not None:
        return f"{order.hour} {order.currency}/hour"
    return f"{order.amount} {order.currency}"


def table_rows(orders: list[schemas.orders.Order]) -> list[dict[str, Any]]:
    return [
        output.fields(o) | {"size": size(o), "months": o.months or "", "amount": amount(o)}
        for o in orders
    ]


def require_agreement(agree: bool) -> None:
    """Buying accepts the service agreement (guide: 勾选服务协议): say what to add."""
    if not agree:
        raise commands.usage(
            "placing an order accepts the service agreement: read it with "
            "`rtc orders agreement`, then add --agree",
            "--agree",
        )


def show_placed(
    order: schemas.orders.Order, fmt: output.Format, *, pay: bool, profile: str
) -> None:
    """Print a new order; with `pay`, pay it at once and print the paid one instead. A payment
    that fails (e.g. PaymentNeedsApproval) still prints the order, so its id is not lost."""
    refused: client.ApiError | None = None
    if pay:
        with commands.connect(profile) as api:
            try:
                order = api.pay_order(order.id)
            except client.ApiError as exc:
                refused = exc
    output.emit(order, fmt)
    if refused is not None:
        raise output.fail(refused)
    if fmt is output.Format.table and order.state == "pending_payment":
        output.err_console.print(
            f"pay it to go on: rtc orders pay {order.id}", highlight=False, markup=False
        )


@orders_app.command("list")
def orders_list(
    unconsumed: Annotated[
        bool, typer.Option(help="Only paid orders not yet made into a project or cluster.")
    ] = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the account's orders, newest first."""
    found = commands.call(profile, lambda api: api.list_orders(unconsumed=unconsumed))
    output.emit(found if fmt is output.Format.json else table_rows(found), fmt, ORDER_COLUMNS)


@orders_app.command("show")
def orders_show(
    order_id: OrderId,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Show one order."""
    output.emit(commands.call(profile, lambda api: api.get_order(order_id)), fmt)


@buy_app.command("shared")
def buy_shared(
    cu: Annotated[int, typer.Option("--cu", help="CU for the project (1 CU = 1 core + 4 GB).")],
    months: Annotated[int, typer.Option(help="Subscription length in months.")],
    region: Region = None,
    pay: Annotated[bool, typer.Option("--pay", help="Pay the order at once.")] = False,
    agree: Agree = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Buy shared-mode CU for a project (then `rtc projects create NAME --order ID`)."""
    require_agreement(agree)
    order = commands.call(
        profile,
        lambda api: api.create_order(
            "shared", agree_to_terms=True, cu=cu, months=months, region=region
        ),
    )
    show_placed(order, fmt, pay=pay, profile=profile)


@buy_app.command("exclusive")
def buy_exclusive(
    master_type: Annotated[str, typer.Option(help="Master machine type, e.g. 4c16g.")],
    masters: Annotated[int, typer.Option(help="1, or 3 for high availability.")],
    slave_type: Annotated[str, typer.Option(help="Slave machine type, e.g. 8c32g.")],
    slaves: Annotated[int, typer.Option(help="Number of slaves (at least 2).")],
    months: Annotated[
        int | None, typer.Option(help="Subscription length in months (or --payg).")
    ] = None,
    payg: Annotated[
        bool, typer.Option("--payg", help="Pay-as-you-go: metered hourly, no months.")
    ] = False,
    region: Region = None,
    pay: Annotated[bool, typer.Option("--pay", help="Pay the order at once.")] = False,
    agree: Agree = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Buy an exclusive cluster (then `rtc clusters create NAME --order ID ...`)."""
    if (months is None) == (not payg):
        raise commands.usage("give exactly one of --months or --payg", "--months")
    require_agreement(agree)
    order = commands.call(
        profile,
        lambda api: api.create_order(
            "exclusive",
            agree_to_terms=True,
            billing="payg" if payg else "subscription",
            months=months,
            master_type=master_type,
            master_count=masters,
            slave_type=slave_type,
            slave_count=slaves,
            region=region,
        ),
    )
    show_placed(order, fmt, pay=pay, profile=profile)


@orders_app.command("agreement")
def orders_agreement(profile: ProfileOption = "default") -> None:
    """Print the service agreement that `--agree` accepts."""
    found = commands.call(profile, lambda api: api.agreement())
    output.console.print(found.text, highlight=False, markup=False)


@orders_app.command("pay")
def orders_pay(
    order_id: OrderId,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Pay an order (a renewal or scale takes effect at once)."""
    output.emit(commands.call(profile, lambda api: api.pay_order(order_id)), fmt)


@orders_app.command("cancel")
def orders_cancel(
    order_id: OrderId,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Cancel an order that is not paid yet."""
    output.emit(commands.call(profile, lambda api: api.cancel_order(order_id)), fmt)


@orders_app.command("counts")
def orders_counts(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """Paid orders waiting to become a project (shared) or a cluster (exclusive)."""
    output.emit(commands.call(profile, lambda api: api.order_counts()), fmt)


@orders_app.command("pending")
def orders_pending(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """Every account's orders waiting for payment (operator)."""
    found = commands.call(profile, lambda api: api.pending_orders())
    output.emit(found if fmt is output.Format.json else table_rows(found), fmt, ORDER_COLUMNS)


@orders_app.command("approve")
def orders_approve(
    order_id: OrderId,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Confirm payment of any account's order (operator)."""
    output.emit(commands.call(profile, lambda api: api.approve_order(order_id)), fmt)
