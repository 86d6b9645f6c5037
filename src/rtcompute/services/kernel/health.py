"""Readiness: the database answers, takes writes, and its schema is at the newest migration.

The write check is an UPDATE that matches no row: it changes nothing, yet a database that
takes no writes (a read-only file or connection, a read-only PostgreSQL) refuses it as it
refuses every other write, so an instance that cannot serve writes leaves the balancer."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import migrate

# the table of the write check (any table would do: no row is written)
WRITE_PROBE = "leases"


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0][:200]


def readiness(platform: platform_module.Platform) -> dict[str, str]:
    """Each check's state: "ok" or what is wrong."""
    checks: dict[str, str] = {}
    try:
        with platform.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
        checks["writes"] = checks["migrations"] = "unknown"
        return checks
    try:
        with platform.engine.begin() as connection:
            connection.execute(text(f"UPDATE {WRITE_PROBE} SET holder = holder WHERE 1 = 0"))
        checks["writes"] = "ok"
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        checks["writes"] = f"refused: {type(exc).__name__}: {_first_line(cause)}"
    current = migrate.current_revision(platform.engine)
    head = migrate.head_revision()
    checks["migrations"] = (
        "ok" if current == head else f"at {current}, head is {head}: run `rtc db upgrade`"
    )
    return checks
