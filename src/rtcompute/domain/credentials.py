"""Formats of the secrets we hand out, and how they are hashed at rest.

Passwords are low-entropy and get argon2id (in services). Session tokens, access-key secrets
and one-time codes are random and high-entropy, so a SHA-256 is enough at rest and keeps the
per-request check cheap (the same choice as GitHub's token storage).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

SESSION_PREFIX = "rtcs_"
ACCESS_KEY_PREFIX = "RTCAK"
_KEY_ALPHABET = string.ascii_uppercase + string.digits


def new_session_token() -> str:
    return SESSION_PREFIX + secrets.token_urlsafe(32)


def new_access_key_id() -> str:
    return ACCESS_KEY_PREFIX + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(19))


def new_access_key_secret() -> str:
    return secrets.token_urlsafe(30)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def new_verification_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def new_account_id() -> str:
    return str(secrets.randbelow(9 * 10**15) + 10**15)


def new_password() -> str:
    """A generated password for the bootstrapped operator: 20 characters, shown once."""
    return secrets.token_urlsafe(15)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)


def is_access_key_id(key_id: str) -> bool:
    """Could this be an id we handed out (prefix, then upper-case letters and digits)?"""
    return (
        len(key_id) <= 32
        and key_id.startswith(ACCESS_KEY_PREFIX)
        and len(key_id) > len(ACCESS_KEY_PREFIX)
        and all(c in _KEY_ALPHABET for c in key_id[len(ACCESS_KEY_PREFIX) :])
    )


def split_bearer(token: str) -> tuple[str, str] | None:
    """`<access-key-id>:<secret>` into its parts; None for anything else."""
    key_id, sep, secret = token.partition(":")
    if sep and is_access_key_id(key_id) and secret:
        return key_id, secret
    return None
