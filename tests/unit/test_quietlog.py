"""A traceback once per distinct error per minute; every record keeps its one line."""

from __future__ import annotations

import io
import logging

from rtcompute import quietlog


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def raised(message: str) -> Exception:
    try:
        raise RuntimeError(message)
    except RuntimeError as exc:
        return exc


def logger_with(clock: Clock) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(quietlog.OncePerMinute(clock))
    logger = logging.getLogger(f"test-quietlog-{id(out)}")
    logger.propagate = False
    logger.addHandler(handler)
    return logger, out


def test_a_traceback_once_a_minute_per_distinct_error() -> None:
    clock = Clock()
    logger, out = logger_with(clock)
    for n in range(50):
        # the same error (its digits differ: a pid, a count) from the same place
        logger.error("request %d failed", n, exc_info=raised(f"connection {n} lost"))
    text = out.getvalue()
    assert text.count("Traceback") == 1
    assert text.count("failed") == 50  # every record keeps its line
    assert "request 49 failed (RuntimeError: connection 49 lost; traceback shown" in text
    clock.now += quietlog.WINDOW_SECONDS
    logger.error("later", exc_info=raised("connection 1 lost"))
    assert out.getvalue().count("Traceback") == 2


def test_distinct_errors_each_get_their_traceback() -> None:
    logger, out = logger_with(Clock())
    logger.error("a", exc_info=raised("disk full"))
    logger.error("b", exc_info=ValueError("disk full"))  # another type
    logger.error("c", exc_info=raised("database is read-only"))  # another message
    assert out.getvalue().count("Traceback") == 2  # b was never raised: no frames to show
    assert "ValueError: disk full" in out.getvalue()


def test_records_without_an_error_pass_untouched() -> None:
    logger, out = logger_with(Clock())
    for _ in range(3):
        logger.warning("plain %s", "line")
    assert out.getvalue() == "plain line\n" * 3


def wrapped(message: str) -> Exception:
    try:
        try:
            raise OSError(message)
        except OSError as cause:
            raise ValueError("the database is not available at the moment") from cause
    except ValueError as exc:
        return exc


def test_wrapped_errors_are_told_apart_by_their_cause() -> None:
    logger, out = logger_with(Clock())
    logger.error("a", exc_info=wrapped("database is locked"))
    logger.error("b", exc_info=wrapped("attempt to write a readonly database"))
    logger.error("c", exc_info=wrapped("database is locked"))
    text = out.getvalue()
    assert text.count("Traceback (most recent call last)") == 4  # a and b, each with its cause
    assert "c (OSError: database is locked; traceback shown" in text
