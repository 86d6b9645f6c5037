"""A job's events name its nodes as the user knows them, not by the cluster's internal id."""

from __future__ import annotations

from rtcompute.services.jobs import runs as job_runs


def test_a_cluster_node_is_shown_without_the_internal_id() -> None:
    key = job_runs.node_key(12, "slave-0")
    assert key == "c12:slave-0"  # unique across accounts, for the slot accounting
    assert job_runs.node_label(key) == "slave-0"
    assert job_runs.node_label(job_runs.POOL_NODE) == job_runs.POOL_NODE
