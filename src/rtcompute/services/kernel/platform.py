"""What every use case needs from the process: settings, the database, a clock, a notifier.

One `Platform` is built at start-up (or per test) and handed to services explicitly, so a
test can swap the clock or the notifier without patching modules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from rtcompute import settings as settings_module
from rtcompute.domain import sqlscript
from rtcompute.services.kernel import authz_cache, credential_cache
from rtcompute.services.kernel import notifier as notifier_module
from rtcompute.services.kernel import passwords as passwords_module
from rtcompute.store import db


def utc_now() -> datetime:
    return datetime.now(UTC)


def offset_clock(days: float) -> Callable[[], datetime]:
    """The machine's clock moved by `days` (settings.clock_offset_days); plain when 0."""
    if not days:
        return utc_now
    offset = timedelta(days=days)
    return lambda: utc_now() + offset


class SqlEngine(Protocol):
    """Checks SQL on a version's warm engine worker (runtime/engines/workers.py); with `jars`
    (file:// URIs of a job's attached JARs) in an isolated worker that loads them."""

    def validate(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult: ...

    def explain(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult: ...


@dataclass
class Platform:
    settings: settings_module.Settings
    engine: Engine
    sessions: sessionmaker[Session]
    notifier: notifier_module.Notifier
    clock: Callable[[], datetime] = field(default=utc_now)
    credentials: credential_cache.CredentialCache = field(
        default_factory=lambda: credential_cache.CredentialCache(0)
    )
    decisions: authz_cache.DecisionCache = field(
        default_factory=lambda: authz_cache.DecisionCache()
    )
    passwords: passwords_module.Passwords = field(
        default_factory=lambda: passwords_module.Passwords(settings_module.AuthSettings())
    )

    # set by the server process (and tests) that run engine workers; None: checks refused
    sql_engine: SqlEngine | None = None

    def now(self) -> datetime:
        return self.clock()


def build_platform(
    settings: settings_module.Settings,
    *,
    notifier: notifier_module.Notifier | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Platform:
    engine = db.make_engine(
        settings.resolved_database_url, recycle_seconds=settings.database_pool_recycle_seconds
    )
    return Platform(
        settings=settings,
        engine=engine,
        sessions=db.make_sessionmaker(engine),
        notifier=notifier or notifier_module.from_settings(settings),
        clock=clock or offset_clock(settings.clock_offset_days),
        credentials=credential_cache.CredentialCache(settings.auth.credential_cache_seconds),
        passwords=passwords_module.Passwords(settings.auth),
    )
