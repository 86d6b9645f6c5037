"""The runner: one thread, one leader lease, every reconciler on its own interval.

Only the lease holder runs reconcilers; the others keep trying to take the lease, so a
second `rtc up` on the same database stands by until the first one stops or dies (the lease
expires after `lease_seconds`).
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
        self.stop_event = threading.Event()
        self._next_run: dict[str, float] = {}
        self.backoff = base.Backoff(monotonic)
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        """One pass: hold the lease, then run each reconciler that is due."""
        config = self.platform.settings.reconcilers
        try:
            leader = leadership.hold(
                self.platform,
                name=leadership.RECONCILER_LEASE,
                holder=self.holder,
                seconds=config.lease_seconds,
            )
        except Exception:
            log.exception("could not reach the database to hold the lease")
            leader = False
        if leader != self.is_leader:
            log.info("reconciler runner %s is %s", self.holder, "leader" if leader else "standby")
        self.is_leader = leader
        if not leader:
            return
        now = self.monotonic()
        for reconciler in self.reconcilers:
            if self._next_run.get(reconciler.name, 0.0) > now:
                continue
            # a whole pass that fails (its resources have their own retries) is retried
            # under the same rules, on this runner's clock
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

    def run(self) -> None:
        interval = min(
            [self.platform.settings.reconcilers.lease_seconds / 3]
            + [r.interval_seconds for r in self.reconcilers]
        )
        while not self.stop_event.is_set():
            self.tick()
            self.stop_event.wait(interval)
        if self.is_leader:
            try:
                leadership.release(
                    self.platform, name=leadership.RECONCILER_LEASE, holder=self.holder
                )
            except Exception:
                log.exception("could not release the lease")
            self.is_leader = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="reconcilers", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
