"""What a reconciler is, and how it reports failure (kopf's Temporary / Permanent)."""

from __future__ import annotations

from typing import Protocol


class Temporary(Exception):
    """Try again after `delay` seconds."""

    def __init__(self, message: str, *, delay: float = 5.0) -> None:
        super().__init__(message)
        self.delay = delay


class Permanent(Exception):
    """Do not retry; the resource goes to FAILED with this message."""


class Reconciler(Protocol):
    name: str
    interval_seconds: float

    def reconcile_once(self) -> None:
        """Compare desired with observed state and take one idempotent step."""
