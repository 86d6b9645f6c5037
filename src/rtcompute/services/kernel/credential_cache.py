"""Recently verified credentials, kept in memory for a couple of seconds.

Every authenticated request would otherwise pay a database round trip and a thread hop
(measured: ~8x slower than a bare app). The cache holds no secret: it maps the SHA-256 of a
verified token to its principal, for `ttl` seconds at most and never past the session's own
expiry. Changes made through this process (disable or delete a key, sign out, change a
password) drop the identity's entries at once; a change made through another `rtc up` on the
same database takes effect here within `ttl` (RTC_AUTH__CREDENTIAL_CACHE_SECONDS; 0 turns the
cache off).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from rtcompute.services.kernel import principals

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class _Entry:
    principal: principals.Principal
    valid_until: datetime


class CredentialCache:
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = timedelta(seconds=ttl_seconds)
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl > timedelta(0)

    def get(self, token_digest: str, now: datetime) -> principals.Principal | None:
        entry = self._entries.get(token_digest)
        if entry is None:
            return None
        if entry.valid_until <= now:
            self._entries.pop(token_digest, None)
            return None
        return entry.principal

    def put(
        self,
        token_digest: str,
        principal: principals.Principal,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> None:
        if not self.enabled:
            return
        valid_until = now + self.ttl
        if expires_at is not None:
            valid_until = min(valid_until, expires_at)
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[token_digest] = _Entry(principal, valid_until)

    def drop_identity(self, identity_id: int) -> None:
        """Forget every cached credential of this identity (its keys or sessions changed)."""
        with self._lock:
            for digest in [
                d for d, e in self._entries.items() if e.principal.identity_id == identity_id
            ]:
                del self._entries[digest]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
