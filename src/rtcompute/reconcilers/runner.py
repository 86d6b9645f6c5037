"""The runner: one leader lease, every reconciler on its own interval, fenced by its term.

Only the lease holder runs reconcilers; the others keep trying to take the lease, so a
second `rtc up` on the same database stands by until the first one stops or dies. The
lease is short (`lease_seconds`, 3 s by default) and renewed by a thread of its own every
third of it, however long a pass takes, so that a standby takes over within about
`lease_seconds` + a third of it after the leader's death. Every pass runs under the
leader's `Fence` (services/kernel/leadership.py): a leader that lost its lease stops at
its next step and none of its writes commit.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from rtcompute.reconcilers import base
from rtcompute.services.kernel import leadership
from rtcompute.services.kernel import platform as platform_module

log = logging.getLogger("rtcompute.reconcilers")


class Runner:
    def __init__(
        self,
        platform: platform_module.Platform,
        reconcilers: Sequence[base.Reconciler] = (),
        *,
        holder: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.reconcilers = list(reconcilers)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.monotonic = monotonic
        self.is_leader = False
        self.fence: leadership.Fence | None = None
        self.stop_event = threading.Event()
        self._next_run: dict[str, float] = {}
        self.backoff = base.Backoff(monotonic)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._unreachable = False  # the last renewal could not reach the database

    @property
    def lease_seconds(self) -> float:
        return self.platform.settings.reconcilers.lease_seconds

    def renew(self) -> leadership.Fence | None:
        """Take or renew the lease; the fence to act under while this process leads."""
        started = self.monotonic()
        try:
            term = leadership.hold(
                self.platform,
                name=leadership.RECONCILER_LEASE,
                holder=self.holder,
                seconds=self.lease_seconds,
            )
        except Exception as exc:
            if not self._unreachable:  # said once, and again when it is over
                log.error("could not reach the database to hold the lease", exc_info=exc)
            self._unreachable = True
            term = None
        else:
            if self._unreachable:
                log.info("reached the database again to hold the lease")
            self._unreachable = False
        with self._lock:
            fence = self.fence
            if term is None:
                if fence is not None:
                    fence.revoke()
                fence = None
            elif fence is not None and fence.term == term and fence.valid:
                fence.extend(started + self.lease_seconds)
            else:
                if fence is not None:
                    fence.revoke()
                fence = leadership.Fence(
                    self.platform,
                    name=leadership.RECONCILER_LEASE,
                    holder=self.holder,
                    term=term,
                    valid_until=started + self.lease_seconds,
                    monotonic=self.monotonic,
                )
            self.fence = fence
            self._leading(fence is not None)
        return fence

    def _leading(self, leader: bool) -> None:
        if leader != self.is_leader:
            state = f"leader (term {self.fence.term})" if self.fence else "standby"
            log.info("reconciler runner %s is %s", self.holder, state)
        self.is_leader = leader

    def tick(self) -> None:
        """One pass: hold the lease, then run each reconciler that is due."""
        self.renew()
        self.run_due()

    def run_due(self) -> None:
        """Run each reconciler that is due, under the fence of the current term."""
        fence = self.fence
        if fence is None or not fence.valid:
            return
        now = self.monotonic()
        try:
            with leadership.acting(fence):
                for reconciler in self.reconcilers:
                    if self._next_run.get(reconciler.name, 0.0) > now:
                        continue
                    # a whole pass that fails (its resources have their own retries) is
                    # retried under the same rules, on this runner's clock
                    base.attempt(
                        self.backoff,
                        reconciler.name,
                        reconciler.reconcile_once,
                        what=reconciler.name,
                        logger=log,
                    )
                    retry_at = self.backoff.retry_at(reconciler.name)
                    self._next_run[reconciler.name] = (
                        retry_at if retry_at is not None else now + reconciler.interval_seconds
                    )
        except leadership.Fenced as exc:
            log.warning("reconciler runner %s stops acting: %s", self.holder, exc)
            with self._lock:
                if self.fence is fence:
                    fence.revoke()
                    self.fence = None
                    self._leading(False)

    def _keep_lease(self) -> None:
        while not self.stop_event.is_set():
            self.renew()
            self.stop_event.wait(self.lease_seconds / 3)

    def run(self) -> None:
        interval = min([self.lease_seconds / 3] + [r.interval_seconds for r in self.reconcilers])
        while not self.stop_event.is_set():
            self.run_due()
            self.stop_event.wait(interval)

    def start(self) -> None:
        self.renew()  # leading (or not) from the start, before the first pass
        for target, name in ((self._keep_lease, "lease"), (self.run, "reconcilers")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        for thread in self._threads:
            thread.join(timeout)
        with self._lock:
            fence, self.fence = self.fence, None
        if fence is not None:
            fence.revoke()
            try:
                leadership.release(
                    self.platform, name=leadership.RECONCILER_LEASE, holder=self.holder
                )
            except Exception as exc:
                log.error("could not release the lease", exc_info=exc)
        self.is_leader = False
