"""Text the console accepts from forms, query strings and paths: only what the store can hold.

PostgreSQL refuses NUL characters and neither database stores lone surrogates, so a field
carrying them is refused by validation (a 422, shown as the console's error page) before it
can reach a query. Names a person types (aliases, display names, e-mail addresses, filters)
also refuse control characters. Sign-in is the exception: an odd name there is simply an
unknown name, answered like any other wrong credentials (the services see to that).
"""

from __future__ import annotations

import unicodedata

from pydantic import AfterValidator

from rtcompute.domain import text


def printable(value: str) -> str:
    text.check_storable(value)
    if any(unicodedata.category(character) == "Cc" for character in value):
        raise ValueError("must be text without control characters")
    return value


def for_audit(value: str) -> str:
    """A claimed name the audit trail can hold: what no database stores is replaced."""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


# use inside Annotated with Form/Query/Path, e.g. Annotated[str, Form(max_length=64), Printable]
Storable = AfterValidator(text.check_storable)
Printable = AfterValidator(printable)
