"""Signed calls between the platform and its node agents, both ways (docs/hosts.md).

Each side holds an Ed25519 key pair; the other side knows only the public key, so the
database keeps no secret an agent could be impersonated with: a host's row holds its
agent's public key, and removing the row is what makes the host's credentials stop working.
A request is signed over its method, path with query, the time, a nonce and the SHA-256 of
its body; an answer over its status, the request's nonce and the SHA-256 of its body, so an
answer can neither be replayed to another request nor come from anyone but the key's owner.
A verifier refuses a time further than `SKEW_SECONDS` from its own clock and a nonce it has
seen inside that window (`Replays`).

Pure computation (no I/O): the clock is the caller's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

SKEW_SECONDS = 60
# request headers: who signs (`platform` or `host-<id>`), when, a nonce, the signature
KEY_HEADER = "x-rtc-key"
DATE_HEADER = "x-rtc-date"
NONCE_HEADER = "x-rtc-nonce"
SIGNATURE_HEADER = "x-rtc-signature"
PLATFORM_KEY_ID = "platform"
_MAX_NONCE = 64


class BadSignature(ValueError):
    """A call or answer whose signature does not hold; the message says which part."""


@dataclass(frozen=True)
class KeyPair:
    private: ed25519.Ed25519PrivateKey

    @classmethod
    def generate(cls) -> KeyPair:
        return cls(ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def from_bytes(cls, raw: bytes) -> KeyPair:
        return cls(ed25519.Ed25519PrivateKey.from_private_bytes(raw))

    def private_bytes(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    @property
    def public(self) -> str:
        """The public key, base64 (what the other side stores)."""
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode()

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode()


def public_key(text: str) -> ed25519.Ed25519PublicKey:
    """A base64 public key as sent at join; ValueError if it is not one."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, UnicodeEncodeError, binascii.Error) as exc:
        raise ValueError("not a base64 Ed25519 public key (32 bytes)") from exc


def fingerprint(public: str) -> str:
    """A short, stable name of a public key: what a join token carries of the platform's."""
    return hashlib.sha256(public.encode("ascii")).hexdigest()[:16]


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def request_message(method: str, target: str, date: int, nonce: str, body: bytes) -> bytes:
    return "\n".join(
        ("rtc-request-1", method.upper(), target, str(date), nonce, body_digest(body))
    ).encode()


def answer_message(status: int, nonce: str, body: bytes) -> bytes:
    return "\n".join(("rtc-answer-1", str(status), nonce, body_digest(body))).encode()


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def sign_request(
    keys: KeyPair, key_id: str, method: str, target: str, body: bytes, *, now: float
) -> dict[str, str]:
    """The headers that sign one request (`target`: the path with its query)."""
    date, nonce = int(now), new_nonce()
    return {
        KEY_HEADER: key_id,
        DATE_HEADER: str(date),
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: keys.sign(request_message(method, target, date, nonce, body)),
    }


def sign_answer(keys: KeyPair, status: int, nonce: str, body: bytes) -> str:
    return keys.sign(answer_message(status, nonce, body))


def _check(public: str, signature: str, message: bytes) -> None:
    try:
        key = public_key(public)
        key.verify(base64.b64decode(signature.encode("ascii"), validate=True), message)
    except (InvalidSignature, ValueError, UnicodeEncodeError, binascii.Error) as exc:
        raise BadSignature("the signature does not match the key") from exc


class Replays:
    """Nonces seen in the last `SKEW_SECONDS`: a request is accepted once."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, nonce: str, now: float) -> bool:
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if at >= now - 2 * SKEW_SECONDS and len(self._seen) < self.limit:
                break
            del self._seen[oldest]
        if nonce in self._seen:
            return False
        self._seen[nonce] = now
        return True


def verify_request(
    public: str,
    headers: Mapping[str, str],
    method: str,
    target: str,
    body: bytes,
    *,
    now: float,
    replays: Replays,
) -> str:
    """Check a signed request; its nonce (to sign the answer with) or BadSignature."""
    date_text = headers.get(DATE_HEADER, "")
    nonce = headers.get(NONCE_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not date_text.isdigit() or len(date_text) > 12:
        raise BadSignature(f"the request has no valid {DATE_HEADER} header")
    if not nonce or len(nonce) > _MAX_NONCE or not signature:
        raise BadSignature("the request is not signed")
    date = int(date_text)
    if abs(now - date) > SKEW_SECONDS:
        raise BadSignature(
            f"the request's time is {int(now - date)} s off this clock (at most "
            f"{SKEW_SECONDS} s): synchronise the clocks (NTP)"
        )
    _check(public, signature, request_message(method, target, date, nonce, body))
    if not replays.first_time(nonce, now):
        raise BadSignature("the request was already received (a replay)")
    return nonce


def verify_answer(public: str, signature: str, status: int, nonce: str, body: bytes) -> None:
    """Check that an answer comes from the key's owner, to this very request."""
    if not signature:
        raise BadSignature("the answer is not signed")
    _check(public, signature, answer_message(status, nonce, body))
