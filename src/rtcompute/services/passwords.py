"""Password hashing with argon2id; hashes are upgraded when the parameters change."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the name is unknown, so a miss costs as much as a wrong password.

    Made on first use, not at import: hashing costs ~0.2 s of start-up otherwise.
    """
    return str(_hasher.hash("rtcompute-dummy-password"))


def hash_password(password: str) -> str:
    return str(_hasher.hash(password))


def verify(stored_hash: str | None, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored_hash or _dummy_hash(), password)) and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return bool(_hasher.check_needs_rehash(stored_hash))
