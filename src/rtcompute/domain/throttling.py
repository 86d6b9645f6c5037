"""Sign-in throttling: failures counted per source address, never a lock on the identity.

Locking an identity after five failures let anyone lock anyone out: five wrong passwords from
anywhere, and the owner could not sign in for 15 minutes. Failures are counted instead per
(source, identity) and per source: a source that failed `per_identity` times on one identity
may not try that identity for `period`, and one that failed `per_source` times on any
identities may not try any. Every other source is untouched, so the owner signs in with the
right password while someone else hammers the account.

A throttled attempt is answered exactly as a wrong password or an unknown name is, and costs
the same (a hash is verified, the failure counted): the answer never tells which names exist
or which are being throttled. Unknown names are counted too, under a digest of the claimed
name, so they are throttled the same way.

A count lives for `period` from its first failure; the failure that reaches the limit
throttles for a whole `period` from then; later failures are counted without extending it
(store/sign_in_throttles.py does this in one atomic statement). An IPv4 source is its
address; an IPv6 source is its /64, the network one customer gets and can rotate addresses in.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

ANY_IDENTITY = ""  # the subject of a source's own count, over every name it tried
MAX_SOURCE = 64
IPV6_NETWORK_BITS = 64


@dataclass(frozen=True)
class Limits:
    per_identity: int  # failures of one source on one identity
    per_source: int  # failures of one source on all identities
    period: timedelta  # how long failures count, and how long a throttle lasts


@dataclass(frozen=True)
class Count:
    failures: int
    expires_at: datetime


def source_key(address: str) -> str:
    """The source failures are counted against: an IPv4 address, an IPv6 address's /64, or
    (not an address: a test client, a Unix socket) the text itself."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:MAX_SOURCE]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        network = ipaddress.IPv6Network((parsed, IPV6_NETWORK_BITS), strict=False)
        return str(network)
    return str(parsed)


def identity_subject(identity_id: int) -> str:
    return f"identity:{identity_id}"


def claim_subject(alias: str, user: str | None) -> str:
    """The subject of a name that matches no identity: a digest (the claim may be anything)."""
    claim = f"{alias}\n{user or ''}".encode("utf-8", "replace")
    return "claim:" + hashlib.sha256(claim).hexdigest()


def throttled(counts: Mapping[str, Count], subject: str, limits: Limits, now: datetime) -> bool:
    """Whether the source of `counts` may not try `subject` now."""

    def reached(key: str, limit: int) -> bool:
        count = counts.get(key)
        return count is not None and count.expires_at > now and count.failures >= limit

    return reached(subject, limits.per_identity) or reached(ANY_IDENTITY, limits.per_source)
