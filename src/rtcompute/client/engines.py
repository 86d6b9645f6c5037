"""Client calls for engine versions: the catalog, the versions of a cluster and of the shared
pool (install, set current, uninstall) and SQL checks on a project's engine.

A cluster's versions and the pool's versions have the same shapes; every call that takes
`cluster` talks to the pool when it is None, so the CLI's `versions` group serves both.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rtcompute.client import base as client_base
from rtcompute.client import schemas

_seg = client_base.segment


def versions_path(cluster: str | None) -> str:
    """`/clusters/<c>/versions`, or `/pool/versions` for the shared pool."""
    return "/pool/versions" if cluster is None else f"/clusters/{_seg(cluster)}/versions"


class EngineCalls(client_base.Transport):
    # the catalog
    def list_engines(self) -> list[schemas.engines.EngineVersion]:
        """The installable versions, newest first (`retired`: past the end of service)."""
        return self.parsed_list(schemas.engines.EngineVersion, "GET", "/engines")

    def update_engine(
        self,
        version: str,
        *,
        tag: str,
        released_on: date,
        end_of_service: date | None = None,
        notes: str = "",
        listed: bool = True,
    ) -> schemas.engines.EngineVersion:
        """Add a version to the catalog or change it (operator)."""
        body: dict[str, Any] = {
            "tag": tag,
            "released_on": released_on.isoformat(),
            "notes": notes,
            "listed": listed,
        }
        if end_of_service is not None:
            body["end_of_service"] = end_of_service.isoformat()
        return self.parsed(
            schemas.engines.EngineVersion, "PUT", f"/engines/{_seg(version)}", json=body
        )

    # versions of a cluster (or of the shared pool: cluster=None)
    def list_versions(self, cluster: str | None) -> list[schemas.engines.Version]:
        return self.parsed_list(schemas.engines.Version, "GET", versions_path(cluster))

    def get_version(self, cluster: str | None, version: str) -> schemas.engines.Version:
        """One version with its install state, phase and progress (0-100)."""
        return self.parsed(
            schemas.engines.Version, "GET", f"{versions_path(cluster)}/{_seg(version)}"
        )

    def install_version(
        self, cluster: str | None, version: str, *, confirm_beta: bool = False
    ) -> schemas.engines.Version:
        """Start an install (state `installing`); a beta version needs `confirm_beta`."""
        body = {"version": version, "confirm_beta": confirm_beta}
        return self.parsed(schemas.engines.Version, "POST", versions_path(cluster), json=body)

    def set_current_version(self, cluster: str | None, version: str) -> schemas.engines.Version:
        return self.parsed(
            schemas.engines.Version, "POST", f"{versions_path(cluster)}/{_seg(version)}/current"
        )

    def uninstall_version(self, cluster: str | None, version: str) -> schemas.engines.Version:
        return self.parsed(
            schemas.engines.Version, "DELETE", f"{versions_path(cluster)}/{_seg(version)}"
        )

    # SQL checks on a project's engine (default: its cluster's or the pool's current version)
    def validate_sql(
        self, project: str, sql: str, *, engine_version: str | None = None
    ) -> schemas.engines.SqlCheck:
        """Syntax-check `sql`: `ok`, and `problems` with their line, column and message."""
        return self.parsed(
            schemas.engines.SqlCheck,
            "POST",
            f"/projects/{_seg(project)}/sql:validate",
            json=_sql_body(sql, engine_version),
        )

    def explain_sql(
        self, project: str, sql: str, *, engine_version: str | None = None
    ) -> schemas.engines.SqlExplain:
        """Like `validate_sql`, with the `plan` Flink makes of the script."""
        return self.parsed(
            schemas.engines.SqlExplain,
            "POST",
            f"/projects/{_seg(project)}/sql:explain",
            json=_sql_body(sql, engine_version),
        )


def _sql_body(sql: str, engine_version: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"sql": sql}
    if engine_version is not None:
        body["engine_version"] = engine_version
    return body
