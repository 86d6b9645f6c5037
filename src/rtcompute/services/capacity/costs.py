"""What orders and clusters cost over time, in the installation's currency.

A pay-as-you-go order's amount is 0 (nothing is due when it is placed); what it costs is its
hourly rate, the one the billing loop meters (`domain.orders.cluster_hour_cents`: the machine
types' own hourly prices, not a month's price divided), so the rate a page shows is the rate
that is recorded. A subscription costs its month price until it expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rtcompute.domain import catalog as catalog_domain
from rtcompute.domain import orders as order_rules
from rtcompute.services.capacity import machine_types
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import usage as usage_store
from rtcompute.store.tables import capacity as capacity_tables


@dataclass(frozen=True)
class Currency:
    code: str
    symbol: str

    def amount(self, cents: int) -> str:
        """`¥150.00`."""
        return catalog_domain.priced(cents, self.symbol)


@dataclass(frozen=True)
class ClusterCost:
    """A cluster's price: month (subscription) or hour (pay-as-you-go), and what was metered."""

    billing: str
    month_cents: int | None
    hour_cents: int | None
    expires_at: datetime | None
    metered_hours: int
    metered_cents: int


def currency(platform: platform_module.Platform) -> Currency:
    billing = platform.settings.billing
    return Currency(billing.currency, billing.currency_symbol)


def hour_rates(
    platform: platform_module.Platform, found: list[capacity_tables.Order]
) -> dict[str, int]:
    """The hourly rate of each pay-as-you-go order of `found`, by order id (one catalog read
    per region)."""
    payg = [o for o in found if o.billing == order_rules.PAYG and o.master_type]
    if not payg:
        return {}
    rates: dict[str, int] = {}
    with db.transaction(platform.sessions) as session:
        catalogs: dict[str, catalog_domain.Catalog] = {}
        for order in payg:
            if order.region not in catalogs:
                catalogs[order.region] = machine_types.load(session, platform, order.region)
            rate = order_rules.cluster_hour_cents(
                catalogs[order.region],
                order.master_type,
                order.master_count,
                order.slave_type,
                order.slave_count,
            )
            if rate is not None:
                rates[order.id] = rate
    return rates


def cluster_cost(
    platform: platform_module.Platform, cluster: capacity_tables.Cluster
) -> ClusterCost:
    with db.transaction(platform.sessions) as session:
        catalog_ = machine_types.load(session, platform, cluster.region)
        hours, cents = usage_store.totals(session=session, cluster_id=cluster.id)
    shape = (
        catalog_,
        cluster.master_type,
        cluster.master_count,
        cluster.slave_type,
        cluster.slave_count,
    )
    if cluster.billing == order_rules.PAYG:
        return ClusterCost(
            cluster.billing, None, order_rules.cluster_hour_cents(*shape), None, hours, cents
        )
    master = catalog_.find(catalog_domain.MASTER, cluster.master_type)
    slave = catalog_.find(catalog_domain.SLAVE, cluster.slave_type)
    month = (
        order_rules.exclusive_month_cents(master, cluster.master_count, slave, cluster.slave_count)
        if master is not None and slave is not None
        else None
    )
    return ClusterCost(cluster.billing, month, None, cluster.expires_at, hours, cents)
