"""Sign-in throttling rules (domain/throttling.py): sources, subjects, when a source waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rtcompute.domain import throttling

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LIMITS = throttling.Limits(per_identity=5, per_source=100, period=timedelta(minutes=15))
SUBJECT = throttling.identity_subject(7)


def counts(
    identity: int = 0, source: int = 0, expires: timedelta = timedelta(minutes=1)
) -> dict[str, throttling.Count]:
    found = {}
    if identity:
        found[SUBJECT] = throttling.Count(identity, NOW + expires)
    if source:
        found[throttling.ANY_IDENTITY] = throttling.Count(source, NOW + expires)
    return found


@pytest.mark.parametrize(
    ("identity", "source", "expected"),
    [
        (0, 0, False),
        (4, 4, False),  # one short of the identity's limit
        (5, 5, True),  # the identity's limit reached
        (9, 9, True),
        (0, 99, False),
        (0, 100, True),  # the source's limit, over every name it tried
        (1, 100, True),
    ],
)
def test_throttled_at_either_limit(identity: int, source: int, expected: bool) -> None:
    assert throttling.throttled(counts(identity, source), SUBJECT, LIMITS, NOW) is expected


def test_a_spent_count_throttles_nothing() -> None:
    assert throttling.throttled(counts(5, 100, timedelta(seconds=1)), SUBJECT, LIMITS, NOW)
    assert not throttling.throttled(counts(5, 100, timedelta(0)), SUBJECT, LIMITS, NOW)
    assert not throttling.throttled(counts(5, 100, -timedelta(seconds=1)), SUBJECT, LIMITS, NOW)


def test_another_identity_of_the_same_source_is_not_throttled() -> None:
    other = throttling.identity_subject(8)
    assert throttling.throttled(counts(5), SUBJECT, LIMITS, NOW)
    assert not throttling.throttled(counts(5), other, LIMITS, NOW)


@pytest.mark.parametrize(
    ("address", "source"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("::ffff:203.0.113.9", "203.0.113.9"),  # an IPv4 client of a dual-stack socket
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # the same customer network
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("testclient", "testclient"),
        ("", ""),
        ("x" * 100, "x" * 64),
    ],
)
def test_source_key(address: str, source: str) -> None:
    assert throttling.source_key(address) == source


def test_subjects() -> None:
    assert throttling.identity_subject(42) == "identity:42"
    claim = throttling.claim_subject("acme", "bob")
    assert claim.startswith("claim:") and len(claim) <= 80  # the column's width
    assert claim != throttling.claim_subject("acme", None)
    assert claim != throttling.claim_subject("acmebob", None)
    assert throttling.claim_subject("acme", None) == throttling.claim_subject("acme", "")
    assert throttling.claim_subject("a\x00\ud800", "b").startswith("claim:")  # any text
