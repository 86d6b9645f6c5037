"""Password hashing with argon2id; hashes are upgraded when the parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the name is unknown, so that a miss costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash("rtcompute-dummy-password")


def hash_password(password: str) -> str:
    return str(_hasher.hash(password))


def verify(stored_hash: str | None, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored_hash or _DUMMY_HASH, password)) and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return bool(_hasher.check_needs_rehash(stored_hash))
