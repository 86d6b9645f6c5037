"""The one mapping of domain errors to HTTP status codes, by base class.

The API (`api/app.py`) and the console (`console/views.py`) both answer over HTTP; they share
this table so that an error has the same status wherever it surfaces. The errors themselves
know nothing of HTTP.
"""

from __future__ import annotations

from rtcompute import errors

STATUS_BY_ERROR: tuple[tuple[type[errors.RtcError], int], ...] = (
    (errors.Invalid, 400),
    (errors.VerificationRequired, 401),
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.QuotaExceeded, 409),
    (errors.Conflict, 409),
    (errors.PayloadTooLarge, 413),
    (errors.Unavailable, 503),
)


def status_of(error: errors.RtcError) -> int:
    """The status of the first matching base class; 500 for an error nobody mapped."""
    return next((code for cls, code in STATUS_BY_ERROR if isinstance(error, cls)), 500)
