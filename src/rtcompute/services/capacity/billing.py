"""Billing over time: subscriptions that end, and pay-as-you-go clusters metered hourly.

The billing loop calls these; both are idempotent (an expired resource is not expired
again; an hour is recorded once, by a unique (cluster, hour) row), so a crash between two
steps is finished by the next pass.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from rtcompute.domain import catalog as catalog_domain
from rtcompute.domain import cluster_events
from rtcompute.domain import clusters as cluster_rules
from rtcompute.domain import orders as order_rules
from rtcompute.services.capacity import machine_types, projects
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import clusters as cluster_store
from rtcompute.store import db, tables
from rtcompute.store import orders as order_store
from rtcompute.store import usage as usage_store
from rtcompute.store.tables import capacity as capacity_tables

HOUR = timedelta(hours=1)
# hours recorded per cluster and pass, so a long outage of the loop catches up in steps
MAX_HOURS_PER_PASS = 24 * 31


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def expire_due(platform: platform_module.Platform) -> int:
    """Move subscriptions past their end to expired; returns how many moved."""
    now = platform.now()
    moved = 0
    with db.transaction(platform.sessions) as session:
        due = session.scalars(
            select(tables.Project).where(
                tables.Project.mode == order_rules.SHARED,
                tables.Project.state == projects.RUNNING,
                tables.Project.expires_at <= now,
            )
        )
        for project in due:
            project.state = projects.EXPIRED
            if project.order_id:
                order_store.move(
                    session=session,
                    order_id=project.order_id,
                    sources=[order_rules.CONSUMED],
                    target=order_rules.EXPIRED,
                )
            moved += 1
        due_clusters = session.scalars(
            select(capacity_tables.Cluster).where(
                capacity_tables.Cluster.billing == order_rules.SUBSCRIPTION,
                capacity_tables.Cluster.expires_at <= now,
            )
        )
        for cluster in due_clusters:
            if not cluster_rules.can_move(cluster.state, cluster_rules.EXPIRED):
                continue
            cluster.state, cluster.state_since = cluster_rules.EXPIRED, now
            ended = cluster_events.subscription_ended(f"{cluster.expires_at:%Y-%m-%d %H:%M}")
            cluster.message, cluster.message_zh = ended.en, ended.zh
            order_store.move(
                session=session,
                order_id=cluster.order_id,
                sources=[order_rules.CONSUMED],
                target=order_rules.EXPIRED,
            )
            moved += 1
    return moved


def meter(platform: platform_module.Platform) -> int:
    """Record every whole hour a pay-as-you-go cluster held its nodes; returns rows added."""
    now = platform.now()
    added = 0
    with db.transaction(platform.sessions) as session:
        clusters = cluster_store.list_clusters(session=session)
        catalogs: dict[str, catalog_domain.Catalog] = {}  # one read per region and pass
        for cluster in clusters:
            if cluster.billing != order_rules.PAYG:
                continue
            end = floor_hour(
                cluster.state_since if cluster.state == cluster_rules.RELEASED else now
            )
            last = usage_store.last_hour(session=session, cluster_id=cluster.id)
            hour = last + HOUR if last is not None else floor_hour(cluster.created_at)
            if cluster.region not in catalogs:
                catalogs[cluster.region] = machine_types.load(session, platform, cluster.region)
            catalog_ = catalogs[cluster.region]
            price = order_rules.cluster_hour_cents(
                catalog_,
                cluster.master_type,
                cluster.master_count,
                cluster.slave_type,
                cluster.slave_count,
            )
            if price is None:
                continue
            for _ in range(MAX_HOURS_PER_PASS):
                if hour + HOUR > end:
                    break
                usage_store.add(
                    session=session,
                    record=capacity_tables.UsageRecord(
                        account_id=cluster.account_id,
                        cluster_id=cluster.id,
                        order_id=cluster.order_id,
                        hour_start=hour,
                        master_type=cluster.master_type,
                        master_count=cluster.master_count,
                        slave_type=cluster.slave_type,
                        slave_count=cluster.slave_count,
                        amount_cents=price,
                    ),
                )
                hour += HOUR
                added += 1
    return added
