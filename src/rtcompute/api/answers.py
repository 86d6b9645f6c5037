"""Answers of list routes, kept in memory until the next write or for a second at most.

A list route costs a thread hop, a transaction and the serialization of every item (about
2 ms, where `/me`, answered from memory, costs a tenth of it: bench/api.py). Lists are read
far more often than they change, so the serialized answer is kept and served again while
nothing was written:

- Authorization is decided on every request, before the cache is looked at; an answer is
  kept only when the caller may see the whole collection (a RAM user allowed item by item
  gets its own filtered list, not kept), and it is kept per account, route and query.
- A committed write of this process (API, console or reconcilers: `db.committed_writes`)
  to a table the answer reads retires it (the leader's lease, renewed twice a second, does
  not retire a project list); an answer produced while such a write committed is not kept.
- A write by another `rtc up` on the same database, or the clock moving past an expiry, is
  seen within `ttl` (RTC_ANSWER_CACHE_SECONDS, 1 s; 0 turns the cache off), on the
  monotonic clock and on the platform's clock (which tests move).
- Concurrent requests that miss the same answer at the same write count share one
  production (when an answer expires under load, 32 clients would otherwise produce it 32
  times at once); a request that arrives after a write never joins a production that began
  before it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import TypeAdapter

from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db

MAX_ANSWERS = 2_048
MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class _Kept:
    body: bytes
    writes: int
    monotonic: float
    platform_time: datetime


class Answers:
    def __init__(self, ttl_seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self.monotonic = monotonic
        self._kept: dict[tuple[str, ...], _Kept] = {}
        self._lock = threading.Lock()
        # productions under way, by key and the write count they began at
        self.producing: dict[tuple[tuple[str, ...], int], asyncio.Future[bytes]] = {}

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, key: tuple[str, ...], writes: int, now: datetime) -> bytes | None:
        kept = self._kept.get(key)
        if kept is None:
            return None
        fresh = (
            kept.writes == writes
            and self.monotonic() - kept.monotonic < self.ttl
            and kept.platform_time <= now < kept.platform_time + timedelta(seconds=self.ttl)
        )
        if not fresh:
            self._kept.pop(key, None)
            return None
        return kept.body

    def put(self, key: tuple[str, ...], body: bytes, writes: int, now: datetime) -> None:
        with self._lock:
            if len(self._kept) >= MAX_ANSWERS:
                self._kept.clear()
            self._kept[key] = _Kept(body, writes, self.monotonic(), now)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


def of(request: Request) -> Answers:
    found: Answers = request.app.state.answers
    return found


async def answer(
    request: Request,
    platform: platform_module.Platform,
    owner: str | None,
    produce: Callable[[], Awaitable[Any]],
    adapter: TypeAdapter[Any],
    tables: Collection[str],
) -> Response:
    """The route's answer as JSON: kept under `owner` (an account or identity id), or, with
    `owner` None (the caller sees part of the collection), produced and not kept. `tables`:
    every table the answer is read from (`accounts` too: a RAM change bumps the account)."""
    answers = of(request)
    key = (owner or "", request.url.path, request.url.query)
    if owner is None or not answers.enabled:
        return _json(adapter.dump_json(await produce(), by_alias=True))
    writes = db.committed_writes(platform.engine, tables)
    now = platform.now()
    kept = answers.get(key, writes, now)
    if kept is not None:
        return _json(kept)
    pending = answers.producing.get((key, writes))
    if pending is not None:
        return _json(await asyncio.shield(pending))
    future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    answers.producing[(key, writes)] = future
    try:
        body = adapter.dump_json(await produce(), by_alias=True)
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: no "never retrieved" warning when nobody waited
        raise
    finally:
        answers.producing.pop((key, writes), None)
    future.set_result(body)
    if db.committed_writes(platform.engine, tables) == writes:  # nothing committed meanwhile
        answers.put(key, body, writes, now)
    return _json(body)


def _json(body: bytes) -> Response:
    return Response(content=body, media_type=MEDIA_TYPE)
