"""Limits that must hold under concurrent requests, on both databases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from rtcompute import errors
from rtcompute.domain import throttling
from rtcompute.services.kernel import access_keys, accounts, auth
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import sign_in_throttles as throttle_store
from tests.conftest import PASSWORD

THREADS = 10


def test_parallel_wrong_passwords_are_all_counted(platform: platform_module.Platform) -> None:
    accounts.sign_up(platform, accounts.NewAccount("acme", PASSWORD))
    source = "203.0.113.9"

    def attempt(_: int) -> str:
        wrong = auth.SignIn(alias="acme", password="wrong-password-0", source_ip=source)
        try:
            auth.sign_in(platform, wrong)
        except errors.RtcError as exc:
            return exc.code
        return "signed-in"

    with ThreadPoolExecutor(THREADS) as pool:
        codes = list(pool.map(attempt, range(THREADS)))
    assert set(codes) == {"InvalidCredentials"}
    with db.transaction(platform.sessions) as session:
        counts = throttle_store.read_counts(
            session=session, source=source, subjects=[throttling.ANY_IDENTITY]
        )
    assert counts[throttling.ANY_IDENTITY].failures == THREADS  # none lost to a race
    # this source is throttled on the identity; another one is not
    with pytest.raises(errors.Unauthenticated):
        auth.sign_in(platform, auth.SignIn(alias="acme", password=PASSWORD, source_ip=source))
    other = auth.SignIn(alias="acme", password=PASSWORD, source_ip="203.0.113.10")
    assert auth.sign_in(platform, other).principal.account_alias == "acme"


def test_parallel_key_creation_respects_the_limit(platform: platform_module.Platform) -> None:
    accounts.sign_up(platform, accounts.NewAccount("acme", PASSWORD))
    principal = auth.sign_in(platform, auth.SignIn(alias="acme", password=PASSWORD)).principal

    def create(_: int) -> str:
        try:
            access_keys.create_access_key(platform, principal.identity_id)
        except errors.QuotaExceeded as exc:
            return exc.code
        return "created"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(create, range(THREADS)))
    assert outcomes.count("created") == platform.settings.auth.max_access_keys
    assert len(access_keys.list_access_keys(platform, principal.identity_id)) == 2
