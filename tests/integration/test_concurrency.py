"""Limits that must hold under concurrent requests, on both databases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from rtcompute import errors
from rtcompute.services import access_keys, accounts, auth
from rtcompute.services import platform as platform_module
from rtcompute.store import db
from rtcompute.store import identities as identity_store
from tests.conftest import PASSWORD

THREADS = 10


def test_parallel_wrong_passwords_still_lock(platform: platform_module.Platform) -> None:
    account = accounts.sign_up(platform, accounts.NewAccount("acme", PASSWORD))

    def attempt(_: int) -> str:
        try:
            auth.sign_in(platform, auth.SignIn(alias="acme", password="wrong-password-0"))
        except errors.RtcError as exc:
            return exc.code
        return "signed-in"

    with ThreadPoolExecutor(THREADS) as pool:
        codes = list(pool.map(attempt, range(THREADS)))
    assert set(codes) <= {"InvalidCredentials", "IdentityLocked"}
    with db.transaction(platform.sessions) as session:
        identity = identity_store.read_account_identity(session=session, account_id=account.id)
        assert identity is not None
        assert identity.locked_until is not None  # 10 failures at once: at least 5 counted
    with pytest.raises(errors.Locked):
        auth.sign_in(platform, auth.SignIn(alias="acme", password=PASSWORD))


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
