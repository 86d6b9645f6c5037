"""Red team: a tenant's SQL tries to reach what is not its own, in forms the text misses.

Every variant goes through the job's :validate and the project's sql:validate on a real
engine worker (flink-2.2.1): the text rules answer first where they can, and what Flink
resolved (each table's final options, the SETs, the functions, the operations) decides the
rest. A control script in the account's own bucket passes, so each refusal is a refusal of
the variant, not of everything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rtcompute.domain import ram, sqlscript
from rtcompute.runtime.engines import workers
from rtcompute.services.jobs import paths as job_paths
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from tests.integration.test_clusters_api import (
    add_bucket,
    operator,  # noqa: F401
    setup,  # noqa: F401
)
from tests.integration.test_job_paths import bucket_dir, check
from tests.integration.test_jobs_api import (
    PROJECT,
    owner,  # noqa: F401
    reconciler,  # noqa: F401
    settings_overrides,  # noqa: F401
)
from tests.integration.test_ram_service_role import replace_policy, without
from tests.integration.test_ram_support import API, Owner, account, authorize_service_role, ok

pytestmark = [pytest.mark.slow, pytest.mark.one_database]

BUCKET = "acme-data"
SOURCE = "CREATE TABLE src (line STRING) WITH ('connector' = 'datagen')"
INSERT = "INSERT INTO dst SELECT * FROM src"


@pytest.fixture(scope="module")
def real_pool(installed_engines: Any) -> Iterator[workers.WorkerPool]:
    pool = workers.WorkerPool(
        installed_engines.home, idle_seconds=600, request_timeout=120, start_timeout=180
    )
    yield pool
    pool.close()


@pytest.fixture
def engine(platform: platform_module.Platform, real_pool: workers.WorkerPool) -> Any:
    """The real engine worker instead of test_jobs_api's stub (the `owner` fixture's)."""
    platform.sql_engine = real_pool
    return real_pool


def table(path_literal: str, name: str = "dst") -> str:
    return (
        f"CREATE TABLE {name} (line STRING) WITH (\n"
        f"  'connector' = 'filesystem', 'path' = {path_literal}, 'format' = 'raw')"
    )


def script(*statements: str) -> str:
    return ";\n".join(statements)


def variants(target: str, own: str) -> dict[str, str]:
    """Scripts that point a table at `target` (an absolute path) in forms the text misses.
    `own` is a location in the account's own bucket (oss://bucket/)."""
    escaped = "".join(f"\\{ord(c):04X}" for c in target)
    head, tail = target[:3], target[3:]
    return {
        "plain": script(SOURCE, table(f"'{target}'"), INSERT),
        "national literal": script(SOURCE, table(f"N'{target}'"), INSERT),
        "unicode escape": script(SOURCE, table(f"U&'{escaped}'"), INSERT),
        "charset prefix": script(SOURCE, table(f"_UTF16'{target}'"), INSERT),
        "concatenation": script(SOURCE, table(f"'{head}' '{tail}'"), INSERT),
        "concatenation with a comment": script(
            SOURCE, table(f"'{head}' -- a\n '{tail}'"), INSERT
        ),
        "concatenation with // and /* */": script(
            SOURCE, table(f"'{head}' // a\n /* b */ '{tail}'"), INSERT
        ),
        "climbing out of the own bucket": script(
            SOURCE, table(f"'{own}' '../../../../../../../..{target}'"),
            INSERT,
        ),
        "concatenated key": script(
            SOURCE,
            "CREATE TABLE dst (line STRING) WITH ('connector' = 'filesystem', "
            f"'pa' 'th' = '{head}' '{tail}', 'format' = 'raw')",
            INSERT,
        ),
        "LIKE": script(
            SOURCE, table(f"'{own}'", "base"),
            f"CREATE TABLE dst WITH ('path' = N'{target}') LIKE base",
            INSERT,
        ),
        "ALTER TABLE SET": script(
            SOURCE, table(f"'{own}'"), f"ALTER TABLE dst SET ('path' = N'{target}')",
            INSERT,
        ),
        "ALTER after the INSERT, then DROP": script(
            SOURCE, table(f"'{own}'"), INSERT,
            f"CREATE TABLE other WITH ('path' = '{head}' '{tail}') LIKE dst", "DROP TABLE other",
        ),
        "CREATE TABLE AS": script(
            SOURCE,
            "CREATE TABLE dst WITH ('connector' = 'filesystem', 'format' = 'raw', "
            f"'path' = N'{target}') AS SELECT line FROM src",
        ),
        "sink hint": script(
            SOURCE, table(f"'{own}'"),
            f"INSERT INTO dst /*+ OPTIONS('path' = '{target}') */ SELECT * FROM src",
        ),
        "source hint": script(
            table(f"'{own}'", "own_src"), table(f"'{own}'"),
            f"INSERT INTO dst SELECT * FROM own_src /*+ OPTIONS('path' = '{target}') */",
        ),
        "view with a hint": script(
            table(f"'{own}'", "own_src"), table(f"'{own}'"),
            f"CREATE VIEW v AS SELECT * FROM own_src /*+ OPTIONS('path' = '{target}') */",
            "INSERT INTO dst SELECT * FROM v",
        ),
        "hints turned on first": script(
            "SET 'table.dynamic-table-options.enabled' = 'true'",
            table(f"'{own}'", "own_src"), table(f"'{own}'"),
            f"INSERT INTO dst /*+ OPTIONS('path' = '{target}') */ SELECT * FROM own_src",
        ),
        "statement set": script(
            SOURCE, table(f"'{own}'"), "BEGIN STATEMENT SET",
            f"INSERT INTO dst /*+ OPTIONS('path' = N'{target}') */ SELECT * FROM src", "END",
        ),
    }  # fmt: skip


# a job that writes somewhere (a job must): what each code form is checked beside
PIPELINE = script(
    "CREATE TABLE job_src (line STRING) WITH ('connector' = 'datagen')",
    "CREATE TABLE job_dst (line STRING) WITH ('connector' = 'blackhole')",
    "INSERT INTO job_dst SELECT * FROM job_src",
)

CODE = {
    "USING // JAR": "CREATE TEMPORARY FUNCTION f AS 'evil.F' USING // c\n JAR 'file:///tmp/e.jar'",
    "USING /* */ JAR": "CREATE FUNCTION f AS 'evil.F' USING /* c */ JAR '/tmp/e.jar'",
    "LANGUAGE // PYTHON": "CREATE TEMPORARY FUNCTION f AS 'os.system' LANGUAGE // c\n PYTHON",
    "Python system function": "CREATE TEMPORARY SYSTEM FUNCTION f AS 'os.system' LANGUAGE PYTHON",
    "LOAD // MODULE": "LOAD // c\n MODULE hive",
    "ADD JAR": "ADD -- c\n JAR '/tmp/e.jar'",
    "CREATE CATALOG": "CREATE CATALOG c WITH ('type' = 'generic_in_memory')",
    "USE MODULES": "USE MODULES core",
    "COMPILE PLAN": script(
        SOURCE, "CREATE TABLE bh (line STRING) WITH ('connector' = 'blackhole')",
        "COMPILE PLAN '/tmp/rtc-plan.json' FOR INSERT INTO bh SELECT * FROM src",
    ),
    "EXECUTE PLAN": "EXECUTE PLAN '/etc/passwd'",
    "SET pipeline.jars": "SET 'pipeline.jars' = 'file:///tmp/e.jar'",
    "SET python.files": "SET 'python.files' = '/tmp/e.py'",
}  # fmt: skip


def prepared(api: TestClient, platform: platform_module.Platform, who: Owner) -> dict[str, str]:
    """The account's bucket, another account's bucket and the platform's database."""
    add_bucket(api, who, BUCKET)
    bucket_dir(platform, BUCKET)
    other = account(api, "globex")
    authorize_service_role(api, other)
    add_bucket(api, other, "globex-data")
    theirs = bucket_dir(platform, "globex-data")
    return {
        "/etc/passwd": "/etc/passwd",
        "another account's bucket": str(theirs / "secret.csv"),
        "the platform's database": str(platform.settings.data_dir / "rtc.db"),
    }


def refused(found: dict[str, Any]) -> bool:
    return found["ok"] is False and bool(found["problems"])


def test_no_form_of_a_location_passes(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    engine: Any,
) -> None:
    targets = prepared(api, platform, owner)
    own = f"oss://{BUCKET}/out/"
    control = script(SOURCE, table(f"'{own}'"), INSERT)
    passed = check(api, owner, "control", control)
    assert (passed["ok"], passed["problems"]) == (True, []), passed
    escaped = [
        (what, form)
        for what, target in targets.items()
        for form, sql in variants(target, own).items()
        if not refused(check(api, owner, "probe", sql))
    ]
    assert escaped == [], f"these forms reached a forbidden location: {escaped}"


def test_the_resolved_options_are_what_refuses(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    engine: Any,
) -> None:
    """A literal the text cannot read is refused with the option Flink resolved, at the
    statement that made the table; the project's sql:validate obeys the same rules."""
    prepared(api, platform, owner)
    sql = script(SOURCE, table("N'/etc/passwd'"), INSERT)
    found = check(api, owner, "probe", sql)
    ((problem),) = found["problems"]
    assert (problem["line"], problem["column"]) == (2, 1)
    assert problem["message"].startswith("table dst: option 'path' = '/etc/passwd': ")
    assert "outside the account's buckets" in problem["message"]
    project_check = ok(
        api.post(f"{API}/projects/{PROJECT}/sql:validate", headers=owner.headers, json={"sql": sql})
    )
    assert project_check["ok"] is False
    assert "option 'path' = '/etc/passwd'" in project_check["problems"][0]["message"]
    plain = script(SOURCE, table("'/etc/passwd'"), INSERT)
    project_plain = ok(
        api.post(
            f"{API}/projects/{PROJECT}/sql:validate", headers=owner.headers, json={"sql": plain}
        )
    )
    assert project_plain["ok"] is False  # the text rules at the project's check too


@pytest.mark.parametrize("form", sorted(CODE))
def test_no_code_loads_in_the_shared_worker(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    engine: Any,
    tmp_path: Path,
    form: str,
) -> None:
    # a job must write somewhere: each form beside a pipeline that passes alone, so the
    # refusal is the form's, not the check's of a script that writes nothing
    assert check(api, owner, "control", PIPELINE)["ok"] is True
    found = check(api, owner, "probe", script(CODE[form], PIPELINE))
    assert refused(found), found
    assert not Path("/tmp/rtc-plan.json").exists()


def test_a_bucket_the_role_may_only_read_is_read_never_written(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,  # noqa: F811
    engine: Any,
) -> None:
    """The service role may only read acme-ref (oss:GetObject): a job reads from it, but
    writes to it in no form, the ones the text misses included; the job's sandbox mounts it
    read-only."""
    prepared(api, platform, owner)
    add_bucket(api, owner, "acme-ref")
    bucket_dir(platform, "acme-ref")
    document = json.loads(without("oss:*"))
    document["Statement"] += [
        {"Effect": "Allow", "Action": "oss:*", "Resource": [f"acs:oss:*:*:{BUCKET}/*"]},
        {"Effect": "Allow", "Action": "oss:GetObject", "Resource": ["acs:oss:*:*:acme-ref/*"]},
    ]
    replace_policy(api, owner, json.dumps(document))
    reference = table("'oss://acme-ref/in/'", name="src")
    reads = script(reference, table(f"'oss://{BUCKET}/out/'"), INSERT)
    found = check(api, owner, "reads", reads)
    assert (found["ok"], found["problems"]) == (True, []), found
    says = (
        f"the service role {ram.SERVICE_ROLE} may not read and write bucket acme-ref "
        "(oss:GetObject, oss:PutObject); grant it in RAM"
    )
    ref_dir = bucket_dir(platform, "acme-ref")
    for form in ("'oss://acme-ref/out/'", f"N'{ref_dir}/out/'", f"'{ref_dir}/' 'out/'"):
        written = check(api, owner, "writes", script(SOURCE, table(form), INSERT))
        assert written["ok"] is False, (form, written)
        assert any(says in p["message"] for p in written["problems"]), (form, written)
    # what the sandbox mounts: acme-ref read-only, the bucket the job writes to writable
    with db.transaction(platform.sessions) as session:
        resolved = job_paths.resolve(
            platform,
            session,
            account_id=owner.account_id,
            region=platform.settings.region,
            statements=sqlscript.split(reads),
        )
    assert resolved.buckets == ("acme-data", "acme-ref")
    assert resolved.writable == ("acme-data",)
