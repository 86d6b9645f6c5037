"""The isolation rules of a job's locations against real buckets on disk, through the API's
:validate (both databases): only the account's own buckets, in the project's region, that the
service role may read and write, and never out of a bucket through a symlink; what passes is
rewritten into the bucket's directory for Flink (services/jobs/runs.submission), and the
rules are checked again at start.

The SQL check itself runs on the stub engine of test_jobs_api (it answers ok): a refused
location never reaches it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from starlette.testclient import TestClient

from rtcompute.domain import ram
from rtcompute.services.jobs import runs as job_runs
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import buckets as bucket_store
from rtcompute.store import db
from rtcompute.store.tables import capacity as capacity_tables
from tests.integration.test_clusters_api import (
    add_bucket,
    operator,  # noqa: F401
    setup,  # noqa: F401
)
from tests.integration.test_jobs_api import (
    JOBS,
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
)

BUCKET = "acme-data"
OUTSIDE = "path lies outside the account's buckets; a job reaches storage only through " + (
    "oss://<bucket>/<key>"
)


def sink(path: str) -> str:
    return (
        "CREATE TABLE src (a INT) WITH ('connector' = 'datagen');\n"
        "CREATE TABLE out (a INT) WITH (\n"
        "  'connector' = 'filesystem',\n"
        f"  'path' = '{path}',\n"
        "  'format' = 'csv');\n"
        "INSERT INTO out SELECT a FROM src"
    )


def bucket_dir(platform: platform_module.Platform, name: str) -> Path:
    with db.transaction(platform.sessions) as session:
        found = session.scalars(
            select(capacity_tables.Bucket).where(capacity_tables.Bucket.name == name)
        ).one()
        root = bucket_store.directory(platform.settings.data_dir, found.id)
    root.mkdir(parents=True, exist_ok=True)
    return root


def check(api: TestClient, who: Owner, name: str, sql: str) -> dict[str, Any]:
    """Save the job's SQL (creating the job the first time) and :validate it."""
    if api.get(job_url(name), headers=who.headers).status_code == 404:
        ok(api.post(JOBS, headers=who.headers, json={"name": name, "sql": sql}), 201)
    else:
        ok(api.patch(job_url(name), headers=who.headers, json={"sql": sql}))
    found: dict[str, Any] = ok(api.post(job_url(name, ":validate"), headers=who.headers))
    return found


def refused(api: TestClient, who: Owner, path: str, says: str) -> None:
    found = check(api, who, "j", sink(path))
    assert found["ok"] is False, found
    ((line, column, message),) = [(p["line"], p["column"], p["message"]) for p in found["problems"]]
    assert (line, column) == (4, 12)
    assert message.startswith(f"path {path!r}: ") and says in message, message


def test_the_account_s_own_bucket_is_accepted_and_rewritten(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    engine: StubSqlEngine,  # noqa: F811
) -> None:
    add_bucket(api, owner, BUCKET)
    root = bucket_dir(platform, BUCKET)
    sql = (
        sink(f"oss://{BUCKET}/out/")
        + ";\nCREATE FUNCTION f AS 'x.F' USING JAR "
        + (f"'oss://{BUCKET}/udfs/f.jar'")
    )
    found = check(api, owner, "etl", sql)
    assert (found["ok"], found["problems"]) == (True, [])
    assert engine.calls[-1][2] == sql  # the check sees the tenant's own text
    # file:// inside the bucket's directory is the same place
    inside = check(api, owner, "etl", sink(f"file://{root}/out/"))
    assert inside["ok"] is True
    ok(api.patch(job_url("etl"), headers=owner.headers, json={"sql": sql}))
    ok(api.post(job_url("etl", ":publish"), headers=owner.headers))
    made = job_runs.submission(platform, job_id(platform, "etl"))
    script = made.script
    assert made.problems == ()
    assert f"'path' = 'file://{root}/out/'" in script
    assert f"USING JAR 'file://{root}/udfs/f.jar'" in script
    assert "oss://" not in script


def test_paths_outside_the_account_s_buckets_are_refused(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    engine: StubSqlEngine,  # noqa: F811
) -> None:
    add_bucket(api, owner, BUCKET)
    root = bucket_dir(platform, BUCKET)
    refused(api, owner, "file:///etc/passwd", OUTSIDE)
    refused(api, owner, "/etc/passwd", OUTSIDE)
    refused(api, owner, f"file://{platform.settings.data_dir}/rtc.db", OUTSIDE)
    refused(api, owner, "out/data", "relative paths are not allowed")
    refused(api, owner, f"oss://{BUCKET}/../x", "'..' and '.' are not allowed")
    refused(api, owner, f"file://{root}/../2/x", "'..' and '.' are not allowed")
    refused(api, owner, "hdfs://namenode/x", "the hdfs: scheme is not allowed")
    refused(api, owner, "oss://no-such-bucket/x", "bucket no-such-bucket is not a bucket of")
    # another account's bucket, by name or by its directory
    other = account(api, "globex")
    authorize_service_role(api, other)
    add_bucket(api, other, "globex-data")
    theirs = bucket_dir(platform, "globex-data")
    refused(api, owner, "oss://globex-data/x", "bucket globex-data is not a bucket of this account")
    refused(api, owner, f"file://{theirs}/x", OUTSIDE)
    # a JAR, and SET of a platform key
    script = "ADD JAR '/opt/evil.jar';\nSET 'rest.port' = '1';\n" + sink(f"oss://{BUCKET}/out/")
    found = check(api, owner, "j", script)
    assert [(p["line"], p["column"]) for p in found["problems"]] == [(1, 9), (2, 1)]
    assert found["problems"][0]["message"].startswith("jar '/opt/evil.jar': the path lies")
    assert found["problems"][1]["message"].startswith("SET 'rest.port' is not allowed")
    assert engine.calls == []  # never sent to Flink


def test_a_symlink_out_of_the_bucket_is_refused(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    tmp_path: Path,
) -> None:
    add_bucket(api, owner, BUCKET)
    root = bucket_dir(platform, BUCKET)
    secret = tmp_path / "secret"
    secret.mkdir()
    os.symlink(secret, root / "escape")
    (root / "data").mkdir()
    os.symlink(root / "data", root / "alias")  # a link that stays inside is fine
    refused(api, owner, f"oss://{BUCKET}/escape/x", f"the path leaves bucket {BUCKET}")
    refused(api, owner, f"file://{root}/escape/x", OUTSIDE)
    assert check(api, owner, "j", sink(f"oss://{BUCKET}/alias/x"))["ok"] is True


def test_a_bucket_in_another_region_is_refused(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
) -> None:
    add_bucket(api, owner, BUCKET)
    bucket_dir(platform, BUCKET)
    with db.transaction(platform.sessions) as session:
        session.execute(
            update(capacity_tables.Bucket)
            .where(capacity_tables.Bucket.name == BUCKET)
            .values(region="far-away")
        )
    refused(
        api,
        owner,
        f"oss://{BUCKET}/x",
        f"bucket {BUCKET} is in region far-away; the job's cluster reaches only storage in its "
        f"own region ({platform.settings.region})",
    )


def test_the_service_role_must_be_allowed_the_bucket(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
) -> None:
    add_bucket(api, owner, BUCKET)
    add_bucket(api, owner, "acme-other")
    bucket_dir(platform, BUCKET)
    assert check(api, owner, "etl", sink(f"oss://{BUCKET}/x"))["ok"] is True
    ok(api.post(job_url("etl", ":publish"), headers=owner.headers))
    # the role may use acme-other only
    document = json.loads(without("oss:*"))
    document["Statement"].append(
        {
            "Effect": "Allow",
            "Action": "oss:*",
            "Resource": ["acs:oss:*:*:acme-other", "acs:oss:*:*:acme-other/*"],
        }
    )
    replace_policy(api, owner, json.dumps(document))
    # the text cannot tell a sink: reading is what it asks of every location it names
    says = (
        f"the service role {ram.SERVICE_ROLE} may not read bucket {BUCKET} "
        "(oss:GetObject); grant it in RAM"
    )
    refused(api, owner, f"oss://{BUCKET}/x", says)
    assert check(api, owner, "j", sink("oss://acme-other/x"))["ok"] is True
    # checked again at start: the online job's frozen SQL no longer passes
    response = api.post(job_url("etl", ":start"), headers=owner.headers)
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "JobCheckFailed" and says in body["message"]
    assert body["problems"] == [
        {"line": 4, "column": 12, "message": f"path 'oss://{BUCKET}/x': {says}"}
    ]
    deployment = ok(api.get(job_url("etl", "/deployment"), headers=owner.headers))
    assert deployment["state"] == "online"
    # and at submission
    problems = job_runs.submission(platform, job_id(platform, "etl")).problems
    assert [p.message for p in problems] == [f"path 'oss://{BUCKET}/x': {says}"]
    expect(api.get(job_url("nope"), headers=owner.headers), 404, "JobNotFound")
