"""The in-memory credential cache: TTL, session expiry bound, invalidation, size bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rtcompute.domain import identities
from rtcompute.services.kernel import credential_cache, principals

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def principal(identity_id: int) -> principals.Principal:
    return principals.Principal(
        identity_id=identity_id,
        account_id="1000000000000001",
        account_alias="acme",
        identity_type=identities.IdentityType.ACCOUNT,
        name="acme",
        is_operator=False,
        auth_method="access_key",
        credential_id="RTCAKX",
    )


def test_hit_until_ttl_then_miss() -> None:
    cache = credential_cache.CredentialCache(2.0)
    cache.put("d1", principal(1), NOW)
    assert cache.get("d1", NOW + timedelta(seconds=1.9)) == principal(1)
    assert cache.get("d1", NOW + timedelta(seconds=2)) is None
    assert cache.get("d1", NOW) is None  # expired entries are removed


def test_never_past_the_session_expiry() -> None:
    cache = credential_cache.CredentialCache(60.0)
    cache.put("d1", principal(1), NOW, expires_at=NOW + timedelta(seconds=5))
    assert cache.get("d1", NOW + timedelta(seconds=4)) is not None
    assert cache.get("d1", NOW + timedelta(seconds=5)) is None


def test_drop_identity_forgets_only_that_identity() -> None:
    cache = credential_cache.CredentialCache(10.0)
    cache.put("a", principal(1), NOW)
    cache.put("b", principal(1), NOW)
    cache.put("c", principal(2), NOW)
    cache.drop_identity(1)
    assert cache.get("a", NOW) is None and cache.get("b", NOW) is None
    assert cache.get("c", NOW) == principal(2)


def test_zero_ttl_disables() -> None:
    cache = credential_cache.CredentialCache(0)
    cache.put("a", principal(1), NOW)
    assert not cache.enabled
    assert cache.get("a", NOW) is None


def test_size_is_bounded() -> None:
    cache = credential_cache.CredentialCache(10.0)
    for index in range(credential_cache.MAX_ENTRIES + 5):
        cache.put(f"d{index}", principal(index), NOW)
    assert len(cache._entries) <= credential_cache.MAX_ENTRIES
    assert cache.get(f"d{credential_cache.MAX_ENTRIES + 4}", NOW) is not None
