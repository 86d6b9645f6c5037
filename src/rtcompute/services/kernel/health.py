"""Readiness: the database answers and its schema is at the newest migration."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import migrate


def readiness(platform: platform_module.Platform) -> dict[str, str]:
    """Each check's state: "ok" or what is wrong."""
    checks: dict[str, str] = {}
    try:
        with platform.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
        checks["migrations"] = "unknown"
        return checks
    current = migrate.current_revision(platform.engine)
    head = migrate.head_revision()
    checks["migrations"] = (
        "ok" if current == head else f"at {current}, head is {head}: run `rtc db upgrade`"
    )
    return checks
