"""What text the store can hold, and the page tokens the API hands out.

PostgreSQL refuses NUL characters and neither database stores lone surrogates; a name or
filter that carries them cannot match anything stored, so callers treat it as bad input
(or as "not found") before it reaches a query.
"""

from __future__ import annotations

MAX_PAGE_TOKEN = 2**63 - 1


def is_storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_storable(value: str) -> str:
    """`value`, or ValueError (the validators' way to refuse) when the store cannot hold it."""
    if not is_storable(value):
        raise ValueError("must be text without NUL characters or lone surrogates")
    return value


def parse_page_token(token: str | None) -> int | None:
    """A page token we issued (a positive id below 2**63), or None for none; else ValueError."""
    if token is None or token == "":
        return None
    if not (token.isascii() and token.isdigit()):
        raise ValueError("not a page token")
    value = int(token)
    if not 0 < value <= MAX_PAGE_TOKEN:
        raise ValueError("not a page token")
    return value
