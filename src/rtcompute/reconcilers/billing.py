"""The billing loop: expire ended subscriptions, meter pay-as-you-go clusters hourly.

Expiry and metering are two duties, each under the shared failure rules
(reconcilers/base.py): one that fails (the database) is tried again with back-off without
holding up the other. Neither has a resource to fail: a metering hour missed is metered on
the next pass, since `meter` records every whole hour not yet recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from rtcompute.reconcilers import base
from rtcompute.services.capacity import billing
from rtcompute.services.kernel import platform as platform_module

log = logging.getLogger("rtcompute.reconcilers.billing")


class Billing:
    name = "billing"

    def __init__(
        self,
        platform: platform_module.Platform,
        interval_seconds: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.interval_seconds = interval_seconds
        self.retries = base.Backoff(monotonic)

    def reconcile_once(self) -> None:
        base.attempt(self.retries, "expiry", self._expire, what="billing expiry", logger=log)
        base.attempt(self.retries, "metering", self._meter, what="billing metering", logger=log)

    def _expire(self) -> None:
        expired = billing.expire_due(self.platform)
        if expired:
            log.info("billing: %d subscriptions expired", expired)

    def _meter(self) -> None:
        metered = billing.meter(self.platform)
        if metered:
            log.info("billing: %d usage hours recorded", metered)
