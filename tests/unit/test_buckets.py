"""Bucket names, storage classes, ACLs, and object keys that cannot leave their bucket.

The containment test joins every accepted key to a bucket directory with posixpath (pure
string work, no file system) and checks that the result is already normalized and lies
under the bucket: if `normpath` would change it, some segment could mean something else.
"""

from __future__ import annotations

import itertools
import posixpath

import pytest

from rtcompute import errors
from rtcompute.domain import buckets, names

BUCKET_DIR = "/data/buckets/b-1"


@pytest.mark.parametrize("name", ["abc", "my-bucket-1", "0ab", "a" * 63, "a-b", "123"])
def test_good_bucket_names(name: str) -> None:
    assert names.BUCKET.check(name) == name


@pytest.mark.parametrize(
    "name",
    ["ab", "a" * 64, "-abc", "abc-", "ABC", "my_bucket", "my.bucket", "a b", "abc\n", "ąbc", ""],
)
def test_bad_bucket_names_state_the_rule(name: str) -> None:
    with pytest.raises(errors.Invalid, match="bucket name must be 3-63 characters: lowercase"):
        names.BUCKET.check(name)


def test_storage_class_and_acl() -> None:
    assert buckets.STORAGE_CLASSES == ("standard", "infrequent", "archive")
    assert buckets.ACLS == ("private", "public-read")
    for value in buckets.STORAGE_CLASSES:
        assert buckets.check_storage_class(value) == value
    for value in buckets.ACLS:
        assert buckets.check_acl(value) == value
    for bad in ("Standard", "cold", "", "standard "):
        with pytest.raises(errors.Invalid, match="standard, infrequent, archive"):
            buckets.check_storage_class(bad)
    for bad in ("public", "public-read-write", "PRIVATE", ""):
        with pytest.raises(errors.Invalid, match="private, public-read"):
            buckets.check_acl(bad)


GOOD_KEYS = [
    "x",
    "a/b/c.jar",
    "%2e%2e/x",  # a literal name, never decoded
    "..x/y..",
    "...",
    "a/.../b",
    ".hidden",
    "a/.b/c",
    "name with spaces.txt",
    "数据/文件.csv",
    "emoji-😀",
    "a:b;c?d#e&f",
    "/".join(["€" * 85] * 4),  # 1023 bytes, each segment 255
    "/".join(["a" * 255] * 4)[:1023],
]


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_good_keys(key: str) -> None:
    assert buckets.check_object_key(key) == key


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("", "1-1023 bytes"),
        ("a" * 1024, "1-1023 bytes"),
        ("€" * 342, "1-1023 bytes"),  # 342 characters, 1026 bytes
        ("a\x00b", "control characters"),
        ("a\nb", "control characters"),
        ("a\tb", "control characters"),
        ("a\x7fb", "control characters"),
        ("a\x85b", "control characters"),
        ("a\ud800b", "valid UTF-8"),
        ("a\\b", "backslash"),
        ("\\x", "backslash"),
        ("..\\..\\x", "backslash"),
        ("/etc/passwd", "start with '/'"),
        ("/", "start with '/'"),
        ("a/", "end with '/'"),
        ("a//b", "empty segments"),
        ("../x", "'..' segment"),
        ("..", "'..' segment"),
        ("a/../../b", "'..' segment"),
        ("a/..", "'..' segment"),
        ("a/./b", "'.' segment"),
        (".", "'.' segment"),
        ("./a", "'.' segment"),
        ("a" * 256, "at most 255 bytes"),
        ("ok/" + "é" * 128, "at most 255 bytes"),
    ],
)
def test_bad_keys_state_the_rule(key: str, words: str) -> None:
    with pytest.raises(errors.Invalid, match=words):
        buckets.check_object_key(key)


def stays_inside(key: str) -> bool:
    joined = posixpath.join(BUCKET_DIR, key)
    normalized = posixpath.normpath(joined)
    return (
        joined == normalized
        and normalized.startswith(BUCKET_DIR + "/")
        and posixpath.commonpath([BUCKET_DIR, normalized]) == BUCKET_DIR
    )


def test_no_accepted_key_escapes_the_bucket() -> None:
    # every key of up to 4 segments built from nasty parts: accepted ones stay inside,
    # and each escaping one is refused
    parts = ["", ".", "..", "a", "...", "%2e%2e", "\\", "..\\", " ", "\x00", "é", "/"]
    accepted = refused = 0
    for size in range(1, 5):
        for combo in itertools.product(parts, repeat=size):
            key = "/".join(combo)
            try:
                buckets.check_object_key(key)
            except errors.Invalid:
                refused += 1
                continue
            accepted += 1
            assert stays_inside(key), key
            assert "\\" not in key and "\x00" not in key
    assert accepted > 500 and refused > 10_000
    # the helper itself spots escapes, so the loop above could fail
    for escape in ["../x", "a/../../b", "/etc/passwd", "a/./b", "a//b", "x/"]:
        assert not stays_inside(escape)


def test_long_keys_near_the_limit() -> None:
    deep = "/".join(["d"] * 512)  # 1023 bytes, 512 segments
    assert buckets.check_object_key(deep) == deep
    assert stays_inside(deep)
    with pytest.raises(errors.Invalid, match="1-1023 bytes"):
        buckets.check_object_key(deep + "x")


def test_refusals_carry_the_oss_code_and_a_chinese_sentence() -> None:
    with pytest.raises(errors.Invalid) as name:
        names.BUCKET.check("My_Bucket")
    assert name.value.code == "InvalidBucketName"
    assert name.value.zh.startswith("存储空间名称须为 3-63 个字符")
    assert name.value.zh.endswith("而不是 'My_Bucket'")
    with pytest.raises(errors.Invalid) as key:
        buckets.check_object_key("a/../b")
    assert key.value.code == "InvalidObjectName"
    assert key.value.text("zh-CN") == "对象名不能包含 '..' 路径段"
    with pytest.raises(errors.Invalid) as bidi:
        buckets.check_new_object_key("invoice\u202efdp.exe")
    assert bidi.value.code == "InvalidObjectName"
    assert bidi.value.message.startswith("object key must not contain bidirectional control")
    assert "U+202E" in bidi.value.zh and "双向控制字符" in bidi.value.zh
    assert buckets.check_new_object_key("invoice.pdf") == "invoice.pdf"
    with pytest.raises(errors.Invalid) as acl:
        buckets.check_acl("public")
    assert (acl.value.code, acl.value.zh) == (
        "InvalidParameter.Acl",
        "读写权限（acl）须为 private, public-read 之一，而不是 'public'",
    )
    with pytest.raises(errors.Invalid) as storage:
        buckets.check_storage_class("cold")
    assert storage.value.code == "InvalidParameter.StorageClass"
    assert "standard, infrequent, archive" in storage.value.zh
