"""The API's response models, as the client hands them out.

Every call returns what its route declares (`response_model=` in api/routes), parsed, so the
CLI, SDK users and tests read attributes and a schema has one definition for both sides. The
CLI may not import `rtcompute.api` (.importlinter): it names these models through this module,
the client's one way into the API. api/schemas imports pydantic and the pure `domain.text`
only, never the routes, the app, services or the store.
"""

from __future__ import annotations

from rtcompute.api.schemas import (
    access_keys,
    accounts,
    audit_events,
    auth,
    buckets,
    clusters,
    engines,
    hosts,
    jobs,
    networks,
    orders,
    projects,
    ram,
    zones,
)

__all__ = [
    "access_keys",
    "accounts",
    "audit_events",
    "auth",
    "buckets",
    "clusters",
    "engines",
    "hosts",
    "jobs",
    "networks",
    "orders",
    "projects",
    "ram",
    "zones",
]
