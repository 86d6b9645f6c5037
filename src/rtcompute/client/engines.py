"""Client calls for engine versions: the catalog, the versions of a cluster and of the shared
pool (install, set current, uninstall) and SQL checks on a project's engine.

A cluster's versions and the pool's versions have the same shapes; every call that takes
`cluster` talks to the pool when it is None, so the CLI's `versions` group serves both.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rtcompute.client import base as client_base

_seg = client_base.segment


def versions_path(cluster: str | None) -> str:
    """`/clusters/<c>/versions`, or `/pool/versions` for the shared pool."""
    return "/pool/versions" if cluster is None else f"/clusters/{_seg(cluster)}/versions"


class EngineCalls(client_base.Transport):
    # the catalog
    def list_engines(self) -> list[dict[str, Any]]:
        """The installable versions, newest first (`retired`: past the end of service)."""
        result: list[dict[str, Any]] = self.request("GET", "/engines")
        return result

    def update_engine(
        self,
        version: str,
        *,
        tag: str,
        released_on: date,
        end_of_service: date | None = None,
        notes: str = "",
        listed: bool = True,
    ) -> dict[str, Any]:
        """Add a version to the catalog or change it (operator)."""
        body: dict[str, Any] = {
            "tag": tag,
            "released_on": released_on.isoformat(),
            "notes": notes,
            "listed": listed,
        }
        if end_of_service is not None:
            body["end_of_service"] = end_of_service.isoformat()
        result: dict[str, Any] = self.request("PUT", f"/engines/{_seg(version)}", json=body)
        return result

    # versions of a cluster (or of the shared pool: cluster=None)
    def list_versions(self, cluster: str | None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", versions_path(cluster))
        return result

    def get_version(self, cluster: str | None, version: str) -> dict[str, Any]:
        """One version with its install state, phase and progress (0-100)."""
        result: dict[str, Any] = self.request("GET", f"{versions_path(cluster)}/{_seg(version)}")
        return result

    def install_version(
        self, cluster: str | None, version: str, *, confirm_beta: bool = False
    ) -> dict[str, Any]:
        """Start an install (state `installing`); a beta version needs `confirm_beta`."""
        body = {"version": version, "confirm_beta": confirm_beta}
        result: dict[str, Any] = self.request("POST", versions_path(cluster), json=body)
        return result

    def set_current_version(self, cluster: str | None, version: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "POST", f"{versions_path(cluster)}/{_seg(version)}/current"
        )
        return result

    def uninstall_version(self, cluster: str | None, version: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("DELETE", f"{versions_path(cluster)}/{_seg(version)}")
        return result

    # SQL checks on a project's engine (default: its cluster's or the pool's current version)
    def validate_sql(
        self, project: str, sql: str, *, engine_version: str | None = None
    ) -> dict[str, Any]:
        """{ok, engine_version, flink_version, problems: [{line, column, message}], elapsed_ms}"""
        result: dict[str, Any] = self.request(
            "POST",
            f"/projects/{_seg(project)}/sql:validate",
            json=_sql_body(sql, engine_version),
        )
        return result

    def explain_sql(
        self, project: str, sql: str, *, engine_version: str | None = None
    ) -> dict[str, Any]:
        """Like `validate_sql`, with the `plan` Flink makes of the script."""
        result: dict[str, Any] = self.request(
            "POST",
            f"/projects/{_seg(project)}/sql:explain",
            json=_sql_body(sql, engine_version),
        )
        return result


def _sql_body(sql: str, engine_version: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"sql": sql}
    if engine_version is not None:
        body["engine_version"] = engine_version
    return body
