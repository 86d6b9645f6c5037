"""Bucket and object names: the OSS rules, plus what keeps an object inside its bucket.

A bucket is a directory under the data directory and an object key becomes a relative
path inside it. So the key rules are stricter than "any UTF-8 string": a key that is
accepted here is already a normalized relative POSIX path (no `..` or `.` segment, no
empty segment, no leading `/`, no backslash, no control character), and joining it to
the bucket's directory can never name anything outside that directory. Everything else
(`%2e%2e`, spaces, non-ASCII letters) is a literal name. A refusal is an `errors.Invalid`
with the OSS code of the name it refuses.
"""

from __future__ import annotations

import unicodedata

from rtcompute import errors
from rtcompute.domain import text

STANDARD = "standard"
STORAGE_CLASSES = (STANDARD, "infrequent", "archive")
PRIVATE = "private"
PUBLIC_READ = "public-read"
ACLS = (PRIVATE, PUBLIC_READ)

# OSS bucket naming rule
# OSS object key rule: 1-1023 bytes of UTF-8
MAX_KEY_BYTES = 1023
# each segment becomes a file or directory name; Linux refuses names over 255 bytes
MAX_SEGMENT_BYTES = 255

BUCKET_NAME_CODE = "InvalidBucketName"
KEY_CODE = "InvalidObjectName"


def _bad_key(message: str, zh: str) -> errors.Invalid:
    return errors.Invalid(message, zh, code=KEY_CODE)


def check_object_key(key: str) -> str:
    """An object key that, joined to the bucket's directory, stays inside it."""
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise _bad_key(
            "object key must be valid UTF-8 (no lone surrogates)",
            "对象名须为有效的 UTF-8 文本（不能含孤立的代理字符）",
        ) from None
    if not 1 <= size <= MAX_KEY_BYTES:
        raise _bad_key(
            f"object key must be 1-{MAX_KEY_BYTES} bytes of UTF-8, not {size}",
            f"对象名须为 1-{MAX_KEY_BYTES} 字节的 UTF-8 文本，而不是 {size} 字节",
        )
    for char in key:
        if unicodedata.category(char) == "Cc":
            raise _bad_key(
                f"object key must not contain control characters (found U+{ord(char):04X})",
                f"对象名不能包含控制字符（发现 U+{ord(char):04X}）",
            )
    if "\\" in key:
        raise _bad_key(
            "object key must not contain a backslash; use '/' between folders",
            "对象名不能包含反斜杠；目录之间请用 '/' 分隔",
        )
    if key.startswith("/"):
        raise _bad_key("object key must not start with '/'", "对象名不能以 '/' 开头")
    if key.endswith("/"):
        raise _bad_key(
            "object key must not end with '/': it names an object, not a folder",
            "对象名不能以 '/' 结尾：它命名的是对象，不是目录",
        )
    for segment in key.split("/"):
        if segment == "":
            raise _bad_key(
                "object key must not contain empty segments ('//')",
                "对象名不能包含空的路径段（'//'）",
            )
        if segment in (".", ".."):
            raise _bad_key(
                f"object key must not contain a {segment!r} segment",
                f"对象名不能包含 {segment!r} 路径段",
            )
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise _bad_key(
                f"each '/'-separated part of an object key must be at most "
                f"{MAX_SEGMENT_BYTES} bytes",
                f"对象名中以 '/' 分隔的每一段最多 {MAX_SEGMENT_BYTES} 字节",
            )
    return key


def check_new_object_key(key: str) -> str:
    """A key to store an object under: `check_object_key`, and no bidirectional control.

    Only new keys are refused: an object stored before this rule can still be read and deleted.
    """
    check_object_key(key)
    return text.refuse_bidi(key, field="object key", field_zh="对象名", code=KEY_CODE)


def check_storage_class(value: str) -> str:
    """One of STORAGE_CLASSES."""
    if value not in STORAGE_CLASSES:
        raise errors.Invalid(
            f"storage class must be one of {', '.join(STORAGE_CLASSES)}; got {value!r}",
            f"存储类型须为 {', '.join(STORAGE_CLASSES)} 之一，而不是 {value!r}",
            code="InvalidParameter.StorageClass",
        )
    return value


def check_acl(value: str) -> str:
    """One of ACLS."""
    if value not in ACLS:
        raise errors.Invalid(
            f"acl must be one of {', '.join(ACLS)}; got {value!r}",
            f"读写权限（acl）须为 {', '.join(ACLS)} 之一，而不是 {value!r}",
            code="InvalidParameter.Acl",
        )
    return value


# the storage classes in the console's Chinese words (capacity.po: 标准存储, 低频访问, 归档存储)
STORAGE_CLASSES_ZH = {"standard": "标准存储", "infrequent": "低频访问", "archive": "归档存储"}


def check_for_cluster(name: str, storage_class: str, acl: str) -> None:
    """Guide, exclusive cluster configuration: standard storage, and never public-read."""
    if storage_class != STANDARD:
        raise errors.Invalid(
            f"bucket {name} has storage class {storage_class}; a cluster keeps "
            "its UDF packages in a standard-class bucket: choose or create one with "
            f"storage_class {STANDARD}",
            f"存储空间 {name} 的存储类型是{STORAGE_CLASSES_ZH.get(storage_class, storage_class)}；"
            "集群的 UDF 包须存放在标准存储类型的存储空间中：请选择或创建一个标准存储的存储空间",
            code="InvalidParameter.BucketStorageClass",
        )
    if acl == PUBLIC_READ:
        raise errors.Invalid(
            f"bucket {name} is public-read; a cluster's bucket must not be: set its acl "
            f"to {PRIVATE} or choose a private bucket",
            f"存储空间 {name} 是公共读的，集群的存储空间不能公共读：请将其读写权限改为私有，"
            "或选择一个私有存储空间",
            code="InvalidParameter.BucketAcl",
        )
