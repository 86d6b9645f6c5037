"""What text the store can hold, what a name may hold, and the page tokens the API hands out.

PostgreSQL refuses NUL characters and neither database stores lone surrogates; a name or
filter that carries them cannot match anything stored, so callers treat it as bad input
(or as "not found") before it reaches a query.

Names and keys (object keys, display names, e-mail addresses) are shown to other people, in
lists, links and the audit trail, so they also refuse Unicode's bidirectional controls: they
are invisible and reorder the text around them, so that `invoice\u202efdp.exe` displays as
`invoiceexe.pdf`. Free text (descriptions, comments, SQL) keeps them: a sentence in Arabic or
Hebrew may need them, and nothing selects or trusts a description by how it looks.
"""

from __future__ import annotations

import unicodedata

from rtcompute import errors

MAX_PAGE_TOKEN = 2**63 - 1
# Unicode's bidirectional formatting characters (UAX #9): the implicit marks ALM, LRM, RLM,
# the embeddings and overrides LRE, RLE, PDF, LRO, RLO, and the isolates LRI, RLI, FSI, PDI
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def is_storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(value: str) -> str:
    """`value` with what a database cannot store escaped (NUL, lone surrogates) as `\\x00`,
    `\\udc80`: for records that must keep whatever a caller sent (the audit trail)."""
    if is_storable(value):
        return value
    escaped = value.replace("\\", "\\\\").replace("\x00", "\\x00")
    return escaped.encode("utf-8", "backslashreplace").decode("utf-8")


def check_storable(value: str) -> str:
    """`value`, or ValueError (the validators' way to refuse) when the store cannot hold it."""
    if not is_storable(value):
        # stays ValueError: this is a pydantic validator (API schemas, console fields), and
        # pydantic turns only ValueError into the 422 of a refused field
        raise ValueError("must be text without NUL characters or lone surrogates")
    return value


def bidi_control(value: str) -> str | None:
    """The first bidirectional control character of `value`, or None."""
    if value.isascii():  # the common case, without a look at each character
        return None
    return next((character for character in value if character in BIDI_CONTROLS), None)


def bidi_problem(value: str) -> str | None:
    """Why `value` may not be a name (which bidi control it holds), or None when it may."""
    found = bidi_control(value)
    if found is None:
        return None
    name = unicodedata.name(found, "a bidirectional control")
    return (
        f"must not contain bidirectional control characters (found U+{ord(found):04X} "
        f"{name}): they make a name display as something it is not"
    )


def refuse_bidi(value: str, *, field: str, field_zh: str, code: str) -> str:
    """`value`, or Invalid naming the field and the bidirectional control it holds."""
    found = bidi_control(value)
    if found is None:
        return value
    problem = bidi_problem(value)
    zh = f"{field_zh}不得包含双向控制字符（发现 U+{ord(found):04X}）：它们会让名称显示成另一个样子"
    raise errors.Invalid(f"{field} {problem}", zh, code=code)


def is_name_text(value: str) -> bool:
    """Text a name or key may be: storable, without bidirectional controls."""
    return is_storable(value) and bidi_control(value) is None


def parse_page_token(token: str | None) -> int | None:
    """A page token we issued (a positive id below 2**63), or None for none; else Invalid."""
    if token is None or token == "":
        return None
    if not (token.isascii() and token.isdigit()) or not 0 < int(token) <= MAX_PAGE_TOKEN:
        raise errors.Invalid(
            "page_token is not one this API returned; start again from the first page",
            "该分页标记（page_token）并非由本服务返回；请从第一页重新开始",
            code="InvalidPageToken",
        )
    return int(token)
