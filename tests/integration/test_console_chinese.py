"""Every page of the console in Chinese, with data in it (issue 18, "Chinese everywhere").

The test makes an installation a Chinese-speaking team would have after a few days (an
account with its alias, RAM users, a group, custom policies with versions, a role, the
service role authorized, access keys, paid orders, a shared project, a running cluster with
its network, subnet and bucket with objects, engine versions installed, folders, jobs with
revisions, resources, a job that ran with its events, savepoints and logs; the operator
account), then asks for EVERY GET page of the console, enumerated from the console's own
routers so that a new page is walked without anyone adding it here, with `?lang=zh_CN`, as
the account and as the operator. Each page's visible text (tests/visible_text.py) must hold
no English word that is not a product name or unit (ALLOWED_WORDS) nor a name or value the
test made or the platform ships with (`known_values`). Templates mark names and values with
translate="no".

No reconciler runs: the test plays the reconcilers' part as test_console_jobs.py does (the
cluster running, the engine installed, the job's run with its log files and readings).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.testclient import TestClient

from rtcompute.console import routes as console_routes
from rtcompute.domain import engines as engine_rules
from rtcompute.domain import jobs as job_rules
from rtcompute.domain import ram as ram_rules
from rtcompute.reconcilers import clusters as cluster_reconciler
from rtcompute.services.kernel import accounts
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store.tables import capacity as capacity_tables
from tests.conftest import PASSWORD, FakeClock
from tests.integration import test_console_jobs as job_pages
from tests.integration.test_console import signin_via_form
from tests.integration.test_console_capacity import post
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    attach,
    create_group,
    create_policy,
    document,
    ok,
    paid_order,
    ram_user,
)
from tests.unit.test_cluster_reconciler import FakeProvider
from tests.visible_text import english_words, visible_text

# the engine and job pages' fixtures: a running cluster stream1 with project `inside` and
# flink-2.2.1 installed, the SQL check answered by a stub with Flink's shape of answer
settings_overrides = job_pages.settings_overrides
token = job_pages.token
cluster = job_pages.cluster
engine = job_pages.engine
PROJECT = job_pages.PROJECT
JOBS = job_pages.JOBS
V2 = job_pages.V2

# Product names, units and the guide's own Latin terms, which a Chinese page keeps as they are
# (the guide writes 'Flink SQL', 'CU', 'RAM 用户', 'AccessKey', '专有网络 VPC', ...).
ALLOWED_WORDS = frozenset(
    word.lower()
    for word in (
        # products and components
        "Flink",
        "Blink",
        "PyFlink",
        "ZooKeeper",
        "JobManager",
        "TaskManager",
        "rtcompute",
        "Kubernetes",
        "Java",
        "JavaScript",
        # the web's word for an HTTP callback; Chinese consoles write it as is
        "Webhook",
        # the guide's terms
        "SQL",
        "CU",
        "RAM",
        "API",
        "CLI",
        "JSON",
        "OSS",
        "ID",
        "URL",
        "MFA",
        "TOTP",
        "AccessKey",
        "VPC",
        "UDF",
        "JAR",
        "CPU",
        "SDK",
        "QPS",  # the guide's sizing: QPS
        "IP",
        "IPv",  # IPv4
        "ARN",
        "TTL",  # Flink's state TTL
        "current",  # the guide keeps it: 设置为current, current 版本
        "stable",  # the guide's tags: 标签 stable / beta
        "beta",
        "Master",  # the guide: 整个集群由Master和Slave两部分构成
        "Slave",
        # units
        "GB",
        "MB",
        "KB",
        "GiB",
        "MiB",
        "KiB",
        "UTC",
    )
)

# Identifiers of a known shape, values wherever they appear in a sentence: RAM and service
# actions (`ram:CreateUser`, `stream:*`, `ecs:CreateSecurityGroup`), resource names
# (`acs:stream:*:*:projectname`), Flink configuration keys and files (`state.checkpoints.dir`,
# `flink-conf.yaml`) and the error codes (`Forbidden.RAM`, `EntityNotExist.User`).
VALUE_PATTERNS = (
    re.compile(r"\bacs:[^\s，。；：、）)]*"),
    re.compile(r"\b[a-z]+:[A-Za-z*]+\b"),
    re.compile(r"\b[a-z]+(?:[.-][a-z]+)+\.(?:yaml|dir|name|interval|mode)\b"),
    re.compile(r"\b[A-Z][A-Za-z]+\.[A-Z][A-Za-z.]+\b"),
    # the SQL operations the guide's sizing names (例如，JOIN、WINDOW、GROUP BY 等操作)
    re.compile(r"\b(?:JOIN|WINDOW|GROUP BY)\b"),
)
# The names of the policy language's elements (Version, Statement, Effect, ...): a
# document's keys, named as such in the sentences that explain how to write one.
POLICY_ELEMENTS = (
    "Version",
    "Statement",
    "Effect",
    "NotAction",
    "Action",
    "NotResource",
    "Resource",
    "Condition",
    "Allow",
    "Deny",
)

# GET routes that return something other than a page, walked for their status only
NOT_PAGES = {
    "/console/projects/{project}/jobs/{job}/metrics.json",  # JSON for the charts
    "/console/buckets/{bucket}/objects/{key:path}",  # a download (an attachment)
}
# the parts pages load with htmx besides the `/live` ones (which are found by their name)
FRAGMENTS = {
    "/console/purchase/price",
    "/console/purchase/sizing",
    "/console/purchase/quote",
    "/console/exclusive-clusters/new/placement",
}
# Pages only the operator may see: the account gets the (Chinese) 403 page there.
OPERATOR_ONLY = {"/console/accounts", "/console/payments", "/console/zones", "/console/hosts"}

JOB = "etl_job"  # a draft with revisions, resources and a folder
LIVE = "live_job"  # a job that went online and ran
OBJECT = "lib/udf-1.0.jar"
LOG = "taskmanager-0.out"
PENDING = {"mode": "shared", "cu": 1, "months": 1, "agree_to_terms": True}  # not paid

# the values to put in each path parameter; routes where a name means two things say which
PATH_VALUES: dict[str, list[str]] = {
    "alias": ["acme"],
    "project": [PROJECT, "analytics"],
    "cluster": ["stream1"],
    "network": ["vpc1"],
    "bucket": ["udf-bucket"],
    "key:path": [OBJECT],
    "job": [JOB, LIVE],
    "user": ["dev"],
    "group": ["analysts"],
    "role": ["etl-runner"],
}
PER_ROUTE: dict[str, list[dict[str, str]]] = {
    "/console/projects/{project}/jobs/{job}/logs/{name}": [
        {"project": PROJECT, "job": LIVE, "name": LOG},
        {"project": PROJECT, "job": LIVE, "name": "flink-jobmanager-0-host.log"},
    ],
    "/console/projects/{project}/jobs/{job}/online": [{"project": PROJECT, "job": LIVE}],
    "/console/projects/{project}/jobs/{job}/online/live": [{"project": PROJECT, "job": LIVE}],
    "/console/projects/{project}/jobs/{job}": [
        {"project": PROJECT, "job": JOB},
        {"project": PROJECT, "job": LIVE},
    ],
    "/console/projects/{project}/jobs/{job}/revisions": [{"project": PROJECT, "job": JOB}],
    "/console/projects/{project}/jobs/{job}/metrics.json": [{"project": PROJECT, "job": LIVE}],
    "/console/ram/policies/{policy_type}/{name}": [
        {"policy_type": "Custom", "name": "ReadJobs"},
        {"policy_type": "System", "name": "AdministratorAccess"},
        {"policy_type": "Custom", "name": ram_rules.SERVICE_ROLE_POLICY},
    ],
    "/console/ram/policies/{policy_type}/{name}/versions/{version_id}": [
        {"policy_type": "Custom", "name": "ReadJobs", "version_id": "v1"},
        {"policy_type": "Custom", "name": "ReadJobs", "version_id": "v2"},
    ],
}
# more ways to see a page: its query strings (tabs, filters, what a fragment is asked)
QUERIES: dict[str, list[str]] = {
    "/console/ram/policies": ["", "type=System", "type=Custom"],
    "/console/clusters/{cluster}/versions": ["tab=installable", "tab=installed"],
    "/console/clusters/{cluster}/versions/live": ["tab=installable", "tab=installed"],
    "/console/pool/versions": ["tab=installable", "tab=installed"],
    "/console/pool/versions/live": ["tab=installable", "tab=installed"],
    "/console/projects/{project}/jobs": ["", "folder=/etl"],
    "/console/projects/{project}/jobs/{job}/revisions": ["", "from=1&to=3"],
    "/console/purchase/price": [
        "mode=shared&cu=3&months=2",
        "mode=exclusive&master_type=4c16g&master_count=2&slave_type=4c16g&slave_count=1"
        "&months=1&billing=subscription",
        "mode=exclusive&master_type=4c16g&master_count=1&slave_type=4c16g&slave_count=2"
        "&billing=payg",
    ],
    "/console/purchase/sizing": ["qps=50000&complexity=complex", "qps=abc"],
    "/console/purchase/quote": ["quote_cu=30&ha=true", "quote_cu=0"],
    "/console/exclusive-clusters/new/placement": ["network=vpc1"],
    "/console/audit": ["", "outcome=denied"],
    "/console/ram/service-role": [""],
}
NOT_FOUND_PAGES = ("/console/ram/users/nobody", "/console/clusters/nothere/versions")


def known_values(platform: platform_module.Platform) -> tuple[str, ...]:
    """Names and values on the pages that are not words to translate: what the test typed,
    and what the platform ships with (system policies, the service role, catalog versions,
    machine types, the region, action names)."""
    made = (
        "acme",
        "operator",
        "ops@acme.example",
        PROJECT,
        "analytics",
        "stream1",
        "vpc1",
        "sw1",
        "zone-a",
        "udf-bucket",
        OBJECT,
        "notes.txt",
        JOB,
        LIVE,
        "/etl",
        "dev",
        "one",
        "OneProject",
        "Dev Lee",
        "analysts",
        "ReadJobs",
        "etl-runner",
        LOG,
        "flink-jobmanager-0-host.log",
        "java.lang.RuntimeException: boom (root exception)",
        "first draft",
        "nobody",  # the names the not-found pages were asked for
        "nothere",
    )
    shipped = (
        *ram_rules.SYSTEM_POLICIES,
        ram_rules.SERVICE_ROLE,
        ram_rules.SERVICE_ROLE_POLICY,
        ram_rules.SERVICE_PRINCIPAL,
        *(entry.name for entry in engine_rules.DEFAULT_CATALOG),
        "4c16g",
        "8c32g",
        platform.settings.region,
        *POLICY_ELEMENTS,
    )
    return made + shipped


# ---- the data --------------------------------------------------------------------------------


@pytest.fixture
def owner(api: TestClient, platform: platform_module.Platform) -> Owner:
    """The operator account first (the installation's first start), then acme."""
    assert accounts.bootstrap(platform) is not None
    return account(api, "acme")


def seed(
    api: TestClient, owner: Owner, token: str, platform: platform_module.Platform
) -> dict[str, list[str]]:
    """Everything but the cluster, the project and the engine (the fixtures made those);
    the path values only known once made (the orders' ids)."""
    headers = owner.headers
    # RAM: a user in a group, a custom policy with two versions, a role, keys
    create_policy(api, owner, "ReadJobs", allow(["stream:Describe*", "stream:List*"]))
    version = {"document": document(allow("stream:*")), "set_as_default": True}
    ok(api.post(f"{API}/ram/policies/Custom/ReadJobs/versions", headers=headers, json=version), 201)
    ram_user(
        api,
        owner,
        "dev",
        custom=["ReadJobs"],
        display_name="Dev Lee",
        password=PASSWORD,
        console_enabled=True,
    )
    create_group(api, owner, "analysts", ["dev"])
    # a RAM user granted one project (guide: acs:stream:*:*:projectname) walks the console too
    create_policy(api, owner, "OneProject", allow("stream:*", "acs:stream:*:*:inside"))
    ram_user(api, owner, "one", custom=["OneProject"], password=PASSWORD, console_enabled=True)
    attach(api, owner, "groups/analysts", "StreamReadOnlyAccess", "System")
    role = {"name": "etl-runner", "trust_policy": None}
    ok(api.post(f"{API}/ram/roles", headers=headers, json=role), 201)
    attach(api, owner, "roles/etl-runner", "ReadJobs")
    assert post(api, "/console/access-keys", token).status_code in (200, 303)
    # orders: a paid shared order not used yet (an uninitialized instance), a pending one
    unused = paid_order(api, owner, cu=2)
    pending = ok(api.post(f"{API}/orders", headers=headers, json=PENDING), 201)
    # objects in the bucket
    for key, body in ((OBJECT, b"PK\x03\x04jar"), ("notes.txt", b"hello")):
        uploaded = api.post(
            "/console/buckets/udf-bucket/objects",
            data={"csrf_token": token, "key": key},
            files={"file": (key.rsplit("/", 1)[-1], body)},
            follow_redirects=False,
        )
        assert uploaded.status_code == 303, uploaded.text[:800]
    # jobs: a folder, a draft with revisions and a resource, a job that went online and ran
    assert job_pages.folder_post(api, f"{JOBS}/folders", token, path="/etl").status_code == 303
    job = job_pages.new_job(api, token, JOB, "/etl")
    form = job_pages.editor_form(token, job_pages.BROKEN, 1, message="first draft")
    assert job_pages.send(api, f"{job}/save", form).status_code == 303
    attached = post(api, f"{job}/resources/attach", token, resource=f"udf-bucket/{OBJECT}")
    assert attached.status_code == 303, attached.text[:800]
    live = job_pages.new_job(api, token, LIVE)
    form = job_pages.editor_form(token, job_pages.FIXED, 1)
    assert job_pages.send(api, f"{live}/save", form).status_code == 303
    assert post(api, f"{live}/publish", token).status_code == 303
    assert post(api, f"{live}/start", token, mode="stateless").status_code == 303
    job_pages.ran(platform, LIVE, Path(platform.settings.data_dir) / "runs" / LIVE)
    job_pages.reconciled(platform, LIVE, job_rules.RUNNING, flink_state="RUNNING", restarts=1)
    every_order = ok(api.get(f"{API}/orders", headers=headers))
    assert {unused["id"], pending["id"]} <= {order["id"] for order in every_order}
    cluster_failed(platform, "stream1")
    return {"order_id": [str(order["id"]) for order in every_order]}


def cluster_failed(platform: platform_module.Platform, name: str) -> None:
    """The cluster reconciler's part, last: two real passes with a provider that starts no
    process (its fake), the last slave's agent never answering; the cluster fails, its page
    shows every component's message and the cluster's, written by the reconciler."""
    provider = FakeProvider()
    reconciler = cluster_reconciler.ClusterReconciler(platform, provider)
    reconciler.reconcile_once()  # places the nodes, starts their components
    provider.serve_all()
    last = max(node for node, _ in provider.running if node.startswith("slave-"))
    provider.answering.discard((last, "agent"))
    clock = platform.clock
    assert isinstance(clock, FakeClock)
    clock.advance(seconds=platform.settings.local_provider.start_timeout_seconds + 1)
    reconciler.reconcile_once()
    with db.transaction(platform.sessions) as session:
        row = session.scalars(
            select(capacity_tables.Cluster).where(capacity_tables.Cluster.name == name)
        ).one()
        assert row.state == "failed" and row.message_zh.startswith(f"{last} 的节点代理")


# ---- the walk --------------------------------------------------------------------------------


def page_routes() -> list[APIRoute]:
    """Every GET route of the console, from its routers."""
    found = []
    for router in console_routes.ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and "GET" in route.methods:
                found.append(route)
    return found


PARAMETER = re.compile(r"{([^}]+)}")


def addresses(route: APIRoute, made: dict[str, list[str]]) -> list[str]:
    """The route's path with its parameters filled from the data; fails naming the route
    when a parameter has no value."""
    names = PARAMETER.findall(route.path)
    if route.path in PER_ROUTE:
        fills = PER_ROUTE[route.path]
    else:
        known = PATH_VALUES | made
        missing = [name for name in names if name not in known]
        assert not missing, f"{route.path}: no value for {missing}; add one to PATH_VALUES"
        fills = [
            dict(zip(names, combination, strict=True))
            for combination in itertools.product(*(known[name] for name in names))
        ]
    paths = []
    for fill in fills:
        path = route.path
        for name in names:
            path = path.replace("{" + name + "}", fill[name])
        paths.append(path)
    return paths


def english_on(page: str, values: tuple[str, ...]) -> list[str]:
    """The English words a person sees on `page` that are not allowed names or values."""
    return english_words(
        visible_text(page),
        allowed_words=ALLOWED_WORDS,
        values=values,
        value_patterns=VALUE_PATTERNS,
    )


def with_language(path: str, query: str) -> str:
    return f"{path}?{query + '&' if query else ''}lang=zh_CN"


def walk(
    api: TestClient,
    made: dict[str, list[str]],
    values: tuple[str, ...],
    *,
    operator: bool,
    ram_user: bool = False,
) -> dict[str, list[str]]:
    """Every page in Chinese; the English words found, per page. A RAM user is refused
    some pages: the refusal must be Chinese too."""
    leaks: dict[str, list[str]] = {}
    walked = 0
    for route in page_routes():
        if operator and "{" in route.path:
            continue  # the data is acme's: the operator walks its own pages, without data
        for path in addresses(route, made):
            for query in QUERIES.get(route.path, [""]):
                address = with_language(path, query)
                # the fragments pages load with htmx are asked as htmx asks them
                fragment = route.path.endswith("/live") or route.path in FRAGMENTS
                response = api.get(address, headers={"HX-Request": "true"} if fragment else {})
                expected = 403 if route.path in OPERATOR_ONLY and not operator else 200
                if ram_user and response.status_code == 403:
                    expected = 403
                walked += 1
                if response.status_code != expected:
                    leaks[address] = [f"(status {response.status_code}, not {expected})"]
                    continue
                if route.path in NOT_PAGES:
                    continue
                assert response.headers["content-type"].startswith("text/html"), address
                words = english_on(response.text, values)
                if words:
                    leaks[address] = words
    for path in NOT_FOUND_PAGES:
        response = api.get(with_language(path, ""))
        assert response.status_code in ((403, 404) if ram_user else (404,)), path
        words = english_on(response.text, values)
        if words:
            leaks[path] = words
    # the account walks every route at least once, some several times
    assert operator or walked > len(page_routes())
    return leaks


def report(leaks: dict[str, list[str]]) -> str:
    return "English on zh-CN pages:\n" + "\n".join(
        f"  {page}: {' '.join(words)}" for page, words in sorted(leaks.items())
    )


def test_every_console_page_is_chinese_with_data_in_it(
    api: TestClient,
    owner: Owner,
    token: str,
    engine: Any,
    platform: platform_module.Platform,
) -> None:
    del engine
    made = seed(api, owner, token, platform)
    values = known_values(platform)
    leaks = {
        f"acme {page}": words for page, words in walk(api, made, values, operator=False).items()
    }
    api.cookies.clear()
    signin_via_form(api, "operator")
    leaks |= {
        f"operator {page}": words for page, words in walk(api, made, values, operator=True).items()
    }
    api.cookies.clear()
    signin_via_form(api, "acme", "one")
    for page in ("/console", "/console/projects/inside"):
        assert api.get(with_language(page, "")).status_code == 200, page
    leaks |= {
        f"RAM user {page}": words
        for page, words in walk(api, made, values, operator=False, ram_user=True).items()
    }
    api.cookies.clear()
    # the sign-in pages, signed out
    for path in ("/login", "/login/acme", "/signup"):
        response = api.get(with_language(path, ""))
        assert response.status_code == 200, path
        words = english_on(response.text, values)
        if words:
            leaks[f"signed out {path}"] = words
    assert not leaks, report(leaks)


# ---- the extractor can fail ------------------------------------------------------------------

SNIPPET = """<html><head><title>作业</title><style>.a{color:red}</style></head><body>
<h1>作业列表</h1><p>The job failed to start.</p>
<script>var shown = "never";</script><code>SELECT 1</code><pre>INFO started</pre>
<span translate="no">etl_job <b>inner name</b></span><input value="typed text">
<input type="submit" value="Save"><a title="Open the page" href="/x">打开</a>
<p>Flink 引擎版本 flink-2.2.1，4 CU，2 GB<br>作业 acme <a lang="en" href="?lang=en">English</a>
<button data-confirm="Delete it?">删除</button></body></html>"""


def test_the_extractor_finds_english_and_skips_values() -> None:
    pieces = visible_text(SNIPPET)
    assert "作业列表" in pieces and "The job failed to start." in pieces
    joined = " ".join(pieces)
    for hidden in ("never", "SELECT", "INFO", "etl_job", "inner name", "typed text", "color"):
        assert hidden not in joined, hidden
    words = english_words(pieces, allowed_words=ALLOWED_WORDS, values=("acme",))
    english = "The job failed to start Save Open the page Delete it"
    assert words == english.split()
    # an action name, a resource and a configuration key are values by their shape
    sentence = ["须允许 ram:CreateUser 于 acs:ram::1:user/* 及 state.checkpoints.dir 配置项"]
    assert (
        english_words(
            sentence, allowed_words=ALLOWED_WORDS, values=(), value_patterns=VALUE_PATTERNS
        )
        == []
    )
    assert english_words(sentence, allowed_words=ALLOWED_WORDS, values=()) == [
        "CreateUser",
        "acs",
        "user",
        "state",
        "checkpoints",
        "dir",
    ]
    # a name typed by a user is not a word to translate once known
    assert english_words(["作业 Dev Lee"], allowed_words=ALLOWED_WORDS, values=("Dev Lee",)) == []
    assert english_words(["作业 Dev Lee"], allowed_words=ALLOWED_WORDS, values=()) == ["Dev", "Lee"]


# ---- the platform's own descriptions and notes carry their Chinese -------------------------


def test_every_shipped_description_and_note_has_its_chinese() -> None:
    assert set(ram_rules.SYSTEM_POLICY_DESCRIPTIONS_ZH) == set(ram_rules.SYSTEM_POLICIES)
    for english, chinese in ram_rules.SHIPPED_DESCRIPTIONS_ZH.items():
        assert (
            english
            and chinese
            and not english_words([chinese], allowed_words=ALLOWED_WORDS, values=known_names())
        ), (english, chinese)
        assert ram_rules.description_in("zh_CN", english) == chinese
        assert ram_rules.description_in("en", english) == english
    assert ram_rules.description_in("zh_CN", "written by the account") == "written by the account"
    for entry in engine_rules.DEFAULT_CATALOG:
        chinese = engine_rules.notes_in("zh_CN", entry.notes)
        assert chinese != entry.notes and not english_words(
            [chinese], allowed_words=ALLOWED_WORDS, values=(), value_patterns=VALUE_PATTERNS
        ), entry.name
    assert engine_rules.notes_in("zh", "the operator's own note") == "the operator's own note"


def known_names() -> tuple[str, ...]:
    return (*ram_rules.SYSTEM_POLICIES, ram_rules.SERVICE_ROLE, ram_rules.SERVICE_ROLE_POLICY)


def test_the_api_answers_the_platforms_descriptions_in_the_asked_language(
    api: TestClient,
) -> None:
    owner = account(api, "acme")
    zh = owner.headers | {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
    create_policy(api, owner, "ReadJobs", allow("stream:List*"))
    english = ok(api.get(f"{API}/ram/policies/System/AdministratorAccess", headers=owner.headers))
    chinese = ok(api.get(f"{API}/ram/policies/System/AdministratorAccess", headers=zh))
    assert english["description"] == ram_rules.SYSTEM_POLICIES["AdministratorAccess"][0]
    assert chinese["description"] == ram_rules.SYSTEM_POLICY_DESCRIPTIONS_ZH["AdministratorAccess"]
    listed = ok(api.get(f"{API}/ram/policies", headers=zh))["policies"]
    by_name = {p["name"]: p["description"] for p in listed}
    assert (
        by_name["StreamFullAccess"] == ram_rules.SYSTEM_POLICY_DESCRIPTIONS_ZH["StreamFullAccess"]
    )
    assert by_name["ReadJobs"] == ""  # what the account wrote (nothing) is answered as written
    ram_user(api, owner, "dev", system=["RAMFullAccess"])
    attached = ok(api.get(f"{API}/ram/users/dev/policies", headers=zh))
    assert [a["description"] for a in attached] == [
        ram_rules.SYSTEM_POLICY_DESCRIPTIONS_ZH["RAMFullAccess"]
    ]
    role = ok(api.post(f"{API}/ram/service-role", headers=zh))
    assert role["description"] == ram_rules.SERVICE_ROLE_DESCRIPTION_ZH
    assert ok(api.get(f"{API}/ram/service-role", headers=owner.headers))["description"] == (
        ram_rules.SERVICE_ROLE_DESCRIPTION
    )
    roles = ok(api.get(f"{API}/ram/roles", headers=zh))["roles"]
    assert [r["description"] for r in roles] == [ram_rules.SERVICE_ROLE_DESCRIPTION_ZH]
    policy = ok(api.get(f"{API}/ram/policies/Custom/{ram_rules.SERVICE_ROLE_POLICY}", headers=zh))
    assert policy["description"] == ram_rules.SERVICE_ROLE_POLICY_DESCRIPTION_ZH
    notes = {e["name"]: e["notes"] for e in ok(api.get(f"{API}/engines", headers=zh))}
    shipped = {entry.name: entry.notes for entry in engine_rules.DEFAULT_CATALOG}
    assert notes[V2] == engine_rules.NOTES_ZH[shipped[V2]] != shipped[V2]
    in_english = ok(api.get(f"{API}/engines", headers=owner.headers))
    assert {e["name"]: e["notes"] for e in in_english}[V2] == shipped[V2]


def test_the_answers_to_forms_are_chinese_too(
    api: TestClient, platform: platform_module.Platform
) -> None:
    """What a form's post shows (the created key's secret, a document's problems as one
    types, a refusal on the form and in the flash area, an error page) has no English."""
    account(api, "acme")
    token = signin_via_form(api, "acme")
    values = (*known_values(platform), "bad name!")
    bad_document = '{"Version": "1", "Statement": [{"Effect": "Maybe"}]}'
    htmx = {"HX-Request": "true", "X-CSRF-Token": token}
    answers = {
        "access key": api.post(f"{with_language('/console/access-keys', '')}", headers=htmx),
        "problems": api.post(
            with_language("/console/ram/policies/validate", ""),
            data={"kind": "permission", "document": bad_document},
            headers=htmx,
        ),
        "refused form": api.post(
            with_language("/console/ram/users", ""),
            data={"csrf_token": token, "name": "bad name!"},
            follow_redirects=False,
        ),
        "refused in flash": api.post(
            with_language("/console/ram/users", ""), data={"name": "bad name!"}, headers=htmx
        ),
        "error page": api.post(
            with_language("/console/ram/users/nobody/access-keys", ""),
            data={"csrf_token": token},
            follow_redirects=False,
        ),
    }
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "access key": 200,
        "problems": 200,
        "refused form": 400,
        "refused in flash": 400,
        "error page": 404,
    }
    assert "data-secret" in answers["access key"].text
    assert "Statement[0].Resource：不能缺少" in answers["problems"].text
    leaks = {name: english_on(answer.text, values) for name, answer in answers.items()}
    assert not any(leaks.values()), leaks
