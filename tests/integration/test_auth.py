"""Sign-up and sign-in over HTTP: password and alias rules, throttling, rehash, verification
after inactivity, TOTP MFA, session lifetimes, sign-out and password change (both databases).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from starlette.testclient import TestClient

from rtcompute.services.kernel import auth
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from tests.conftest import PASSWORD, FakeClock, RecordingNotifier, login, signup

ERROR_KEYS = {"code", "message", "request_id"}


def sign_in(api: TestClient, account: str, password: str = PASSWORD, **fields: str):  # type: ignore[no-untyped-def]
    return api.post("/api/v1/sessions", json={"account": account, "password": password, **fields})


def assert_error(response, status: int, code: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body: dict[str, object] = response.json()
    assert body["code"] == code, body
    assert set(body) >= ERROR_KEYS, body
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def identity_row(platform: platform_module.Platform, alias: str) -> tables.Identity:
    with db.transaction(platform.sessions) as session:
        query = (
            select(tables.Identity)
            .join(tables.Account, tables.Account.id == tables.Identity.account_id)
            .where(tables.Account.alias == alias)
        )
        return session.scalars(query).one()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------- sign-up rules


@pytest.mark.parametrize(
    ("alias", "password"),
    [
        ("acme", "short7!"),  # 7 characters
        ("acme", ""),
        ("longalias", "longalias"),  # the alias itself
        ("longalias", "LONGALIAS"),  # case does not help
        ("longalias", "sailagnol"),  # nor reversing it
    ],
)
def test_signup_refuses_weak_password(api: TestClient, alias: str, password: str) -> None:
    response = api.post("/api/v1/signup", json={"alias": alias, "password": password})
    body = assert_error(response, 400, "WeakPassword")
    assert "password" in str(body["message"])


def test_signup_accepts_eight_characters(api: TestClient) -> None:
    created = signup(api, "acme", "12345678")
    assert created["alias"] == "acme"
    assert created["is_operator"] is False
    login(api, "acme", "12345678")


@pytest.mark.parametrize(
    "alias",
    ["ab", "Acme", "-acme", "acme-", "ac_me", "ac me", "a" * 33, "acmé", "acme.com", ""],
)
def test_signup_refuses_invalid_alias(api: TestClient, alias: str) -> None:
    response = api.post("/api/v1/signup", json={"alias": alias, "password": PASSWORD})
    assert_error(response, 400, "InvalidAccountAlias")


@pytest.mark.parametrize("alias", ["abc", "a-b", "a" * 32, "0acme9", "big-co-2"])
def test_signup_accepts_valid_alias(api: TestClient, alias: str) -> None:
    assert signup(api, alias)["alias"] == alias


def test_duplicate_alias_is_a_conflict(api: TestClient) -> None:
    first = signup(api, "acme")
    response = api.post("/api/v1/signup", json={"alias": "acme", "password": "other-pass-1"})
    body = assert_error(response, 409, "AccountAliasExists")
    assert "acme" in str(body["message"])
    # the first account keeps its password
    me = api.get("/api/v1/me", headers=login(api, "acme")).json()
    assert me["account_id"] == first["id"]


# ---------------------------------------------------------------- sign-in


def test_wrong_password_and_unknown_account_look_the_same(api: TestClient) -> None:
    signup(api, "acme")
    wrong = assert_error(sign_in(api, "acme", "not-the-password"), 401, "InvalidCredentials")
    unknown = assert_error(sign_in(api, "nobody-here"), 401, "InvalidCredentials")
    assert wrong["message"] == unknown["message"]
    assert wrong["request_id"] != unknown["request_id"]


def test_sign_in_returns_cli_token_and_principal(
    api: TestClient, platform: platform_module.Platform, clock: FakeClock
) -> None:
    created = signup(api, "acme")
    response = sign_in(api, "acme")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token"].startswith("rtcs_")
    assert body["principal"]["account_id"] == created["id"]
    assert body["principal"]["auth_method"] == "session"
    with db.transaction(platform.sessions) as session:
        record = session.scalars(select(tables.Session)).one()
    assert record.kind == "cli"
    assert record.expires_at == clock.now + timedelta(days=30)
    assert record.idle_expires_at == clock.now + timedelta(days=7)
    assert record.token_hash != body["token"]


def test_five_failures_throttle_this_source_then_it_lifts(
    api: TestClient, platform: platform_module.Platform, clock: FakeClock
) -> None:
    signup(api, "acme")
    for _ in range(5):
        assert_error(sign_in(api, "acme", "wrong-password"), 401, "InvalidCredentials")
    # the right password from this source: the same answer as a wrong one, for 15 minutes
    throttled = assert_error(sign_in(api, "acme"), 401, "InvalidCredentials")
    wrong = assert_error(sign_in(api, "nobody-here", "wrong-password"), 401, "InvalidCredentials")
    assert throttled["message"] == wrong["message"]
    assert "15 minutes" in str(throttled["message"])
    # another source signs in meanwhile: nothing is locked on the identity
    elsewhere = auth.SignIn(alias="acme", password=PASSWORD, source_ip="198.51.100.7")
    assert auth.sign_in(platform, elsewhere).principal.account_alias == "acme"
    clock.advance(minutes=14)
    assert_error(sign_in(api, "acme"), 401, "InvalidCredentials")
    clock.advance(minutes=1, seconds=1)
    assert sign_in(api, "acme").status_code == 201


def test_success_resets_the_source_count(api: TestClient) -> None:
    signup(api, "acme")
    for _ in range(4):
        assert_error(sign_in(api, "acme", "wrong-password"), 401, "InvalidCredentials")
    login(api, "acme")
    for _ in range(4):
        assert_error(sign_in(api, "acme", "wrong-password"), 401, "InvalidCredentials")
    # 8 failures in all, but never 5 since the last success: not throttled
    assert sign_in(api, "acme").status_code == 201


def test_password_hash_is_upgraded_when_parameters_change(
    api: TestClient, platform: platform_module.Platform
) -> None:
    signup(api, "acme")
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    assert platform.passwords.needs_rehash(weak)
    identity_id = identity_row(platform, "acme").id
    with db.transaction(platform.sessions) as session:
        row = session.get(tables.Identity, identity_id)
        assert row is not None
        row.password_hash = weak
    login(api, "acme")
    stored = identity_row(platform, "acme").password_hash
    assert stored is not None
    assert stored != weak
    assert not platform.passwords.needs_rehash(stored)
    assert platform.passwords.verify(stored, PASSWORD)
    # and the upgraded hash still signs in
    login(api, "acme")


# ---------------------------------------------------------------- verification after inactivity


def test_inactivity_requires_an_emailed_code(
    api: TestClient, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    signup(api, "acme", email="owner@acme.example")
    clock.advance(days=29, hours=23)
    login(api, "acme")  # not yet 30 days
    assert notifier.sent == []
    clock.advance(days=30)
    body = assert_error(sign_in(api, "acme"), 401, "VerificationRequired")
    assert set(body) == ERROR_KEYS | {"verification"}
    assert body["verification"] == "log"
    assert len(notifier.sent) == 1
    assert notifier.sent[0].to == "owner@acme.example"
    code = notifier.last_code()
    assert re.fullmatch(r"\d{6}", code)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert_error(sign_in(api, "acme", code=wrong), 401, "InvalidVerificationCode")
    assert sign_in(api, "acme", code=code).status_code == 201
    # activity is fresh again: no code needed, none sent
    assert sign_in(api, "acme").status_code == 201
    assert len(notifier.sent) == 1


def test_verification_sentences_follow_the_language(
    api: TestClient, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    signup(api, "acme")
    clock.advance(days=31)
    zh = api.post(
        "/api/v1/sessions",
        json={"account": "acme", "password": PASSWORD},
        headers={"Accept-Language": "zh-CN"},
    )
    body = assert_error(zh, 401, "VerificationRequired")
    assert body["message"] == (
        "该身份已长时间未登录，需要输入 6 位验证码：本账号收不到邮件，验证码已写入本平台的服务器"
        "日志。请向平台运维人员索取，然后连同密码一起输入。"
    )
    english = assert_error(sign_in(api, "acme"), 401, "VerificationRequired")
    assert english["message"] == (
        "This identity has been inactive for a long time, so a 6-digit code is needed: no "
        "e-mail reaches this account, so the code was written to the server log of this "
        "installation. Ask the installation's operator for it, then enter it with your password."
    )
    # by e-mail: the account reads its own address; a RAM user learns it went to the owner's
    mailed = auth.code_sent("email", address="owner@example.com")
    assert "e-mailed to this account's address (o***@example.com)" in mailed.message
    assert "验证码已发送到本账号的邮箱（o***@example.com）" in mailed.text("zh-CN")
    user = auth.code_sent("email", ram_user=True, address="owner@example.com")
    assert "the account that owns this user (o***@example.com). Ask the account owner" in (
        user.message
    )
    assert "请向主账号所有者索取" in user.text("zh-CN")


def test_verification_code_is_single_use_and_expires(
    api: TestClient, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    signup(api, "acme")
    clock.advance(days=31)
    assert_error(sign_in(api, "acme"), 401, "VerificationRequired")
    first = notifier.last_code()
    clock.advance(minutes=11)  # past verification_code_minutes
    assert_error(sign_in(api, "acme", code=first), 401, "VerificationRequired")
    assert len(notifier.sent) == 2  # a fresh code was sent instead
    second = notifier.last_code()
    assert sign_in(api, "acme", code=second).status_code == 201


def test_verification_code_with_wrong_password_is_refused(
    api: TestClient, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    signup(api, "acme")
    clock.advance(days=31)
    assert_error(sign_in(api, "acme"), 401, "VerificationRequired")
    code = notifier.last_code()
    assert_error(sign_in(api, "acme", "wrong-password", code=code), 401, "InvalidCredentials")


# ---------------------------------------------------------------- TOTP MFA


def totp(secret: str, clock: FakeClock) -> str:
    """The code an authenticator app shows at the platform's (fake) time."""
    return str(pyotp.TOTP(secret).at(clock.now))


def next_code(secret: str, clock: FakeClock) -> str:
    """Move to the next 30 s step (a code is accepted once) and return its code."""
    clock.advance(seconds=30)
    return totp(secret, clock)


def enable_mfa(api: TestClient, headers: dict[str, str], clock: FakeClock) -> str:
    device = api.post("/api/v1/me/mfa", headers=headers)
    assert device.status_code == 200, device.text
    secret = str(device.json()["secret"])
    assert device.json()["otpauth_uri"].startswith("otpauth://totp/")
    response = api.put(
        "/api/v1/me/mfa", headers=headers, json={"enabled": True, "code": totp(secret, clock)}
    )
    assert response.status_code == 200, response.text
    return secret


def test_totp_mfa(api: TestClient, notifier: RecordingNotifier, clock: FakeClock) -> None:
    signup(api, "acme")
    headers = login(api, "acme")
    device = api.post("/api/v1/me/mfa", headers=headers).json()
    # a wrong confirmation code does not turn it on
    bad = f"{(int(totp(device['secret'], clock)) + 500_000) % 1_000_000:06d}"
    response = api.put("/api/v1/me/mfa", headers=headers, json={"enabled": True, "code": bad})
    assert_error(response, 400, "InvalidVerificationCode")
    assert sign_in(api, "acme").status_code == 201  # still off
    secret = enable_mfa(api, headers, clock)
    body = assert_error(sign_in(api, "acme"), 401, "VerificationRequired")
    assert body["verification"] == "totp"
    wrong = f"{(int(totp(secret, clock)) + 500_000) % 1_000_000:06d}"
    assert_error(sign_in(api, "acme", code=wrong), 401, "InvalidVerificationCode")
    ok = sign_in(api, "acme", code=next_code(secret, clock))
    assert ok.status_code == 201, ok.text
    assert ok.json()["principal"]["mfa_present"] is True
    assert notifier.sent == []
    # turning it off needs a current code too
    new_headers = bearer(ok.json()["token"])
    off = api.put(
        "/api/v1/me/mfa",
        headers=new_headers,
        json={"enabled": False, "code": next_code(secret, clock)},
    )
    assert off.status_code == 200, off.text
    assert sign_in(api, "acme").status_code == 201


def test_mfa_replaces_the_emailed_code_after_inactivity(
    api: TestClient, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    signup(api, "acme", email="owner@acme.example")
    secret = enable_mfa(api, login(api, "acme"), clock)
    clock.advance(days=45)
    body = assert_error(sign_in(api, "acme"), 401, "VerificationRequired")
    assert body["verification"] == "totp"
    assert notifier.sent == []
    assert sign_in(api, "acme", code=totp(secret, clock)).status_code == 201
    assert notifier.sent == []


def test_a_totp_code_is_accepted_once(api: TestClient, clock: FakeClock) -> None:
    signup(api, "acme")
    secret = enable_mfa(api, login(api, "acme"), clock)
    # the code that turned MFA on cannot sign in within the same step
    replay = sign_in(api, "acme", code=totp(secret, clock))
    assert_error(replay, 401, "InvalidVerificationCode")
    code = next_code(secret, clock)
    assert sign_in(api, "acme", code=code).status_code == 201
    assert_error(sign_in(api, "acme", code=code), 401, "InvalidVerificationCode")
    # one step of clock drift either way is tolerated, for a code not used before
    clock.advance(seconds=60)
    earlier = str(pyotp.TOTP(secret).at(clock.now - timedelta(seconds=30)))
    assert sign_in(api, "acme", code=earlier).status_code == 201
    clock.advance(seconds=90)
    stale = str(pyotp.TOTP(secret).at(clock.now - timedelta(seconds=60)))
    assert_error(sign_in(api, "acme", code=stale), 401, "InvalidVerificationCode")


def test_mfa_begin_twice_when_on_is_a_conflict(api: TestClient, clock: FakeClock) -> None:
    signup(api, "acme")
    headers = login(api, "acme")
    enable_mfa(api, headers, clock)
    assert_error(api.post("/api/v1/me/mfa", headers=headers), 409, "MfaAlreadyBound")


# ---------------------------------------------------------------- sessions


def console_token(platform: platform_module.Platform, alias: str) -> str:
    signed_in = auth.sign_in(platform, auth.SignIn(alias=alias, password=PASSWORD, kind="console"))
    return signed_in.token


def me(api: TestClient, token: str):  # type: ignore[no-untyped-def]
    return api.get("/api/v1/me", headers=bearer(token))


def test_console_session_idle_expiry(
    api: TestClient, platform: platform_module.Platform, clock: FakeClock
) -> None:
    signup(api, "acme")
    token = console_token(platform, "acme")
    for _ in range(3):  # activity keeps it alive past the first idle window
        clock.advance(minutes=55)
        assert me(api, token).status_code == 200
    clock.advance(minutes=60)
    assert_error(me(api, token), 401, "SessionExpired")
    # and it stays gone
    clock.advance(minutes=-30)
    assert_error(me(api, token), 401, "SessionExpired")


def test_console_session_absolute_expiry(
    api: TestClient, platform: platform_module.Platform, clock: FakeClock
) -> None:
    signup(api, "acme")
    token = console_token(platform, "acme")
    for _ in range(14):  # 14 x 50 min = 11 h 40 min, always active
        clock.advance(minutes=50)
        assert me(api, token).status_code == 200
    clock.advance(minutes=20)  # 12 h after sign-in
    assert_error(me(api, token), 401, "SessionExpired")


def test_cli_session_idle_expiry(api: TestClient, clock: FakeClock) -> None:
    signup(api, "acme")
    headers = login(api, "acme")
    clock.advance(days=6, hours=23)
    assert api.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(days=7, seconds=1)
    assert_error(api.get("/api/v1/me", headers=headers), 401, "SessionExpired")


def test_cli_session_absolute_expiry(api: TestClient, clock: FakeClock) -> None:
    signup(api, "acme")
    headers = login(api, "acme")
    for _ in range(4):  # days 6, 12, 18, 24
        clock.advance(days=6)
        assert api.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(days=5, hours=23)
    assert api.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(hours=1)  # 30 days after sign-in, though active an hour ago
    assert_error(api.get("/api/v1/me", headers=headers), 401, "SessionExpired")


def test_sign_out_ends_only_that_token(api: TestClient) -> None:
    signup(api, "acme")
    first = login(api, "acme")
    second = login(api, "acme")
    response = api.delete("/api/v1/sessions/current", headers=first)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}
    assert_error(api.get("/api/v1/me", headers=first), 401, "SessionExpired")
    assert_error(api.delete("/api/v1/sessions/current", headers=first), 401, "SessionExpired")
    assert api.get("/api/v1/me", headers=second).status_code == 200


def test_change_password_ends_other_sessions(api: TestClient) -> None:
    signup(api, "acme")
    current = login(api, "acme")
    other = login(api, "acme")
    new_password = "battery-staple-7"
    response = api.put(
        "/api/v1/me/password",
        headers=current,
        json={"old_password": PASSWORD, "new_password": new_password},
    )
    assert response.status_code == 200, response.text
    assert api.get("/api/v1/me", headers=current).status_code == 200
    assert_error(api.get("/api/v1/me", headers=other), 401, "SessionExpired")
    assert_error(sign_in(api, "acme"), 401, "InvalidCredentials")
    login(api, "acme", new_password)


def test_change_password_refusals_change_nothing(api: TestClient) -> None:
    signup(api, "acme")
    current = login(api, "acme")
    other = login(api, "acme")
    refusals = [
        ("wrong-old-pass", "battery-staple-7", "InvalidCredentials"),
        (PASSWORD, "short", "WeakPassword"),
        (PASSWORD, "acme", "WeakPassword"),
    ]
    for old, new, code in refusals:
        response = api.put(
            "/api/v1/me/password", headers=current, json={"old_password": old, "new_password": new}
        )
        assert_error(response, 400, code)
    assert api.get("/api/v1/me", headers=other).status_code == 200
    login(api, "acme")
