"""Where the browser tests put their screenshots: the directory named by RTC_SCREENSHOTS
(`make screenshots` sets docs/screenshots), else `rtc-screenshots` in the system's temporary
directory. One place, so that a run's pictures can be kept or looked at together."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ENV = "RTC_SCREENSHOTS"


def directory() -> Path:
    """The screenshots' directory, made when missing."""
    chosen = os.environ.get(ENV)
    where = Path(chosen) if chosen else Path(tempfile.gettempdir()) / "rtc-screenshots"
    where.mkdir(parents=True, exist_ok=True)
    return where
