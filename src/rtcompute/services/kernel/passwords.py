"""Password hashing with argon2id; hashes are upgraded when the parameters change.

The parameters are settings (`RTC_AUTH__PASSWORD_*`) so that a test suite can hash cheaply;
the defaults are argon2-cffi's (RFC 9106, low memory: t=3, m=64 MiB, p=4) and production
refuses anything weaker (settings.py). A platform holds one `Passwords`.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from rtcompute import settings as settings_module


class Passwords:
    def __init__(self, auth: settings_module.AuthSettings) -> None:
        self._hasher = PasswordHasher(
            time_cost=auth.password_time_cost,
            memory_cost=auth.password_memory_kib,
            parallelism=auth.password_parallelism,
        )

    @functools.cached_property
    def _dummy_hash(self) -> str:
        """Verified against when the name is unknown, so a miss costs as much as a wrong
        password. Made on first use, not at start-up: a hash costs ~0.2 s."""
        return str(self._hasher.hash("rtcompute-dummy-password"))

    def hash(self, password: str) -> str:
        return str(self._hasher.hash(password))

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            verified = self._hasher.verify(stored_hash or self._dummy_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return bool(verified) and bool(stored_hash)

    def needs_rehash(self, stored_hash: str) -> bool:
        return bool(self._hasher.check_needs_rehash(stored_hash))
