"""Logs that stay readable under a fault: a traceback once per distinct error per minute.

A database that is gone for a minute fails every request and every reconciler pass, and
each failure carries the same traceback (SQLAlchemy's pool logs its own as well). The
filter below sits on the server's log handler, so it sees every record, ours and the
libraries': the first record of an error within a minute keeps its traceback, the next ones
keep their one line, marked as seen. An error is "the same" when its root cause's type, the
place it was raised and its first line (digits aside: pids, ports, counts) are the same: a
read-only file and a lock, both wrapped in one domain error, are two errors.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from types import TracebackType

WINDOW_SECONDS = 60.0
# distinct errors remembered; the oldest is forgotten first (it would be shown again)
MAX_REMEMBERED = 1000
_DIGITS = re.compile(r"\d+")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def root_cause(exc: BaseException) -> BaseException:
    """The error at the bottom of `raise ... from ...` (a domain error wraps a database's)."""
    seen = {id(exc)}
    while exc.__cause__ is not None and id(exc.__cause__) not in seen:
        exc = exc.__cause__
        seen.add(id(exc))
    return exc


def error_key(exc: BaseException) -> tuple[str, str, str]:
    """What makes two errors the same one for the log: those of their root causes."""
    exc = root_cause(exc)
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    first_line = (str(exc).splitlines() or [""])[0][:200]
    return type(exc).__qualname__, where, _DIGITS.sub("#", first_line)


class OncePerMinute(logging.Filter):
    """Drops the traceback of a record whose error was shown with one in the last minute."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.monotonic = monotonic
        self._shown: OrderedDict[tuple[str, str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def first_in_window(self, exc: BaseException) -> bool:
        """Whether `exc` is the first of its kind this minute (and from now on, it was)."""
        key = error_key(exc)
        now = self.monotonic()
        with self._lock:
            shown = self._shown.get(key)
            if shown is not None and now - shown < WINDOW_SECONDS:
                return False
            self._shown[key] = now
            self._shown.move_to_end(key)
            while len(self._shown) > MAX_REMEMBERED:
                self._shown.popitem(last=False)
            return True

    def filter(self, record: logging.LogRecord) -> bool:
        info = record.exc_info
        if not info or info[1] is None:
            return True
        exc = info[1]
        if not self.first_in_window(exc):
            exc = root_cause(exc)  # the one line names the cause
            first_line = (str(exc).splitlines() or [""])[0][:300]
            record.msg = f"{record.getMessage()} ({type(exc).__name__}: {first_line}; "
            record.msg += "traceback shown in the last minute)"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def install(handlers: list[logging.Handler] | None = None) -> OncePerMinute:
    """Put one filter on each of the root logger's handlers (the server's log)."""
    quiet = OncePerMinute()
    for handler in handlers if handlers is not None else logging.getLogger().handlers:
        handler.addFilter(quiet)
    return quiet
