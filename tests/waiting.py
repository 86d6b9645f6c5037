"""The suite's one way to wait: poll a condition until it holds, never sleep a fixed time.

`wait_for` returns the first truthy value of `check`, so a test can wait for and use a
result in one step; on timeout it fails naming what it waited for and the last value seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    what: str,
    check: Callable[[], T],
    timeout: float = 60.0,
    every: float = 0.1,
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """Call `check` every `every` seconds until it returns a truthy value; return that value.

    Exceptions of the `ignore` types count as "not yet" (a server still starting)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = check()
        except ignore as error:
            last = error
        else:
            if value:
                return value
            last = value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}: last {last!r}")
        time.sleep(every)


def holds_for(what: str, check: Callable[[], object], seconds: float, every: float = 0.1) -> None:
    """Fail as soon as `check` turns false within `seconds`: a property that must last (a
    lease kept, nothing written), watched all along instead of looked at after a sleep."""
    deadline = time.monotonic() + seconds
    while True:
        assert check(), f"{what} stopped holding"
        if time.monotonic() >= deadline:
            return
        time.sleep(every)
