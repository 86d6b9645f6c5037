"""Leader election over a lease row, so that two `rtc up` on one database never both act."""

from __future__ import annotations

from datetime import timedelta

from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import leases as lease_store

RECONCILER_LEASE = "reconcilers"


def hold(platform: platform_module.Platform, *, name: str, holder: str, seconds: float) -> bool:
    """Acquire or renew; True while `holder` is the leader."""
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        return lease_store.try_acquire_lease(
            session=session,
            name=name,
            holder=holder,
            now=now,
            expires_at=now + timedelta(seconds=seconds),
        )


def release(platform: platform_module.Platform, *, name: str, holder: str) -> None:
    with db.transaction(platform.sessions) as session:
        lease_store.release_lease(session=session, name=name, holder=holder)


def current_holder(platform: platform_module.Platform, *, name: str) -> str | None:
    with db.transaction(platform.sessions) as session:
        lease = lease_store.read_lease(session=session, name=name)
        if lease is None or lease.expires_at <= platform.now():
            return None
        return lease.holder
