"""Buckets and objects through the API (both databases): names, classes and ACLs, object
upload / list / download / delete as files under the data directory, path traversal in every
spelling refused, the size limit, and PassRole (guide error 922019) for RAM users.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rtcompute import errors
from rtcompute.services.capacity import buckets
from rtcompute.services.kernel import platform as platform_module
from rtcompute.settings import StorageSettings
from rtcompute.store import buckets as bucket_store
from rtcompute.store import db
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    attach,
    create_policy,
    expect,
    ok,
    ram_user,
)
from tests.integration.test_zones_networks import (
    add_zone,
    drop_clusters,
    insert_cluster,
    operator,  # noqa: F401
)

BUCKETS = f"{API}/buckets"
MIB = 1024 * 1024
OBJECT_LIMIT = 2 * MIB
ZH = "子账号没有passRole权限，请到RAM对该子账号赋权"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "bootstrap_password": "operator-pass-42",
        "storage": StorageSettings(max_object_bytes=OBJECT_LIMIT),
    }


@pytest.fixture
def owner(api: TestClient) -> Owner:
    return account(api)


def objects(bucket: str) -> str:
    return f"{BUCKETS}/{bucket}/objects"


def make_bucket(api: TestClient, headers: dict[str, str], name: str, **fields: str) -> Any:
    return ok(api.post(BUCKETS, headers=headers, json={"name": name, **fields}), 201)


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_bucket_lifecycle(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    made = make_bucket(api, h, "udf-store")
    assert (made["storage_class"], made["acl"], made["created_by"]) == (
        "standard",
        "private",
        "acme",
    )
    assert made["arn"] == f"acs:oss:*:{owner.account_id}:udf-store"
    expect(api.post(BUCKETS, headers=h, json={"name": "udf-store"}), 409, "BucketAlreadyExists")
    # names are unique across the installation
    other = account(api, "other")
    taken = expect(api.post(BUCKETS, headers=other.headers, json={"name": "udf-store"}), 409)
    assert taken["code"] == "BucketAlreadyExists" and "installation" in taken["message"]
    expect(api.get(f"{BUCKETS}/udf-store", headers=other.headers), 404, "NoSuchBucket")
    expect(api.put(f"{objects('udf-store')}/a", headers=other.headers, content=b"x"), 404)
    cold = make_bucket(api, h, "cold-archive", storage_class="archive", acl="public-read")
    assert (cold["storage_class"], cold["acl"]) == ("archive", "public-read")
    assert [b["name"] for b in ok(api.get(BUCKETS, headers=h))] == ["cold-archive", "udf-store"]
    assert ok(api.get(BUCKETS, headers=other.headers)) == []
    changed = ok(api.patch(f"{BUCKETS}/cold-archive", headers=h, json={"acl": "private"}))
    assert (changed["acl"], changed["storage_class"]) == ("private", "archive")
    changed = ok(
        api.patch(f"{BUCKETS}/cold-archive", headers=h, json={"storage_class": "standard"})
    )
    assert ok(api.get(f"{BUCKETS}/cold-archive", headers=h))["storage_class"] == "standard"
    bad = api.patch(f"{BUCKETS}/cold-archive", headers=h, json={"acl": "public-read-write"})
    assert "private, public-read" in expect(bad, 400, "InvalidParameter.Acl")["message"]
    expect(api.patch(f"{BUCKETS}/nope", headers=h, json={"acl": "private"}), 404, "NoSuchBucket")
    ok(api.delete(f"{BUCKETS}/cold-archive", headers=h), 204)
    expect(api.delete(f"{BUCKETS}/cold-archive", headers=h), 404, "NoSuchBucket")
    # the name is free again, for anyone
    make_bucket(api, other.headers, "cold-archive")


@pytest.mark.parametrize(
    "name",
    ["ab", "Upper", "-lead", "trail-", "under_score", "dot.ted", "b" * 64, "a\x00b", "桶桶桶", ""],
)
def test_bucket_names(api: TestClient, owner: Owner, name: str) -> None:
    response = api.post(BUCKETS, headers=owner.headers, json={"name": name})
    assert response.status_code in (400, 422), response.text
    if response.status_code == 400:
        assert response.json()["code"] == "InvalidBucketName"
    assert ok(api.get(BUCKETS, headers=owner.headers)) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"storage_class": "glacier"},
        {"storage_class": "STANDARD"},
        {"acl": "public"},
        {"acl": 1},
        {"storage_class": None},
        {"color": "red"},
    ],
)
def test_bucket_fields(api: TestClient, owner: Owner, fields: dict[str, Any]) -> None:
    response = api.post(BUCKETS, headers=owner.headers, json={"name": "udf-store", **fields})
    assert response.status_code in (400, 422), response.text
    assert ok(api.get(BUCKETS, headers=owner.headers)) == []


def test_objects(api: TestClient, platform: platform_module.Platform, owner: Owner) -> None:
    h = owner.headers
    make_bucket(api, h, "udf-store")
    base = objects("udf-store")
    stored = ok(api.put(f"{base}/jars/udf.jar", headers=h, content=b"PK\x03\x04jar"), 201)
    assert (stored["key"], stored["size"]) == ("jars/udf.jar", 7)
    ok(api.put(f"{base}/jars/lib/dep.jar", headers=h, content=b"dep"), 201)
    ok(api.put(f"{base}/readme.txt", headers=h, content="héllo".encode()), 201)
    ok(api.put(f"{base}/%E6%96%87%E4%BB%B6 with space.csv", headers=h, content=b""), 201)
    listed = ok(api.get(base, headers=h))
    assert [(o["key"], o["size"]) for o in listed] == [
        ("jars/lib/dep.jar", 3),
        ("jars/udf.jar", 7),
        ("readme.txt", 6),
        ("文件 with space.csv", 0),
    ]
    assert all(o["modified"] for o in listed)
    assert [o["key"] for o in ok(api.get(base, headers=h, params={"prefix": "jars/"}))] == [
        "jars/lib/dep.jar",
        "jars/udf.jar",
    ]
    assert ok(api.get(base, headers=h, params={"prefix": "nothing"})) == []
    download = api.get(f"{base}/jars/udf.jar", headers=h)
    assert download.status_code == 200 and download.content == b"PK\x03\x04jar"
    assert download.headers["content-type"] == "application/octet-stream"
    assert api.get(f"{base}/readme.txt", headers=h).content == "héllo".encode()
    # replacing an object is whole; nothing of the upload is left beside it
    ok(api.put(f"{base}/jars/udf.jar", headers=h, content=b"v2"), 201)
    assert api.get(f"{base}/jars/udf.jar", headers=h).content == b"v2"
    with db.transaction(platform.sessions) as session:
        bucket_id = buckets.read_bucket(session, owner.account_id, "udf-store").id
    root = platform.settings.data_dir / "buckets" / str(bucket_id)
    assert files_under(root) == [
        "jars/lib/dep.jar",
        "jars/udf.jar",
        "readme.txt",
        "文件 with space.csv",
    ]
    # a key cannot be both an object and a folder of objects
    expect(api.put(f"{base}/jars", headers=h, content=b"x"), 409, "ObjectKeyConflict")
    expect(api.put(f"{base}/readme.txt/more", headers=h, content=b"x"), 409, "ObjectKeyConflict")
    expect(api.get(f"{base}/jars", headers=h), 404, "NoSuchKey")
    expect(api.get(f"{base}/missing", headers=h), 404, "NoSuchKey")
    expect(api.get(f"{objects('nope')}/a", headers=h), 404, "NoSuchBucket")
    expect(api.delete(f"{BUCKETS}/udf-store", headers=h), 409, "BucketNotEmpty")
    for key in ("jars/udf.jar", "jars/lib/dep.jar", "readme.txt", "文件 with space.csv"):
        ok(api.delete(f"{base}/{key}", headers=h), 204)
    expect(api.delete(f"{base}/readme.txt", headers=h), 404, "NoSuchKey")
    assert ok(api.get(base, headers=h)) == []
    assert list(root.rglob("*")) == []  # emptied folders go with their last object
    ok(api.delete(f"{BUCKETS}/udf-store", headers=h), 204)
    assert not root.exists()


TRAVERSALS = [
    "..%2F..%2Fetc%2Fpasswd",
    "%2E%2E%2F%2E%2E%2Fescaped",
    "%2e%2e/escaped",
    "a/%2E%2E/%2E%2E/%2E%2E/escaped",
    "a/%2E/b",
    "a%2F%2E%2F..%2Fescaped",
    "%2Fetc%2Fpasswd",
    "/etc/passwd",
    "a//b",
    "a%5C..%5C..%5Cescaped",
    "a%00b",
    "new%0Aline",
    "trailing/",
    ".rtc-upload-1234",
    "x" * 256,
    "/".join(["y"] * 600),
]


@pytest.mark.parametrize("key", TRAVERSALS)
def test_unsafe_keys_are_refused(
    api: TestClient, platform: platform_module.Platform, owner: Owner, key: str
) -> None:
    h = owner.headers
    make_bucket(api, h, "udf-store")
    before = files_under(platform.settings.data_dir.parent)
    for method in ("PUT", "GET", "DELETE"):
        response = api.request(method, f"{objects('udf-store')}/{key}", headers=h, content=b"evil")
        assert response.status_code in (400, 404), (method, key, response.text)
        body = expect(response, response.status_code)
        if response.status_code == 400:
            assert body["code"] == "InvalidObjectName", body
    assert files_under(platform.settings.data_dir.parent) == before
    assert ok(api.get(objects("udf-store"), headers=h)) == []


def test_literal_dots_and_percent_names_stay_inside(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    """Names that only look like traversal are plain names inside the bucket."""
    h = owner.headers
    make_bucket(api, h, "udf-store")
    # (the test client decodes a path twice, so `%252e` cannot stand for a literal `%2e`)
    for key in ("..a", "a..", "...", "%25/x"):
        ok(api.put(f"{objects('udf-store')}/{key}", headers=h, content=b"ok"), 201)
    keys = [o["key"] for o in ok(api.get(objects("udf-store"), headers=h))]
    assert keys == ["%/x", "...", "..a", "a.."]
    outside = [p for p in files_under(platform.settings.data_dir) if not p.startswith("buckets/")]
    assert all(not p.endswith(("x", "..a", "a..", "...")) for p in outside)


def test_size_limit(api: TestClient, platform: platform_module.Platform, owner: Owner) -> None:
    h = owner.headers
    make_bucket(api, h, "udf-store")
    base = objects("udf-store")
    # above the API's ordinary 1 MiB body limit, within the object limit
    big = b"x" * (OBJECT_LIMIT - 1)
    assert ok(api.put(f"{base}/big.bin", headers=h, content=big), 201)["size"] == len(big)
    assert ok(api.put(f"{base}/exact.bin", headers=h, content=b"y" * OBJECT_LIMIT), 201)
    refused = expect(api.put(f"{base}/huge.bin", headers=h, content=big + b"zz"), 413)
    assert refused["code"] == "PayloadTooLarge" and "2 MiB" in refused["message"]
    assert [o["key"] for o in ok(api.get(base, headers=h))] == ["big.bin", "exact.bin"]
    # every other body keeps the ordinary limit, and says so
    json_body = b'{"name": "' + b"a" * (MIB + 10) + b'"}'
    other = api.post(BUCKETS, headers={**h, "content-type": "application/json"}, content=json_body)
    assert "1 MiB" in expect(other, 413, "PayloadTooLarge")["message"]
    # the service refuses on its own too, whatever called it
    with pytest.raises(errors.PayloadTooLarge):
        principal_context = _account_principal(platform, owner)
        buckets.put_object(platform, *principal_context, "udf-store", "direct", big + b"zz")


def _account_principal(platform: platform_module.Platform, owner: Owner) -> tuple[Any, Any]:
    from rtcompute.services.kernel import principals, sessions

    token = owner.headers["Authorization"].removeprefix("Bearer ")
    return sessions.authenticate(platform, token), principals.RequestContext("", False, "")


def test_pass_role_for_ram_users(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    make_bucket(api, h, "udf-store")
    ok(api.put(f"{objects('udf-store')}/a.txt", headers=h, content=b"a"), 201)
    create_policy(api, owner, "Oss", allow("oss:*"))
    dev = ram_user(api, owner, "dev", custom=["Oss"])
    refused = expect(api.post(BUCKETS, headers=dev, json={"name": "dev-bucket"}), 403, "922019")
    assert "ram:PassRole" in refused["message"]
    zh = api.post(BUCKETS, headers={**dev, "Accept-Language": "zh-CN"}, json={"name": "dev-bucket"})
    assert expect(zh, 403, "922019")["message"] == ZH
    expect(api.put(f"{objects('udf-store')}/b.txt", headers=dev, content=b"b"), 403, "922019")
    expect(api.delete(f"{objects('udf-store')}/a.txt", headers=dev), 403, "922019")
    expect(api.delete(f"{BUCKETS}/udf-store", headers=dev), 403, "922019")
    # reading needs no PassRole
    assert [b["name"] for b in ok(api.get(BUCKETS, headers=dev))] == ["udf-store"]
    assert [o["key"] for o in ok(api.get(objects("udf-store"), headers=dev))] == ["a.txt"]
    assert api.get(f"{objects('udf-store')}/a.txt", headers=dev).content == b"a"
    create_policy(api, owner, "Pass", allow("ram:PassRole", "acs:ram:*:*:role/StreamDefaultRole"))
    attach(api, owner, "users/dev", "Pass")
    assert make_bucket(api, dev, "dev-bucket")["created_by"] == "dev@acme"
    ok(api.put(f"{objects('dev-bucket')}/b.txt", headers=dev, content=b"b"), 201)
    ok(api.delete(f"{objects('dev-bucket')}/b.txt", headers=dev), 204)
    ok(api.delete(f"{BUCKETS}/dev-bucket", headers=dev), 204)


def test_ram_user_with_only_stream_list_cannot_create(api: TestClient, owner: Owner) -> None:
    make_bucket(api, owner.headers, "udf-store")
    create_policy(api, owner, "StreamList", allow("stream:List*"))
    lister = ram_user(api, owner, "lister", custom=["StreamList"])
    refused = expect(api.post(BUCKETS, headers=lister, json={"name": "x-bucket"}), 403)
    assert refused["code"] == "Forbidden.RAM" and "oss:PutBucket" in refused["message"]
    put = api.put(f"{objects('udf-store')}/a", headers=lister, content=b"a")
    assert "oss:PutObject" in expect(put, 403, "Forbidden.RAM")["message"]
    expect(api.get(BUCKETS, headers=lister), 403, "Forbidden.RAM")
    assert ok(api.get(BUCKETS, headers=owner.headers))[0]["name"] == "udf-store"
    # a policy naming one bucket shows that bucket only
    create_policy(api, owner, "One", allow("oss:*", "acs:oss:*:*:dev-*"))
    make_bucket(api, owner.headers, "dev-one")
    one = ram_user(api, owner, "one", custom=["One"])
    assert [b["name"] for b in ok(api.get(BUCKETS, headers=one))] == ["dev-one"]
    expect(api.get(f"{BUCKETS}/udf-store", headers=one), 403, "Forbidden.RAM")


def test_bucket_rules_for_clusters(
    api: TestClient,
    platform: platform_module.Platform,
    operator: dict[str, str],  # noqa: F811
    owner: Owner,
) -> None:
    h = owner.headers
    for name, fields in (
        ("good-bucket", {}),
        ("cold-bucket", {"storage_class": "infrequent"}),
        ("open-bucket", {"acl": "public-read"}),
    ):
        make_bucket(api, h, name, **fields)
    with db.transaction(platform.sessions) as session:
        good = buckets.read_bucket(session, owner.account_id, "good-bucket")
        buckets.check_for_cluster(good)
        with pytest.raises(errors.Invalid) as cold:
            buckets.check_for_cluster(buckets.read_bucket(session, owner.account_id, "cold-bucket"))
        assert "standard" in cold.value.message and "infrequent" in cold.value.message
        with pytest.raises(errors.Invalid) as public:
            buckets.check_for_cluster(buckets.read_bucket(session, owner.account_id, "open-bucket"))
        assert "public-read" in public.value.message and "private" in public.value.message
        with pytest.raises(errors.NotFound):
            buckets.read_bucket(session, owner.account_id, "nope")
        with pytest.raises(errors.NotFound):
            buckets.read_bucket(session, "another-account", "good-bucket")
    add_zone(api, operator, "zone-a", **{"4c16g": 4})
    insert_cluster(platform, owner.account_id, "zone-a", bucket_id=good.id)
    refused = expect(api.delete(f"{BUCKETS}/good-bucket", headers=h), 409, "BucketInUse")
    assert "release" in refused["message"]
    # while a cluster uses it, the bucket stays fit for clusters
    for change in ({"acl": "public-read"}, {"storage_class": "archive"}):
        response = api.patch(f"{BUCKETS}/good-bucket", headers=h, json=change)
        assert "clusters" in expect(response, 409, "BucketInUse")["message"]
    kept = ok(api.get(f"{BUCKETS}/good-bucket", headers=h))
    assert (kept["acl"], kept["storage_class"]) == ("private", "standard")
    ok(api.patch(f"{BUCKETS}/good-bucket", headers=h, json={"acl": "private"}))
    drop_clusters(platform)
    ok(api.delete(f"{BUCKETS}/good-bucket", headers=h), 204)


def test_paths_are_checked_beyond_the_key_rules(
    api: TestClient, platform: platform_module.Platform, owner: Owner, tmp_path: Path
) -> None:
    """Defence in depth: a symbolic link planted in a bucket's directory by hand does not
    let a valid key write, read or delete outside it."""
    h = owner.headers
    make_bucket(api, h, "udf-store")
    ok(api.put(f"{objects('udf-store')}/seed", headers=h, content=b"s"), 201)
    with db.transaction(platform.sessions) as session:
        bucket_id = buckets.read_bucket(session, owner.account_id, "udf-store").id
    root = platform.settings.data_dir / "buckets" / str(bucket_id)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret").write_bytes(b"secret")
    (root / "link").symlink_to(elsewhere, target_is_directory=True)
    for method in ("PUT", "GET", "DELETE"):
        response = api.request(
            method, f"{objects('udf-store')}/link/secret", headers=h, content=b"x"
        )
        expect(response, 400, "InvalidObjectName")
    assert (elsewhere / "secret").read_bytes() == b"secret"
    assert sorted(p.name for p in elsewhere.iterdir()) == ["secret"]
    assert [o["key"] for o in ok(api.get(objects("udf-store"), headers=h))] == ["seed"]
    with pytest.raises(bucket_store.OutsideBucket):
        bucket_store.object_path(root, "../escaped")


def test_writes_are_whole_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Concurrent writers of one key leave one writer's object, whole; a write that fails
    before its rename leaves the previous object and no debris."""
    root = tmp_path / "bucket"
    contents = [bytes([65 + i]) * (256 * 1024) for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda c: bucket_store.write_object(root, "jars/udf.jar", c), contents))
    assert (root / "jars/udf.jar").read_bytes() in contents
    assert files_under(root) == ["jars/udf.jar"]

    def broken_replace(source: object, target: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(bucket_store.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        bucket_store.write_object(root, "jars/udf.jar", b"new")
    with pytest.raises(OSError, match="disk full"):
        bucket_store.write_object(root, "other.jar", b"new")
    assert (root / "jars/udf.jar").read_bytes() in contents
    assert files_under(root) == ["jars/udf.jar"]
    assert [o.key for o in bucket_store.list_objects(root)] == ["jars/udf.jar"]


def test_a_failing_disk_is_an_answer_not_a_crash(
    api: TestClient, owner: Owner, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_bucket(api, owner.headers, "udf-store")

    def broken_replace(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(bucket_store.os, "replace", broken_replace)
        response = api.put(f"{objects('udf-store')}/a.jar", headers=owner.headers, content=b"a")
    assert "No space left" in expect(response, 503, "StorageUnavailable")["message"]
    assert ok(api.get(objects("udf-store"), headers=owner.headers)) == []
