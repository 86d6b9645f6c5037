"""What a reconciler is, and how its failures are reported and acted on (kopf's Temporary /
Permanent, `execution.py`).

A reconciler's step for one resource either returns (done for this pass), raises
`Temporary` (it may pass by itself: the resource is tried again after a delay that doubles
with each failure in a row, up to a cap; `errors.Unavailable`, a database or engine worker
not available for a moment, counts as one) or raises `Permanent` (it will not pass: the
resource goes to its failed state with the message, which says what to do). Any other
exception is a surprise (a bug, a lost database connection): its traceback is logged the
first time, then it is retried like a `Temporary`. `attempt` applies these rules, in one
place, per resource, so that one broken job or cluster never holds up the others; the
runner applies them to a reconciler's whole pass. A `Backoff` keeps the retry times on the
reconciler's own clock, so the tests drive it with a fake one.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from rtcompute import errors
from rtcompute.services.kernel import leadership

log = logging.getLogger("rtcompute.reconcilers")
T = TypeVar("T")

# the first retry of a failure that named no delay (an unexpected exception, or a Temporary
# without one); every failure in a row doubles it, up to MAX_DELAY_SECONDS
DEFAULT_DELAY_SECONDS = 5.0
# kopf's default back-off: a resource failing for a long time is still tried every minute
MAX_DELAY_SECONDS = 60.0
# 2**16 times any delay is past any cap: the exponent stops growing there
MAX_DOUBLINGS = 16


class Temporary(Exception):
    """It may pass by itself: try again after `delay` seconds (doubled per failure in a row)."""

    def __init__(self, message: str, *, delay: float = DEFAULT_DELAY_SECONDS) -> None:
        super().__init__(message)
        self.delay = delay


class Permanent(Exception):
    """It will not pass by itself: the resource goes to its failed state with this message
    (and its Chinese sentence, where the resource shows one: a job's state message)."""

    def __init__(self, message: str, zh: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.zh = zh


class Waiting:
    """What a step returns while work it started elsewhere (a submission in a thread) has no
    outcome yet: not a success, so the failures in a row stay counted, and not a failure, so
    the resource is due again on the next pass."""


WAITING = Waiting()


class Reconciler(Protocol):
    name: str
    interval_seconds: float

    def reconcile_once(self) -> None:
        """Compare desired with observed state and take one idempotent step."""


@dataclass(frozen=True)
class Retry:
    failures: int  # in a row
    at: float  # the reconciler's clock


class Backoff:
    """When each failing resource may be tried again: after a failure in a row number n,
    `delay * 2**(n-1)` seconds, capped at `cap` (but never shorter than the delay asked);
    a success forgets the resource."""

    def __init__(
        self, monotonic: Callable[[], float] = time.monotonic, *, cap: float = MAX_DELAY_SECONDS
    ) -> None:
        self.monotonic = monotonic
        self.cap = cap
        self._retries: dict[Hashable, Retry] = {}

    def due(self, key: Hashable) -> bool:
        retry = self._retries.get(key)
        return retry is None or retry.at <= self.monotonic()

    def failures(self, key: Hashable) -> int:
        """Failures in a row of `key` (0: none since its last success)."""
        retry = self._retries.get(key)
        return retry.failures if retry is not None else 0

    def retry_at(self, key: Hashable) -> float | None:
        retry = self._retries.get(key)
        return retry.at if retry is not None else None

    def failed(self, key: Hashable, delay: float = DEFAULT_DELAY_SECONDS) -> float:
        """Count one more failure of `key`; returns the seconds until its next attempt."""
        failures = self.failures(key) + 1
        grown = delay * 2.0 ** min(failures - 1, MAX_DOUBLINGS)
        wait = max(delay, min(self.cap, grown))
        self._retries[key] = Retry(failures, self.monotonic() + wait)
        return wait

    def waiting(self, key: Hashable) -> None:
        """Due at once, its failures in a row kept (see `Waiting`)."""
        retry = self._retries.get(key)
        if retry is not None:
            self._retries[key] = Retry(retry.failures, self.monotonic())

    def succeeded(self, key: Hashable) -> None:
        self._retries.pop(key, None)

    def retain(self, keys: Iterable[Hashable]) -> None:
        """Forget the resources not in `keys` (gone since they failed)."""
        keep = set(keys)
        for key in [k for k in self._retries if k not in keep]:
            del self._retries[key]


def attempt(
    backoff: Backoff,
    key: Hashable,
    step: Callable[[], object],
    *,
    what: str,
    fail: Callable[[Permanent], object] | None = None,
    logger: logging.Logger = log,
) -> bool:
    """Run `step` for the resource `key` if it is due, and act on how it ended.

    `fail(permanent)` puts the resource in its failed state after a `Permanent` (without it,
    the failure is only logged). True when the step is over (it returned, or its permanent
    failure is recorded); False when it waits for its next attempt (or returned `WAITING`)."""
    if not backoff.due(key):
        return False
    leadership.check_acting()  # a leader that lost its lease takes no more steps
    try:
        result = step()
    except leadership.Fenced:
        raise
    except Permanent as exc:
        message = str(exc)
        logger.warning("%s: failed: %s", what, message)
        if fail is not None:
            try:
                fail(exc)
            except Exception as unrecorded:  # the next attempt fails it again
                _surprise(backoff, key, f"{what}: recording its failure", unrecorded, logger)
                return False
        backoff.succeeded(key)
        return True
    except (Temporary, errors.Unavailable) as exc:
        # a database (or engine worker) that is not available for a moment is a Temporary
        delay = exc.delay if isinstance(exc, Temporary) else DEFAULT_DELAY_SECONDS
        wait = backoff.failed(key, delay)
        logger.warning(
            "%s: %s (failure %d in a row; again in %.0f s)", what, exc, backoff.failures(key), wait
        )
        return False
    except Exception as exc:
        _surprise(backoff, key, what, exc, logger)
        return False
    if isinstance(result, Waiting):
        backoff.waiting(key)
        return False
    backoff.succeeded(key)
    return True


def in_context(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, to be run in another thread in a copy of this context: work a step hands
    to a thread stays under the step's fence (its writes are fenced too)."""
    context = contextvars.copy_context()

    def run(*args: Any, **kwargs: Any) -> Any:
        return context.run(function, *args, **kwargs)

    return run


def fenced(function: Callable[..., T]) -> Callable[..., T]:
    """`function`, refused (`leadership.Fenced`) once the fence of the context that runs it
    is no longer valid: for a decision that writes nothing (an approval), so that no write's
    check stops an old leader."""

    def run(*args: Any, **kwargs: Any) -> T:
        leadership.check_acting()
        return function(*args, **kwargs)

    return run


def _surprise(
    backoff: Backoff, key: Hashable, what: str, exc: Exception, logger: logging.Logger
) -> None:
    """An unexpected exception is a Temporary: its traceback logged once, the first time in
    a row, then one line per failure."""
    first = backoff.failures(key) == 0
    wait = backoff.failed(key)
    if first:
        logger.exception("%s: unexpected failure; again in %.0f s", what, wait)
    else:
        logger.warning(
            "%s: failed again (%s: %s; failure %d in a row; again in %.0f s)",
            what,
            type(exc).__name__,
            exc,
            backoff.failures(key),
            wait,
        )
