"""Domain errors: what went wrong, in words a user can act on, with a stable code.

Every error is raised with its English sentence and its Chinese one side by side, at the
place that knows the values (`errors.Invalid("cu must be ...", "CU 必须 ...", code=...)`):
the text of an error lives once, and the API (by Accept-Language) and the console (by the
page's language) show the same sentence. A test (`tests/unit/test_error_texts.py`) fails on
a raise without its Chinese sentence.

They know nothing of HTTP; `http_status.py` maps each base class to a status code once.
"""

from __future__ import annotations

ENGLISH = "en"
CHINESE = "zh"


def accepted_language(header: str | None) -> str:
    """The language of an Accept-Language header the platform speaks, `zh` or `en`: the
    highest quality among the zh and en tags (the first of equals); English by default.
    The API answers errors, events and the platform's own texts in it, all alike."""
    best: tuple[tuple[float, int], str] | None = None
    for position, part in enumerate((header or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().replace("_", "-").split("-")[0]
        if primary not in (CHINESE, ENGLISH) or not quality > 0:  # NaN is no quality
            continue
        key = (-quality, position)
        if best is None or key < best[0]:
            best = (key, primary)
    return best[1] if best else ENGLISH


def language_of(tag: str) -> str:
    """`zh`, `zh-CN`, `zh_CN` -> `zh`; anything else -> `en`."""
    return CHINESE if tag.lower().replace("_", "-").split("-")[0] == CHINESE else ENGLISH


class RtcError(Exception):
    """Base of every error a user may see; `code` is stable, `message` says what to do."""

    code = "InternalError"

    def __init__(self, message: str, zh: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.zh = zh
        if code is not None:
            self.code = code

    def text(self, language: str) -> str:
        """The message in `language` (a tag such as `zh-CN`); English where none was given."""
        if language_of(language) == CHINESE and self.zh:
            return self.zh
        return self.message

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

    def __init__(self, message: str, zh: str = "", *, method: str, code: str | None = None) -> None:
        super().__init__(message, zh, code=code)
        self.method = method

    def details(self) -> dict[str, object] | None:
        return {"verification": self.method}


class QuotaExceeded(RtcError):
    code = "QuotaExceeded"


class PayloadTooLarge(RtcError):
    code = "PayloadTooLarge"


class Unavailable(RtcError):
    """It may pass by itself: the answer says when to try again (`Retry-After`)."""

    code = "ServiceUnavailable"

    def __init__(
        self, message: str, zh: str = "", *, code: str | None = None, retry_after: int = 5
    ) -> None:
        super().__init__(message, zh, code=code)
        self.retry_after = retry_after
