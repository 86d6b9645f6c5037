"""Host watch: a host whose agent stopped reporting becomes lost, with an alert.

Agents report to whichever `rtc up` serves the API; this loop only judges the silence. It
judges nothing during its first `hosts.lost_after_seconds`: after the platform itself was
down, every host looks silent until its agent's next report, and that is no lost machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rtcompute.services.capacity import hosts
from rtcompute.services.kernel import platform as platform_module


class HostWatch:
    name = "hosts"

    def __init__(
        self,
        platform: platform_module.Platform,
        interval_seconds: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.interval_seconds = interval_seconds
        self.monotonic = monotonic
        self.started = monotonic()

    def reconcile_once(self) -> None:
        if self.monotonic() - self.started < self.platform.settings.hosts.lost_after_seconds:
            return
        hosts.mark_lost(self.platform)
