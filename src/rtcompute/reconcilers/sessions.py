"""Session janitor: deletes expired console and CLI sessions.

One purge per pass and no resource of its own to fail: a purge that fails is retried by the
runner with back-off (reconcilers/base.py), and the sessions it missed go on the next one.
"""

from __future__ import annotations

from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import sessions


class SessionJanitor:
    name = "session-janitor"

    def __init__(self, platform: platform_module.Platform, interval_seconds: float = 300.0):
        self.platform = platform
        self.interval_seconds = interval_seconds

    def reconcile_once(self) -> None:
        sessions.purge_expired(self.platform, self.platform.now())
