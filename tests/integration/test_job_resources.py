"""Job resources through the API (both databases): attach and detach objects of the account's
buckets (a new revision each time, frozen at publish), the rules an object must pass when it
is attached (a bucket of the account, in the project's region, the object exists, the
service role may read it, at most 32 per job) and again at check, publish and start; the
JARs reach the check as file:// URIs (the SQL engine stub records them) and the submission
(services/jobs/runs.submission). Junk never gives a 500.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from rtcompute.domain import engines as engine_rules
from rtcompute.domain import sqlscript
from rtcompute.services.jobs import resources as job_resources
from rtcompute.services.jobs import runs as job_runs
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store.tables import capacity as capacity_tables
from tests.integration.test_clusters_api import (
    add_bucket,
    operator,  # noqa: F401
    setup,  # noqa: F401
)
from tests.integration.test_job_paths import bucket_dir
from tests.integration.test_jobs_api import (
    JOBS,
    SQL,
    StubSqlEngine,
    engine,  # noqa: F401
    job_id,
    job_url,
    owner,  # noqa: F401
    reconciler,  # noqa: F401
    settings_overrides,  # noqa: F401
)
from tests.integration.test_ram_service_role import replace_policy, without
from tests.integration.test_ram_support import (
    Owner,
    account,
    authorize_service_role,
    expect,
    ok,
    ram_user,
)

BUCKET = "acme-data"
API = "/api/v1"


@dataclass
class JarRecorder:
    """The SQL engine stub, recording the JARs each check was given."""

    jars: list[tuple[str, ...]] = field(default_factory=list)

    def validate(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult:
        self.jars.append(tuple(jars))
        return sqlscript.CheckResult(True, (), "", 1.0, engine_rules.release_of(version))

    def explain(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult:
        return self.validate(version, sql, jars)


def upload(api: TestClient, who: Owner, bucket: str, key: str, content: bytes = b"PK") -> None:
    url = f"{API}/buckets/{bucket}/objects/{key}"
    ok(api.put(url, headers=who.headers, content=content), 201)


def put(api: TestClient, who: Owner, name: str, *refs: tuple[str, str]) -> Any:
    body = {"resources": [{"bucket": b, "key": k} for b, k in refs]}
    return api.put(job_url(name, "/resources"), headers=who.headers, json=body)


def listed(api: TestClient, who: Owner, name: str) -> list[tuple[str, str, str]]:
    found = ok(api.get(job_url(name, "/resources"), headers=who.headers))["resources"]
    return [(r["bucket"], r["key"], r["kind"]) for r in found]


def revision(api: TestClient, who: Owner, name: str) -> int:
    found: int = ok(api.get(job_url(name), headers=who.headers))["revision"]
    return found


@pytest.fixture
def bucket_root(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    engine: StubSqlEngine,  # noqa: F811
) -> Path:
    """The directory of bucket acme-data, holding udfs/twice.jar; and a job etl to attach to."""
    add_bucket(api, owner, BUCKET)
    root = bucket_dir(platform, BUCKET)
    upload(api, owner, BUCKET, "udfs/twice.jar")
    ok(api.post(JOBS, headers=owner.headers, json={"name": "etl", "sql": SQL}), 201)
    return root


def test_attach_detach_freeze_and_reach_the_check(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    bucket_root: Path,
) -> None:
    recorder = JarRecorder()
    platform.sql_engine = recorder
    upload(api, owner, BUCKET, "conf/app.properties", b"a=1")
    assert listed(api, owner, "etl") == []
    first = revision(api, owner, "etl")
    found = ok(put(api, owner, "etl", (BUCKET, "udfs/twice.jar"), (BUCKET, "conf/app.properties")))
    assert [(r["key"], r["kind"]) for r in found["resources"]] == [
        ("udfs/twice.jar", "jar"),
        ("conf/app.properties", "file"),
    ]
    assert revision(api, owner, "etl") == first + 1  # a save like any other
    head = ok(api.get(job_url("etl", f"/revisions/{first + 1}"), headers=owner.headers))
    assert head["message"] == (f"resources: +{BUCKET}/udfs/twice.jar +{BUCKET}/conf/app.properties")
    diff = ok(api.get(job_url("etl", f"/diff?from={first}&to={first + 1}"), headers=owner.headers))[
        "diff"
    ]
    assert f"+--   {BUCKET}/udfs/twice.jar" in diff
    # the same list again: nothing changes, no revision
    ok(put(api, owner, "etl", (BUCKET, "udfs/twice.jar"), (BUCKET, "conf/app.properties")))
    assert revision(api, owner, "etl") == first + 1
    # the check gets the JARs (not the files) as file:// URIs inside the bucket
    jar_uri = f"file://{bucket_root.resolve()}/udfs/twice.jar"
    assert ok(api.post(job_url("etl", ":validate"), headers=owner.headers))["ok"] is True
    assert recorder.jars[-1] == (jar_uri,)
    ok(api.post(job_url("etl", ":publish"), headers=owner.headers))
    assert recorder.jars[-1] == (jar_uri,)
    # detaching changes the draft only: the online job keeps what it was published with
    ok(put(api, owner, "etl", (BUCKET, "conf/app.properties")))
    assert listed(api, owner, "etl") == [(BUCKET, "conf/app.properties", "file")]
    assert revision(api, owner, "etl") == first + 2
    made = job_runs.submission(platform, job_id(platform, "etl"))
    assert (made.jars, made.problems) == ((jar_uri,), ())
    # a jar-less check never asks for an isolated worker
    ok(api.post(job_url("etl", ":validate"), headers=owner.headers))
    assert recorder.jars[-1] == ()
    # restoring a revision restores its resources
    ok(api.post(job_url("etl", f"/revisions/{first + 1}:restore"), headers=owner.headers))
    assert [k for _, k, _ in listed(api, owner, "etl")] == [
        "udfs/twice.jar",
        "conf/app.properties",
    ]


def test_what_cannot_be_attached(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    bucket_root: Path,
) -> None:
    expect(put(api, owner, "etl", ("no-such-bucket", "x.jar")), 404, "NoSuchBucket")
    expect(put(api, owner, "etl", (BUCKET, "udfs/missing.jar")), 404, "NoSuchKey")
    expect(put(api, owner, "etl", (BUCKET, "udfs")), 404, "NoSuchKey")  # a directory
    expect(put(api, owner, "etl", (BUCKET, "../x.jar")), 400, "InvalidObjectName")
    twice = (BUCKET, "udfs/twice.jar")
    expect(put(api, owner, "etl", twice, twice), 400, "InvalidParameter.JobResource")
    many = [(BUCKET, f"k{i}.jar") for i in range(33)]
    expect(put(api, owner, "etl", *many), 400, "JobResourceLimitExceeded")
    expect(put(api, owner, "nope", twice), 404, "JobNotFound")
    # another account's bucket is not this account's
    other = account(api, "globex")
    authorize_service_role(api, other)
    add_bucket(api, other, "globex-data")
    bucket_dir(platform, "globex-data")
    upload(api, other, "globex-data", "theirs.jar")
    expect(put(api, owner, "etl", ("globex-data", "theirs.jar")), 404, "NoSuchBucket")
    # the service role must be allowed to read the object
    document = json.loads(without("oss:*"))
    replace_policy(api, owner, json.dumps(document))
    response = put(api, owner, "etl", twice)
    expect(response, 400, "JobResourceAccessDenied")
    assert "oss:GetObject" in response.json()["message"]
    assert listed(api, owner, "etl") == []
    # junk
    for body in ({}, {"resources": "x"}, {"resources": [{"bucket": 1}]}, [], None):
        response = api.put(job_url("etl", "/resources"), headers=owner.headers, json=body)
        assert response.status_code == 422, response.text
    response = put(api, owner, "etl", ("", "x.jar"))
    assert response.status_code == 400, response.text
    response = put(api, owner, "etl", (BUCKET, "a\x00b"))
    assert response.status_code in (400, 422), response.text


def test_the_platforms_own_objects_are_neither_offered_nor_attached(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    bucket_root: Path,
) -> None:
    """Checkpoints, savepoints and HA metadata go below `rtcompute/` of a state bucket (as
    test_job_reconciler.py sees the runs' directories); the picker does not offer them and
    the API does not attach them (in any bucket: any bucket may be a job's state bucket)."""
    for key in (
        "rtcompute/jobs/alpha/1/checkpoints/0f3a/chk-7/_metadata",
        "rtcompute/jobs/alpha/1/savepoints/savepoint-0f3a-1/udf.jar",
    ):
        path = bucket_root / key
        path.parent.mkdir(parents=True)
        path.write_bytes(b"PK")
    upload(api, owner, BUCKET, "rtcompute-udfs/mine.jar")  # only the folder is the platform's
    offered = job_resources.candidates(platform, owner.account_id, "alpha")
    assert [(r.bucket, r.key) for r in offered if r.bucket == BUCKET] == [
        (BUCKET, "rtcompute-udfs/mine.jar"),
        (BUCKET, "udfs/twice.jar"),
    ]
    jar = (BUCKET, "rtcompute/jobs/alpha/1/savepoints/savepoint-0f3a-1/udf.jar")
    response = put(api, owner, "etl", jar)
    body = expect(response, 400, "JobResourcePlatformObject")
    assert body["message"] == (
        f"resource {BUCKET}/rtcompute/jobs/alpha/1/savepoints/savepoint-0f3a-1/udf.jar: objects "
        "under rtcompute/ are the platform's own (jobs' checkpoints, savepoints and HA "
        "metadata), not a job's resources: attach a JAR or file of your own"
    )
    zh = {**owner.headers, "Accept-Language": "zh-CN"}
    url = job_url("etl", "/resources")
    body = {"resources": [{"bucket": jar[0], "key": jar[1]}]}
    message = api.put(url, headers=zh, json=body).json()["message"]
    assert "rtcompute/ 下的对象属于平台自身" in message and "请挂载你自己的 JAR 或文件" in message
    assert listed(api, owner, "etl") == []
    ok(put(api, owner, "etl", (BUCKET, "rtcompute-udfs/mine.jar")))


def test_a_bucket_in_another_region_is_refused(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    bucket_root: Path,
) -> None:
    with db.transaction(platform.sessions) as session:
        session.execute(
            update(capacity_tables.Bucket)
            .where(capacity_tables.Bucket.name == BUCKET)
            .values(region="far-away")
        )
    response = put(api, owner, "etl", (BUCKET, "udfs/twice.jar"))
    expect(response, 400, "JobResourceWrongRegion")
    assert "in region far-away" in response.json()["message"]


def test_resources_are_checked_again_at_check_publish_and_start(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    bucket_root: Path,
) -> None:
    ok(put(api, owner, "etl", (BUCKET, "udfs/twice.jar")))
    (bucket_root / "udfs" / "twice.jar").unlink()
    gone = f"resource {BUCKET}/udfs/twice.jar: object udfs/twice.jar does not exist in {BUCKET}"
    checked = ok(api.post(job_url("etl", ":validate"), headers=owner.headers))
    assert checked["ok"] is False
    assert checked["problems"] == [{"line": 1, "column": 1, "message": gone}]
    refused = api.post(job_url("etl", ":publish"), headers=owner.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "JobCheckFailed")
    upload(api, owner, BUCKET, "udfs/twice.jar")
    ok(api.post(job_url("etl", ":publish"), headers=owner.headers))
    (bucket_root / "udfs" / "twice.jar").unlink()
    response = api.post(job_url("etl", ":start"), headers=owner.headers)
    assert (response.status_code, response.json()["code"]) == (409, "JobCheckFailed")
    assert response.json()["problems"][0]["message"] == gone
    made = job_runs.submission(platform, job_id(platform, "etl"))
    assert made.jars == () and [p.message for p in made.problems] == [gone]


def test_a_read_only_user_sees_but_cannot_change_resources(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    bucket_root: Path,
) -> None:
    reader = ram_user(api, owner, "reader", system=["StreamReadOnlyAccess"])
    assert ok(api.get(job_url("etl", "/resources"), headers=reader)) == {"resources": []}
    body = {"resources": [{"bucket": BUCKET, "key": "udfs/twice.jar"}]}
    response = api.put(job_url("etl", "/resources"), headers=reader, json=body)
    expect(response, 403)
    assert listed(api, owner, "etl") == []
