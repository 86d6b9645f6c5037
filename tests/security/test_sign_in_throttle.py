"""Red team: sign-in throttling that nobody can turn into a lockout, and that never tells a
known name from an unknown one.

Before: five wrong passwords from anywhere locked an identity for everyone for 15 minutes
(423 IdentityLocked, which also said the name existed), and a known RAM user whose console
was off answered 403 before its password was checked. Now failures are counted per source
(domain/throttling.py); these tests attack from one source and sign in from another, compare
every refusal field by field, count the password hashes each refusal verifies, and run the
throttle across two servers on one database. Both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from rtcompute import errors
from rtcompute.domain import throttling
from rtcompute.services.kernel import auth
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from rtcompute.store import sign_in_throttles as throttle_store
from tests.conftest import PASSWORD, FakeClock, make_settings
from tests.integration.test_ram_support import API, Owner, account, ok

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.20"
USERS = f"{API}/ram/users"


@pytest.fixture
def owner(api: TestClient) -> Owner:
    """The account acme; its RAM users dev (a console password), ops (console off) and
    robot (no password at all)."""
    created = account(api, "acme")
    for name, console in (("dev", True), ("ops", False)):
        body = {"name": name, "password": PASSWORD, "console_enabled": console}
        ok(api.post(USERS, headers=created.headers, json=body), 201)
    ok(api.post(USERS, headers=created.headers, json={"name": "robot"}), 201)
    return created


def attempt(
    platform: platform_module.Platform,
    source: str,
    password: str = PASSWORD,
    *,
    alias: str = "acme",
    user: str | None = "dev",
    kind: str = "console",
) -> errors.RtcError | None:
    """One sign-in; the refusal, or None when it signed in."""
    request = auth.SignIn(alias=alias, user=user, password=password, kind=kind, source_ip=source)
    try:
        auth.sign_in(platform, request)
    except errors.RtcError as exc:
        return exc
    return None


def answer(refusal: errors.RtcError | None) -> tuple[type, str, str]:
    """What a caller sees of a refusal: its kind (hence status), code and message."""
    assert refusal is not None, "signed in where a refusal was expected"
    return type(refusal), refusal.code, refusal.message


@pytest.mark.parametrize("user", ["dev", None], ids=["ram-user", "account"])
def test_an_attacker_elsewhere_cannot_lock_the_owner_out(
    platform: platform_module.Platform, owner: Owner, user: str | None
) -> None:
    for n in range(50):
        assert attempt(platform, ATTACKER, f"guess-{n}", user=user) is not None
    # the owner, from its own address, signs in at the first try
    assert attempt(platform, OWNER, user=user) is None
    # the attacker, even with the right password now, is refused as for a wrong one
    wrong = answer(attempt(platform, OWNER, "wrong-password", user=user))
    assert answer(attempt(platform, ATTACKER, user=user)) == wrong


def test_unknown_known_and_throttled_names_answer_alike(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    for n in range(5):
        attempt(platform, ATTACKER, f"guess-{n}", user="dev")
    answers = {
        "unknown account": attempt(platform, OWNER, alias="nobody-here", user=None),
        "unknown user": attempt(platform, OWNER, user="nobody"),
        "unknown odd alias": attempt(platform, OWNER, alias="ACME\u202e", user=None),
        "wrong password": attempt(platform, OWNER, "wrong-password"),
        "wrong password, console off": attempt(platform, OWNER, "wrong-password", user="ops"),
        "user without a password": attempt(platform, OWNER, user="robot"),
        "the account's name as a user": attempt(platform, OWNER, user="acme"),
        "throttled, right password": attempt(platform, ATTACKER),
    }
    seen = {name: answer(refusal) for name, refusal in answers.items()}
    assert len(set(seen.values())) == 1, seen
    kind, code, message = next(iter(seen.values()))
    assert (kind, code) == (errors.Unauthenticated, "InvalidCredentials")
    # over HTTP: the same status, code and message, only the request ids differ
    bodies = []
    for body in (
        {"account": "nobody-here", "password": "x"},
        {"account": "acme", "user": "dev", "password": "wrong-password"},
        {"account": "acme", "user": "nobody", "password": "x"},
    ):
        response = api.post(f"{API}/sessions", json=body)
        assert response.status_code == 401, response.text
        bodies.append({k: v for k, v in response.json().items() if k != "request_id"})
    assert bodies == [{"code": code, "message": message}] * 3


def test_console_off_is_said_only_after_the_right_password(
    platform: platform_module.Platform, owner: Owner
) -> None:
    wrong = answer(attempt(platform, OWNER, "wrong-password", user="ops"))
    assert wrong[1] == "InvalidCredentials"
    refused = attempt(platform, OWNER, user="ops")
    assert isinstance(refused, errors.Forbidden) and refused.code == "ConsoleAccessDisabled"
    assert attempt(platform, OWNER, user="ops", kind="cli") is None


class CountingPasswords:
    """The platform's hasher, counting the hashes it verifies."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.verified = 0

    def verify(self, stored_hash: str | None, password: str) -> bool:
        self.verified += 1
        return bool(self.inner.verify(stored_hash, password))  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_every_refusal_costs_one_hash_and_one_count(
    platform: platform_module.Platform, owner: Owner
) -> None:
    """A refusal that skipped the hash, or the count, would be told apart by its time."""
    counting = CountingPasswords(platform.passwords)
    platform.passwords = counting  # type: ignore[assignment]
    for n in range(5):
        attempt(platform, ATTACKER, f"guess-{n}")
    cases = {  # source, alias, user, password
        "unknown account": (OWNER, "nobody-here", None, PASSWORD),
        "unknown user": (OWNER, "acme", "nobody", PASSWORD),
        "no password": (OWNER, "acme", "robot", PASSWORD),
        "wrong password": (OWNER, "acme", "dev", "wrong-password"),
        "throttled": (ATTACKER, "acme", "dev", PASSWORD),
    }
    for name, (source, alias, user, password) in cases.items():
        hashes, failures = counting.verified, source_failures(platform, source)
        assert attempt(platform, source, password, alias=alias, user=user) is not None, name
        assert counting.verified - hashes == 1, name
        assert source_failures(platform, source) == failures + 1, name


def source_failures(platform: platform_module.Platform, source: str) -> int:
    with db.transaction(platform.sessions) as session:
        counts = throttle_store.read_counts(
            session=session, source=source, subjects=[throttling.ANY_IDENTITY]
        )
    found = counts.get(throttling.ANY_IDENTITY)
    return found.failures if found is not None else 0


@pytest.mark.parametrize(
    "settings_overrides", [{"auth": {"max_failed_attempts_per_source": 10}}], ids=["ten"]
)
def test_spraying_many_names_throttles_the_source(
    platform: platform_module.Platform, owner: Owner
) -> None:
    for n in range(10):  # ten names, one try each: under each name's limit of five
        assert attempt(platform, ATTACKER, "guess", alias=f"victim-{n}", user=None) is not None
    assert answer(attempt(platform, ATTACKER)) == answer(attempt(platform, OWNER, "wrong"))
    assert attempt(platform, OWNER) is None


def test_the_throttle_lifts_after_its_period(
    platform: platform_module.Platform, owner: Owner, clock: FakeClock
) -> None:
    for n in range(5):
        attempt(platform, ATTACKER, f"guess-{n}")
    clock.advance(minutes=10)
    attempt(platform, ATTACKER, "guess-5")  # counted, but the throttle does not grow
    clock.advance(minutes=4, seconds=59)
    assert attempt(platform, ATTACKER) is not None
    clock.advance(seconds=2)
    assert attempt(platform, ATTACKER) is None


def test_a_new_password_clears_every_throttle_on_the_user(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    for n in range(5):
        attempt(platform, ATTACKER, f"guess-{n}")
    assert attempt(platform, ATTACKER) is not None
    new = {"password": "battery-staple-7"}
    ok(api.put(f"{USERS}/dev/password", headers=owner.headers, json=new), 204)
    assert attempt(platform, ATTACKER, "battery-staple-7") is None


def test_spent_counts_are_pruned(
    platform: platform_module.Platform, owner: Owner, clock: FakeClock
) -> None:
    for n in range(3):
        attempt(platform, f"192.0.2.{n}", "wrong")
    assert throttle_rows(platform) == 6  # per source and per (source, identity)
    clock.advance(minutes=16)
    attempt(platform, ATTACKER, "wrong")
    assert throttle_rows(platform) == 2  # the spent six went with the next failure


def throttle_rows(platform: platform_module.Platform) -> int:
    with db.transaction(platform.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(tables.SignInThrottle)) or 0)


@pytest.fixture
def second_server(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> Iterator[platform_module.Platform]:
    """Another `rtc up` on the same database (its own process state, the same tables)."""
    settings = make_settings(database_url, tmp_path / "second")
    built = platform_module.build_platform(settings, clock=clock)
    yield built
    built.engine.dispose()


def test_two_servers_share_the_throttle(
    platform: platform_module.Platform,
    second_server: platform_module.Platform,
    owner: Owner,
) -> None:
    for n in range(3):
        attempt(platform, ATTACKER, f"guess-{n}")
    for n in range(2):
        attempt(second_server, ATTACKER, f"guess-more-{n}")
    assert attempt(platform, ATTACKER) is not None
    assert attempt(second_server, ATTACKER) is not None
    assert attempt(second_server, OWNER) is None


def console_attempt(api: TestClient, password: str, language: str = "en") -> tuple[int, str]:
    """A sign-in through the console's form as dev@acme: the status and the page's alert."""
    headers = {"Accept-Language": language}
    form = api.get("/login/acme", headers=headers)
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    page = api.post(
        "/login/acme",
        data={"csrf_token": token, "user": "dev", "password": password},
        headers=headers,
        follow_redirects=False,
    )
    alert = page.text.split('role="alert">')[1].split("<")[0] if page.status_code != 303 else ""
    return page.status_code, alert


def test_the_console_says_the_same_for_wrong_and_throttled(api: TestClient, owner: Owner) -> None:
    for language in ("en", "zh-CN"):
        wrong = console_attempt(api, "wrong-password", language)
        assert wrong[0] == 401
        assert "15" in wrong[1]  # the wait the message names
    for n in range(5):
        console_attempt(api, f"guess-{n}")
    # throttled now: the right password gets the wrong password's page, in both languages
    for language in ("en", "zh-CN"):
        assert console_attempt(api, PASSWORD, language) == console_attempt(api, "x", language)
