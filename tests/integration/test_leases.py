"""Leader leases on both databases: one holder at a time, renewal, take-over, release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rtcompute.services.kernel import leadership
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import leases as lease_store
from tests.conftest import FakeClock

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def acquire(
    platform: platform_module.Platform, holder: str, at: float, ttl: float = 15, name: str = "x"
) -> bool:
    now = T0 + timedelta(seconds=at)
    with db.transaction(platform.sessions) as session:
        return lease_store.try_acquire_lease(
            session=session,
            name=name,
            holder=holder,
            now=now,
            expires_at=now + timedelta(seconds=ttl),
        )


def holder_of(platform: platform_module.Platform, name: str = "x") -> tuple[str, datetime] | None:
    with db.transaction(platform.sessions) as session:
        lease = lease_store.read_lease(session=session, name=name)
        return (lease.holder, lease.expires_at) if lease else None


def test_only_one_holder_renewal_and_take_over(platform: platform_module.Platform) -> None:
    assert acquire(platform, "a", 0)
    assert not acquire(platform, "b", 1)
    assert holder_of(platform) == ("a", T0 + timedelta(seconds=15))
    assert acquire(platform, "a", 10)  # renew
    assert holder_of(platform) == ("a", T0 + timedelta(seconds=25))
    assert not acquire(platform, "b", 20)  # would have expired without the renewal
    assert not acquire(platform, "b", 24.9)
    assert acquire(platform, "b", 25)  # expired: b takes over
    assert holder_of(platform) == ("b", T0 + timedelta(seconds=40))
    assert not acquire(platform, "a", 26)


def test_leases_are_independent_by_name(platform: platform_module.Platform) -> None:
    assert acquire(platform, "a", 0, name="one")
    assert acquire(platform, "b", 0, name="two")
    assert not acquire(platform, "b", 1, name="one")
    assert not acquire(platform, "a", 1, name="two")


def test_release_lets_the_other_in(platform: platform_module.Platform) -> None:
    assert acquire(platform, "a", 0)
    with db.transaction(platform.sessions) as session:
        lease_store.release_lease(session=session, name="x", holder="b")  # not b's to release
    assert not acquire(platform, "b", 1)
    with db.transaction(platform.sessions) as session:
        lease_store.release_lease(session=session, name="x", holder="a")
    assert holder_of(platform) is None
    assert acquire(platform, "b", 2)
    assert not acquire(platform, "a", 3)


def test_leadership_service_with_the_clock(
    platform: platform_module.Platform, clock: FakeClock
) -> None:
    name = leadership.RECONCILER_LEASE
    assert leadership.current_holder(platform, name=name) is None
    assert leadership.hold(platform, name=name, holder="a", seconds=15)
    assert not leadership.hold(platform, name=name, holder="b", seconds=15)
    assert leadership.current_holder(platform, name=name) == "a"
    clock.advance(seconds=10)
    assert leadership.hold(platform, name=name, holder="a", seconds=15)
    clock.advance(seconds=10)
    assert not leadership.hold(platform, name=name, holder="b", seconds=15)
    clock.advance(seconds=5)
    assert leadership.current_holder(platform, name=name) is None  # a stopped renewing
    assert leadership.hold(platform, name=name, holder="b", seconds=15)
    assert leadership.current_holder(platform, name=name) == "b"
    leadership.release(platform, name=name, holder="b")
    assert leadership.current_holder(platform, name=name) is None
    assert leadership.hold(platform, name=name, holder="a", seconds=15)
