"""Bucket and object names: the OSS rules, plus what keeps an object inside its bucket.

A bucket is a directory under the data directory and an object key becomes a relative
path inside it. So the key rules are stricter than "any UTF-8 string": a key that is
accepted here is already a normalized relative POSIX path (no `..` or `.` segment, no
empty segment, no leading `/`, no backslash, no control character), and joining it to
the bucket's directory can never name anything outside that directory. Everything else
(`%2e%2e`, spaces, non-ASCII letters) is a literal name.
"""

from __future__ import annotations

import re
import unicodedata

from rtcompute.domain import text

STANDARD = "standard"
STORAGE_CLASSES = (STANDARD, "infrequent", "archive")
PRIVATE = "private"
PUBLIC_READ = "public-read"
ACLS = (PRIVATE, PUBLIC_READ)

# OSS bucket naming rule
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
BUCKET_NAME_RULE = (
    "3-63 characters: lowercase letters, digits and hyphens, "
    "starting and ending with a letter or digit"
)
# OSS object key rule: 1-1023 bytes of UTF-8
MAX_KEY_BYTES = 1023
# each segment becomes a file or directory name; Linux refuses names over 255 bytes
MAX_SEGMENT_BYTES = 255


def check_bucket_name(name: str) -> str:
    """An OSS bucket name."""
    if not BUCKET_NAME.fullmatch(name):
        raise ValueError(f"bucket name must be {BUCKET_NAME_RULE}; got {name!r}")
    return name


def check_object_key(key: str) -> str:
    """An object key that, joined to the bucket's directory, stays inside it."""
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("object key must be valid UTF-8 (no lone surrogates)") from None
    if not 1 <= size <= MAX_KEY_BYTES:
        raise ValueError(f"object key must be 1-{MAX_KEY_BYTES} bytes of UTF-8, not {size}")
    for char in key:
        if unicodedata.category(char) == "Cc":
            raise ValueError(
                f"object key must not contain control characters (found U+{ord(char):04X})"
            )
    if "\\" in key:
        raise ValueError("object key must not contain a backslash; use '/' between folders")
    if key.startswith("/"):
        raise ValueError("object key must not start with '/'")
    if key.endswith("/"):
        raise ValueError("object key must not end with '/': it names an object, not a folder")
    for segment in key.split("/"):
        if segment == "":
            raise ValueError("object key must not contain empty segments ('//')")
        if segment in (".", ".."):
            raise ValueError(f"object key must not contain a {segment!r} segment")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise ValueError(
                f"each '/'-separated part of an object key must be at most "
                f"{MAX_SEGMENT_BYTES} bytes"
            )
    return key


def check_new_object_key(key: str) -> str:
    """A key to store an object under: `check_object_key`, and no bidirectional control.

    Only new keys are refused: an object stored before this rule can still be read and deleted.
    """
    check_object_key(key)
    problem = text.bidi_problem(key)
    if problem is not None:
        raise ValueError(f"object key {problem}")
    return key


def check_storage_class(value: str) -> str:
    """One of STORAGE_CLASSES."""
    if value not in STORAGE_CLASSES:
        raise ValueError(
            f"storage class must be one of {', '.join(STORAGE_CLASSES)}; got {value!r}"
        )
    return value


def check_acl(value: str) -> str:
    """One of ACLS."""
    if value not in ACLS:
        raise ValueError(f"acl must be one of {', '.join(ACLS)}; got {value!r}")
    return value
