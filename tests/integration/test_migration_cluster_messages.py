"""Migration 0013: the messages of clusters, components and engine deployments get a Chinese
text; rows written before keep theirs and read in English in both languages (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from rtcompute.services.capacity import clusters
from rtcompute.store import migrate
from rtcompute.store.tables import capacity as capacity_tables
from rtcompute.store.tables import engines as engine_tables
from tests.conftest import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with fresh_postgres_database("rtc_cluster_messages") as url:
        yield url


AT = "'2026-12-08 00:00:00'"
ROWS = (
    "INSERT INTO accounts (id, alias, display_name, email, is_operator, created_at) "
    f"VALUES ('a1', 'acme', '', '', false, {AT})",
    "INSERT INTO orders (id, account_id, region, billing, purpose, target, master_type, "
    "master_count, slave_type, slave_count, months, base, amount_cents, state, consumed_by, "
    "created_by, created_at) VALUES ('o1', 'a1', 'local', 'subscription', 'new', 'c1', "
    f"'4c16g', 1, '4c16g', 2, 1, 0, 100, 'consumed', 'c1', '', {AT})",
    "INSERT INTO zones (id, region, name, capacity, created_at) "
    f"VALUES (1, 'local', 'zone-a', '{{}}', {AT})",
    "INSERT INTO clusters (id, account_id, region, name, description, order_id, billing, "
    "master_type, master_count, slave_type, slave_count, zone_id, state, message, "
    "created_by, created_at, state_since) VALUES (1, 'a1', 'local', 'c1', '', 'o1', "
    "'subscription', '4c16g', 1, '4c16g', 2, 1, 'starting', "
    f"'1 of 4 components answer; waiting for slave-1 agent (started)', '', {AT}, {AT})",
    "INSERT INTO cluster_nodes (id, cluster_id, name, role, machine_type, zone_id, address, "
    "directory, state, since) VALUES (1, 1, 'slave-1', 'slave', '4c16g', 1, '10.0.0.2', "
    f"'', 'starting', {AT})",
    "INSERT INTO cluster_components (id, node_id, cluster_id, kind, port, state, restarts, "
    f"message, since) VALUES (1, 1, 1, 'agent', 21000, 'starting', 0, 'started', {AT})",
    "INSERT INTO engine_deployments (id, target, cluster_id, version, state, current, phase, "
    "progress, message, requested_by, created_at, state_since) VALUES (1, 'cluster:1', 1, "
    f"'flink-2.2.1', 'failed', false, '', 0, 'flink-2.2.1 could not be installed', '', "
    f"{AT}, {AT})",
)


def test_old_messages_read_in_english_in_both_languages(old_database: str) -> None:
    migrate.upgrade(old_database, "0012")
    engine = create_engine(old_database)
    try:
        with engine.begin() as connection:
            for row in ROWS:
                connection.execute(text(row))
    finally:
        engine.dispose()
    migrate.upgrade(old_database)
    engine = create_engine(old_database)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
        with Session(engine) as session:
            cluster = session.get(capacity_tables.Cluster, 1)
            component = session.get(capacity_tables.ClusterComponent, 1)
            deployment = session.get(engine_tables.EngineDeployment, 1)
            assert cluster is not None and component is not None and deployment is not None
            assert cluster.message_zh == component.message_zh == deployment.message_zh == ""
            assert clusters.message_in(cluster, "zh") == cluster.message
            assert cluster.message.startswith("1 of 4 components answer")
            assert clusters.message_in(component, "zh") == "started"
            # a new row gets its Chinese text from the server default too
            session.execute(
                text(
                    "INSERT INTO cluster_components (id, node_id, cluster_id, kind, port, "
                    "state, restarts, message, since) VALUES (2, 1, 1, 'zookeeper', 21001, "
                    f"'starting', 0, '', {AT})"
                )
            )
            added = session.get(capacity_tables.ClusterComponent, 2)
            assert added is not None and added.message_zh == ""
    finally:
        engine.dispose()
