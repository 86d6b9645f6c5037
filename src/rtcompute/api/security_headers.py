"""The headers that keep the console out of other sites' frames and its pages to its own code.

Every answer says `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'` (no other site may
frame a console page and trick a signed-in user into clicking through it), `X-Content-Type-
Options: nosniff` (a download is never sniffed into a page or a script) and `Referrer-Policy:
same-origin` (console addresses name buckets, objects and jobs: other sites do not see them).

Console answers also carry a content security policy that lets a page load only the console's
own scripts, styles and images: no inline script, event handler or style attribute, no eval,
no plugin, forms posted back to the console only. So markup that slipped into a page cannot
run, and the templates keep their scripts in /static (a unit test reads them for inline code).
API answers get the framing rule only: FastAPI's Swagger page at /api/docs is one inline
script, and JSON runs nowhere.
"""

from __future__ import annotations

Headers = tuple[tuple[bytes, bytes], ...]

CONSOLE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
API_POLICY = "frame-ancestors 'none'"

_FRAMING: Headers = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
CONSOLE: Headers = (*_FRAMING, (b"content-security-policy", CONSOLE_POLICY.encode()))
API: Headers = (*_FRAMING, (b"content-security-policy", API_POLICY.encode()))


def for_path(path: str) -> Headers:
    """The security headers of an answer to `path`."""
    return API if path.startswith("/api/") else CONSOLE
