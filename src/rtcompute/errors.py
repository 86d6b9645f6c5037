"""Domain errors: what went wrong, in words a user can act on, with a stable code.

They know nothing of HTTP; `api/app.py` maps each base class to a status code once.
"""

from __future__ import annotations

from typing import ClassVar


class RtcError(Exception):
    """Base of every error a user may see; `code` is stable, `message` says what to do."""

    code = "InternalError"
    # the message in other languages, by language tag ("zh"); English is `message`
    translations: ClassVar[dict[str, str]] = {}

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def details(self) -> dict[str, object] | None:
        """More fields for the error body (what the client needs beyond the message)."""
        return None


class Invalid(RtcError):
    code = "InvalidParameter"


class NotFound(RtcError):
    code = "NotFound"


class Conflict(RtcError):
    code = "Conflict"


class Unauthenticated(RtcError):
    code = "Unauthenticated"


class Forbidden(RtcError):
    code = "Forbidden"


class VerificationRequired(RtcError):
    """Sign-in needs a one-time code (e-mailed or logged) or a TOTP code."""

    code = "VerificationRequired"

    def __init__(self, message: str, *, method: str, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.method = method

    def details(self) -> dict[str, object] | None:
        return {"verification": self.method}


class QuotaExceeded(RtcError):
    code = "QuotaExceeded"


class PayloadTooLarge(RtcError):
    code = "PayloadTooLarge"


class Unavailable(RtcError):
    code = "ServiceUnavailable"
