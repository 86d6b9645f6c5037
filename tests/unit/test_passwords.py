"""Password hashing at the production cost (the rest of the suite hashes cheaply), and the
settings that refuse a cheap cost or a moved clock in production."""

from __future__ import annotations

from datetime import timedelta

import pydantic
import pytest

from rtcompute import settings as settings_module
from rtcompute.services.kernel import passwords as passwords_module
from rtcompute.services.kernel import platform as platform_module

PRODUCTION = passwords_module.Passwords(settings_module.AuthSettings())
CHEAP = settings_module.AuthSettings(
    password_time_cost=1, password_memory_kib=8, password_parallelism=1
)
POSTGRES = "postgresql+psycopg://rtc@db.example/rtc"


def test_the_default_cost_is_argon2id_at_rfc_9106_low_memory() -> None:
    stored = PRODUCTION.hash("correct-horse-9")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PRODUCTION.verify(stored, "correct-horse-9")
    assert not PRODUCTION.verify(stored, "correct-horse-8")
    assert not PRODUCTION.verify(None, "correct-horse-9")  # an unknown name never signs in
    assert not PRODUCTION.needs_rehash(stored)


def test_a_cheap_hash_is_upgraded_under_the_production_cost() -> None:
    cheap = passwords_module.Passwords(CHEAP).hash("correct-horse-9")
    assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert PRODUCTION.verify(cheap, "correct-horse-9")
    assert PRODUCTION.needs_rehash(cheap)


def test_production_refuses_a_cheap_cost_and_a_moved_clock() -> None:
    with pytest.raises(pydantic.ValidationError, match="RTC_AUTH__PASSWORD_"):
        settings_module.Settings(environment="production", database_url=POSTGRES, auth=CHEAP)
    with pytest.raises(pydantic.ValidationError, match="RTC_CLOCK_OFFSET_DAYS"):
        settings_module.Settings(
            environment="production",
            database_url=POSTGRES,
            auth=settings_module.AuthSettings(),
            clock_offset_days=1,
        )
    with pytest.raises(pydantic.ValidationError, match="8 x password_parallelism"):
        settings_module.AuthSettings(password_memory_kib=16, password_parallelism=4)


def test_the_clock_offset_moves_the_platforms_clock() -> None:
    assert platform_module.offset_clock(0) is platform_module.utc_now
    moved = platform_module.offset_clock(730)()
    assert timedelta(days=729.99) < moved - platform_module.utc_now() <= timedelta(days=730)
