"""Formats and at-rest hashing of the secrets we hand out (domain/credentials.py)."""

from __future__ import annotations

import hashlib
import re

import pytest

from rtcompute.domain import credentials


def test_session_tokens() -> None:
    tokens = {credentials.new_session_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert token.startswith(credentials.SESSION_PREFIX)
        assert len(token) >= 40
        assert re.fullmatch(r"rtcs_[A-Za-z0-9_-]+", token)


def test_access_key_ids_and_secrets() -> None:
    ids = {credentials.new_access_key_id() for _ in range(50)}
    assert len(ids) == 50
    for key_id in ids:
        assert re.fullmatch(r"RTCAK[A-Z0-9]{19}", key_id)
        assert credentials.is_access_key_id(key_id)
    secrets = {credentials.new_access_key_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(s) == 40 and ":" not in s for s in secrets)


@pytest.mark.parametrize(
    "key_id", ["", "RTCAK", "rtcak123", "RTCAKabc", "RTCAK\x00A", "RTCAK" + "A" * 28, "XYZAB1"]
)
def test_not_access_key_ids(key_id: str) -> None:
    assert not credentials.is_access_key_id(key_id)


def test_verification_codes_are_six_digits() -> None:
    codes = [credentials.new_verification_code() for _ in range(200)]
    assert all(re.fullmatch(r"\d{6}", code) for code in codes)
    assert len(set(codes)) > 150
    assert any(code.startswith("0") for code in codes) or len(set(codes)) == 200


def test_account_ids_are_sixteen_digits() -> None:
    ids = {credentials.new_account_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[1-9]\d{15}", account_id) for account_id in ids)


def test_generated_passwords_and_csrf_tokens() -> None:
    password = credentials.new_password()
    assert len(password) == 20
    assert password != credentials.new_password()
    assert len(credentials.new_csrf_token()) >= 32


def test_digest_and_matches() -> None:
    secret = "s3cret-value"
    stored = credentials.digest(secret)
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    assert len(stored) == 64
    assert secret not in stored
    assert credentials.matches(secret, stored)
    assert not credentials.matches("s3cret-valuf", stored)
    assert not credentials.matches("", stored)
    assert credentials.digest("é") == hashlib.sha256("é".encode()).hexdigest()


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("RTCAKABC123:secret", ("RTCAKABC123", "secret")),
        ("RTCAKABC123:sec:ret", ("RTCAKABC123", "sec:ret")),
        ("RTCAKABC123:", None),
        ("RTCAKABC123", None),
        (":secret", None),
        ("RTCAK:secret", None),
        ("AKID123:secret", None),
        ("RTCAK" + "A" * 28 + ":secret", None),
        ("RTCAKab:secret", None),
        ("rtcs_token", None),
        ("", None),
    ],
)
def test_split_bearer(token: str, expected: tuple[str, str] | None) -> None:
    assert credentials.split_bearer(token) == expected
