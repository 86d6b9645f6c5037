"""The billing loop: expire ended subscriptions, meter pay-as-you-go clusters hourly."""

from __future__ import annotations

import logging

from rtcompute.services.capacity import billing
from rtcompute.services.kernel import platform as platform_module

log = logging.getLogger("rtcompute.reconcilers.billing")


class Billing:
    name = "billing"

    def __init__(self, platform: platform_module.Platform, interval_seconds: float) -> None:
        self.platform = platform
        self.interval_seconds = interval_seconds

    def reconcile_once(self) -> None:
        expired = billing.expire_due(self.platform)
        metered = billing.meter(self.platform)
        if expired or metered:
            log.info("billing: %d subscriptions expired, %d usage hours recorded", expired, metered)
