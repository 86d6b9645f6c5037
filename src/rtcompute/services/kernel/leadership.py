"""Leader election over a lease row, so that two `rtc up` on one database never both act.

The holder renews the lease often (a third of its length); a standby takes it over once it
has expired, in a new term. What the leader does is fenced by its term: a `Fence` is valid
while the lease it renewed last has not run out on the leader's own clock (checked before
each step of a reconciler, no database needed), and every write transaction of the leader's
reconcilers checks in the database, before it commits, that the lease is still its own in
that term (`db.on_write`). A leader that stalled (a pause, a long step) past its lease and
woke up after a take-over acts no more: its steps stop, its writes roll back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from sqlalchemy.orm import Session

from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import leases as lease_store

RECONCILER_LEASE = "reconcilers"


class Fenced(Exception):
    """This process no longer holds the lease in the term it acts for: stop acting."""


def hold(
    platform: platform_module.Platform, *, name: str, holder: str, seconds: float
) -> int | None:
    """Acquire or renew; the term `holder` leads in, None while it does not."""
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


class Fence:
    """The right to act of one holder in one term (see the module docstring); a
    `db.WriteHook` for the writes made under it."""

    def __init__(
        self,
        platform: platform_module.Platform,
        *,
        name: str,
        holder: str,
        term: int,
        valid_until: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.name = name
        self.holder = holder
        self.term = term
        self.monotonic = monotonic
        self._valid_until = valid_until
        self._revoked = False
        self._lock = threading.Lock()

    def extend(self, valid_until: float) -> None:
        """A renewal in the same term that started at `valid_until - lease seconds`."""
        with self._lock:
            self._valid_until = max(self._valid_until, valid_until)

    def revoke(self) -> None:
        with self._lock:
            self._revoked = True

    @property
    def valid(self) -> bool:
        with self._lock:
            return not self._revoked and self.monotonic() < self._valid_until

    def check(self) -> None:
        if not self.valid:
            raise Fenced(f"{self.holder} no longer holds the {self.name} lease of term {self.term}")

    def before_commit(self, session: Session) -> None:
        self.check()
        if not lease_store.holds_lease(
            session=session,
            name=self.name,
            holder=self.holder,
            term=self.term,
            now=self.platform.now(),
        ):
            self.revoke()
            raise Fenced(f"the {self.name} lease of term {self.term} was taken over")

    def committed(self) -> None:
        pass


_ACTING: ContextVar[Fence | None] = ContextVar("rtc_acting_fence", default=None)


@contextmanager
def acting(fence: Fence) -> Iterator[None]:
    """Everything this context does, it does under `fence`: its steps check it
    (`check_acting`), its writes are fenced. Threads it starts carry it along when started
    in a copy of this context (reconcilers/base.py `in_context`)."""
    token = _ACTING.set(fence)
    try:
        with db.on_write(fence):
            yield
    finally:
        _ACTING.reset(token)


def check_acting() -> None:
    """Raise `Fenced` if this context acts under a fence that is no longer valid."""
    fence = _ACTING.get()
    if fence is not None:
        fence.check()
