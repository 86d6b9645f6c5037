"""Engine versions through the API (guide ch. 7, 独享集群Blink版本管理), on both databases.

Every rule and message of the chapter: the catalog (newest first, the default, retired
versions flagged), installs on a cluster (at most 3, one at a time, the cluster shows
`deploying`, beta only when confirmed), set current, uninstall (not the current one, not
while an online job references it, with the guide's message), a failed install (the cluster
keeps running with its previous versions, an alert goes out), machine copies shared by the
clusters that use them, the shared pool (operator only), RAM, and the SQL check's 30006.
The engine reconciler runs here with a fake installer (real installs have their own tests);
the SQL check runs with a fake engine (the real workers have their own tests).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from rtcompute.domain import cluster_events, identities, sqlscript
from rtcompute.domain import engines as engine_rules
from rtcompute.domain import jobs as job_rules
from rtcompute.reconcilers import engines as engine_reconciler
from rtcompute.services.capacity import buckets
from rtcompute.services.engines import catalog as engines
from rtcompute.services.engines import copies as engine_copies
from rtcompute.services.jobs import drafts as jobs
from rtcompute.services.jobs import lifecycle as job_lifecycle
from rtcompute.services.jobs import records as job_records
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import buckets as bucket_store
from rtcompute.store import db, tables
from rtcompute.store import engines as engine_store
from rtcompute.store import jobs as job_store
from rtcompute.store.tables import capacity as capacity_tables
from rtcompute.store.tables import engines as engine_tables
from tests.conftest import FakeClock, RecordingNotifier
from tests.integration.test_clusters_api import (
    OPERATOR_PASSWORD,
    SMALL,
    Setup,
    cluster,
    create,
    operator,  # noqa: F401
    set_state,
    setup,  # noqa: F401
)
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    authorize_service_role,
    create_policy,
    expect,
    ok,
    paid_order,
    ram_user,
    shared_project,
)
from tests.waiting import wait_for

ENGINES = f"{API}/engines"
POOL = f"{API}/pool/versions"
DEADLINE_SECONDS = 15.0


# ---------------------------------------------------------------- fakes


@dataclass
class Progress:
    phase: str
    percent: int


@dataclass
class FakeCopy:
    path: Path
    size_bytes: int = 1234
    source: str = "wheelhouse"


@dataclass
class FakeInstaller:
    """Records installs and removals; `fail` makes the next installs raise; `gate` holds an
    install until set (to look at it while it runs)."""

    home: Path
    fail: str = ""
    gate: threading.Event | None = None
    installed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    progress: list[tuple[str, int]] = field(default_factory=lambda: [("download", 40)])

    def path_of(self, version: str) -> Path:
        return self.home / version

    def install(self, version: str, on_progress: Callable[[Any], None]) -> FakeCopy:
        self.installed.append(version)
        for phase, percent in self.progress:
            on_progress(Progress(phase, percent))
        if self.gate is not None:
            assert self.gate.wait(DEADLINE_SECONDS), "the test never let the install finish"
        if self.fail:
            raise RuntimeError(self.fail)
        return FakeCopy(self.path_of(version))

    def remove(self, version: str) -> None:
        self.removed.append(version)


@dataclass
class FakeSqlEngine:
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def validate(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult:
        self.calls.append(("validate", version, sql))
        return sqlscript.CheckResult(True, (), "", 1.5, engine_rules.release_of(version))

    def explain(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult:
        self.calls.append(("explain", version, sql))
        problem = sqlscript.Problem(2, 7, "Object 'nope' not found")
        return sqlscript.CheckResult(False, (problem,), "== plan ==", 2.5, "x")


def installing(platform: platform_module.Platform) -> list[str]:
    with db.transaction(platform.sessions) as session:
        rows = engine_store.list_deployments(session=session, states=(engine_rules.INSTALLING,))
        return [f"{row.target} {row.version}" for row in rows]


def settle(reconciler: engine_reconciler.EngineReconciler) -> None:
    """Reconcile until no install is under way or asked for, then once more (removals)."""

    def settled() -> bool:
        reconciler.reconcile_once()
        return not reconciler.busy() and not installing(reconciler.platform)

    wait_for("no install under way", settled, DEADLINE_SECONDS, every=0.02)
    reconciler.reconcile_once()


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A tiny local HTTP server that keeps what is POSTed to it (in a thread)."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts", received
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    overrides: dict[str, object] = {"bootstrap_password": OPERATOR_PASSWORD}
    if "webhook" in request.fixturenames:
        url, _ = request.getfixturevalue("webhook")
        overrides["alerts"] = {"webhook_url": url}
    return overrides


@pytest.fixture
def installer(tmp_path: Path) -> FakeInstaller:
    return FakeInstaller(tmp_path / "engines")


@pytest.fixture
def reconciler(
    platform: platform_module.Platform, installer: FakeInstaller
) -> engine_reconciler.EngineReconciler:
    return engine_reconciler.EngineReconciler(platform, installer)


def versions_of(name: str = "cluster1") -> str:
    return f"{API}/clusters/{name}/versions"


def running_cluster(
    api: TestClient, platform: platform_module.Platform, s: Setup, name: str = "cluster1"
) -> None:
    ok(create(api, s, paid_order(api, s.owner, **SMALL)["id"], name), 201)
    set_state(platform, name, "running")


def install(
    api: TestClient, owner: Owner, version: str, name: str = "cluster1", **more: Any
) -> Any:
    return api.post(versions_of(name), headers=owner.headers, json={"version": version, **more})


def installed(
    api: TestClient,
    owner: Owner,
    reconciler: engine_reconciler.EngineReconciler,
    version: str,
    name: str = "cluster1",
    **more: Any,
) -> dict[str, Any]:
    """Install through the API and let the reconciler finish it."""
    ok(install(api, owner, version, name, **more), 201)
    settle(reconciler)
    found: dict[str, Any] = ok(api.get(f"{versions_of(name)}/{version}", headers=owner.headers))
    assert found["state"] == "installed", found
    return found


def listing(api: TestClient, owner: Owner, name: str = "cluster1") -> list[tuple[str, str, bool]]:
    return [
        (v["version"], v["state"], v["current"])
        for v in ok(api.get(versions_of(name), headers=owner.headers))
    ]


def cluster_id(platform: platform_module.Platform, name: str) -> int:
    with db.transaction(platform.sessions) as session:
        found = session.scalars(
            select(capacity_tables.Cluster).where(capacity_tables.Cluster.name == name)
        ).one()
        return found.id


def account_principal(platform: platform_module.Platform, account_id: str) -> principals.Principal:
    """The account itself, as the services see it when it signs in."""
    with db.transaction(platform.sessions) as session:
        identity = session.scalars(
            select(tables.Identity).where(
                tables.Identity.account_id == account_id,
                tables.Identity.identity_type == identities.IdentityType.ACCOUNT.value,
            )
        ).one()
        found = session.get(tables.Account, account_id)
        assert found is not None
        return principals.Principal(
            identity_id=identity.id,
            account_id=found.id,
            account_alias=found.alias,
            identity_type=identities.IdentityType.ACCOUNT,
            name=identity.name,
            is_operator=found.is_operator,
            auth_method="session",
            credential_id="test",
        )


def _state_bucket(platform: platform_module.Platform, principal: principals.Principal) -> str:
    """A bucket of the account for a shared project's job state (made if it has none)."""
    with db.transaction(platform.sessions) as session:
        mine = bucket_store.list_buckets(session=session, account_id=principal.account_id)
        if mine:
            return mine[0].name
    name = f"{principal.account_alias}-state"
    buckets.create_bucket(platform, principal, principals.RequestContext(), name)
    return name


def add_job(
    platform: platform_module.Platform, project: str, job: str, version: str, state: str
) -> None:
    """A job of `project` on `version`, made through the job services: a `draft`, `online`
    (published), `running` (started, and running as the job reconciler records it) or
    `offline` (published, then taken offline). The check runs on FakeSqlEngine."""
    with db.transaction(platform.sessions) as session:
        found = session.scalars(select(tables.Project).where(tables.Project.name == project)).one()
        account_id, shared = found.account_id, found.cluster_id is None
    principal = account_principal(platform, account_id)
    settings = {"state_bucket": _state_bucket(platform, principal)} if shared else None
    saved, platform.sql_engine = platform.sql_engine, FakeSqlEngine()
    try:
        made = jobs.create_job(
            platform,
            principal,
            project,
            job,
            sql_text="CREATE TABLE snk (a INT) WITH ('connector' = 'blackhole');\n"
            "INSERT INTO snk SELECT 1",
            settings=settings,
            engine_version=version,
        )
        assert made.state == job_rules.DRAFT
        if state == job_rules.DRAFT:
            return
        job_lifecycle.publish(platform, principal, project, job)
        if state == job_rules.RUNNING:
            job_lifecycle.start(platform, principal, principals.RequestContext(), project, job)
            assert job_records.move(platform, _job_id(platform, project, job), job_rules.RUNNING)
        elif state == job_rules.OFFLINE:
            job_lifecycle.offline(platform, principal, project, job)
        else:
            assert state == job_rules.ONLINE, state
    finally:
        platform.sql_engine = saved
    assert jobs.read_job(platform, account_id, project, job).state == state


def take_offline(platform: platform_module.Platform, project: str, job: str) -> None:
    """Stop the online job (as the API asks and the reconciler records), then go offline."""
    with db.transaction(platform.sessions) as session:
        account_id = session.scalars(
            select(tables.Project.account_id).where(tables.Project.name == project)
        ).one()
    principal = account_principal(platform, account_id)
    if job_lifecycle.read_deployment(platform, account_id, project, job).state in (
        job_rules.ACTIVE
    ):
        job_lifecycle.stop(platform, principal, project, job, mode=job_rules.STOP_CANCEL)
        assert job_records.move(platform, _job_id(platform, project, job), job_rules.STOPPED)
    job_lifecycle.offline(platform, principal, project, job)


def _job_id(platform: platform_module.Platform, project: str, job: str) -> int:
    with db.transaction(platform.sessions) as session:
        return session.scalars(
            select(job_store.Job.id)
            .join(tables.Project, tables.Project.id == job_store.Job.project_id)
            .where(tables.Project.name == project, job_store.Job.name == job)
        ).one()


def put_engine(api: TestClient, headers: dict[str, str], version: str, **body: Any) -> Any:
    return api.put(f"{ENGINES}/{version}", headers=headers, json=body)


def in_service(platform: platform_module.Platform, *versions: str) -> None:
    """Built-in catalog versions released a month before the platform's clock: a test that
    needs them in service must not depend on their fixed dates (nor on today's)."""
    released_on = platform.now().date() - timedelta(days=30)
    for version in versions:
        entry = next(e for e in engine_rules.DEFAULT_CATALOG if e.name == version)
        engines.update_entry(
            platform,
            version,
            tag=entry.tag,
            released_on=released_on,
            end_of_service=None,
            notes=entry.notes,
            listed=True,
        )


# ---------------------------------------------------------------- catalog


def test_catalog_lists_the_defaults_newest_first(api: TestClient, clock: FakeClock) -> None:
    clock.now = datetime(2026, 6, 1, 12, tzinfo=UTC)  # flink-2.2.1's first year of service
    owner = account(api)
    found = ok(api.get(ENGINES, headers=owner.headers))
    names = [e["name"] for e in found]
    assert names == sorted(names, key=engine_rules.sort_key, reverse=True)
    assert set(names) == {e.name for e in engine_rules.DEFAULT_CATALOG}
    by_name = {e["name"]: e for e in found}
    assert [n for n, e in by_name.items() if e["default"]] == [engine_rules.DEFAULT_VERSION]
    assert by_name["flink-2.3.0"]["tag"] == "beta"
    assert by_name["flink-2.2.1"] | {"notes": ""} == {
        "name": "flink-2.2.1",
        "release": "2.2.1",
        "tag": "stable",
        "released_on": "2026-05-11",
        "end_of_service": "2027-05-11",
        "retired": False,
        "notes": "",
        "listed": True,
        "default": True,
    }
    assert all(e["listed"] for e in found)
    expect(api.get(ENGINES), 401)
    clock.now = datetime(2027, 5, 12, 12, tzinfo=UTC)  # the day after its end of service
    later = account(api, "later")  # the first session has long expired
    retired = {e["name"]: e["retired"] for e in ok(api.get(ENGINES, headers=later.headers))}
    assert retired["flink-2.2.1"] is True


def test_the_operator_edits_the_catalog(
    api: TestClient,
    platform: platform_module.Platform,
    operator: dict[str, str],  # noqa: F811
) -> None:
    owner = account(api)
    in_service(platform, *(e.name for e in engine_rules.DEFAULT_CATALOG if e.name != "flink-2.0.2"))
    # a new version; the end of service defaults to a year after its release
    released = platform.now().date() - timedelta(days=10)
    added = ok(
        put_engine(api, operator, "flink-2.4.0", tag="beta", released_on=str(released), notes="n")
    )
    assert (added["release"], added["end_of_service"], added["retired"]) == (
        "2.4.0",
        str(released + timedelta(days=365)),
        False,
    )
    # a version past its end of service stays listed, flagged retired
    old = put_engine(
        api,
        operator,
        "flink-2.0.2",
        tag="none",
        released_on="2024-05-09",
        end_of_service="2025-05-09",
    )
    assert ok(old)["retired"] is True
    found = {e["name"]: e for e in ok(api.get(ENGINES, headers=owner.headers))}
    assert found["flink-2.4.0"]["tag"] == "beta" and found["flink-2.4.0"]["notes"] == "n"
    assert next(iter(found)) == "flink-2.4.0"  # newest first
    assert found["flink-2.0.2"]["retired"] is True
    assert found["flink-2.0.2"]["end_of_service"] == "2025-05-09"
    assert [n for n, e in found.items() if e["retired"]] == ["flink-2.0.2"]
    # change a tag of a default entry
    ok(put_engine(api, operator, "flink-2.3.0", tag="stable", released_on="2026-06-22"))
    assert {e["name"]: e for e in ok(api.get(ENGINES, headers=owner.headers))}["flink-2.3.0"][
        "tag"
    ] == "stable"
    # refused inputs, each with its code
    day = "2026-01-01"
    for version, body, status, code in (
        ("flink-x", {"tag": "stable", "released_on": day}, 400, "InvalidParameter.EngineVersion"),
        (
            "flink-2.2.1%0A",
            {"tag": "stable", "released_on": day},
            400,
            "InvalidParameter.EngineVersion",
        ),
        ("flink-%00", {"tag": "stable", "released_on": day}, 400, "InvalidParameter.EngineVersion"),
        (
            "flink-" + "9" * 300,
            {"tag": "stable", "released_on": day},
            400,
            "InvalidParameter.EngineVersion",
        ),
        ("flink-2.2.1", {"tag": "gamma", "released_on": day}, 400, "InvalidParameter.Tag"),
        (
            "flink-2.2.1",
            {"tag": "stable", "released_on": day, "end_of_service": "2025-01-01"},
            400,
            "InvalidParameter.EndOfService",
        ),
        # the request's shape (pydantic): 422 InvalidParameter
        ("flink-2.2.1", {"tag": "stable", "released_on": "2026-13-01"}, 422, "InvalidParameter"),
        ("flink-2.2.1", {"tag": "stable"}, 422, "InvalidParameter"),
        ("flink-2.2.1", {"tag": "x" * 9, "released_on": day}, 422, "InvalidParameter"),
        (
            "flink-2.2.1",
            {"tag": "stable", "released_on": day, "notes": "n" * 1025},
            422,
            "InvalidParameter",
        ),
        ("flink-2.2.1", {"tag": "stable", "released_on": day, "extra": 1}, 422, "InvalidParameter"),
        ("flink-2.2.1", {"tag": "stable", "released_on": day, "notes": "a\x00b"}, 422, None),
    ):
        expect(api.put(f"{ENGINES}/{version}", headers=operator, json=body), status, code)
    # an account that is not the operator may not
    refused = put_engine(api, owner.headers, "flink-2.2.1", tag="beta", released_on="2026-01-01")
    expect(refused, 403)
    assert {e["name"]: e for e in ok(api.get(ENGINES, headers=owner.headers))}["flink-2.2.1"][
        "tag"
    ] == "stable"


# ---------------------------------------------------------------- a cluster's versions


def test_install_set_current_uninstall(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
    installer: FakeInstaller,
) -> None:
    owner = setup.owner
    in_service(platform, "flink-2.2.1")
    running_cluster(api, platform, setup)
    assert listing(api, owner) == []
    made = ok(install(api, owner, "flink-2.2.1"), 201)
    assert (made["version"], made["release"], made["state"], made["current"]) == (
        "flink-2.2.1",
        "2.2.1",
        "installing",
        False,
    )
    assert made["requested_by"] and made["tag"] == "stable" and made["retired"] is False
    assert cluster(api, owner)["state"] == "deploying"
    # one install at a time
    expect(install(api, owner, "flink-1.20.5"), 409, "VersionDeploying")
    settle(reconciler)
    assert installer.installed == ["flink-2.2.1"]
    assert cluster(api, owner)["state"] == "running"
    first = ok(api.get(f"{versions_of()}/flink-2.2.1", headers=owner.headers))
    assert (first["state"], first["current"], first["progress"], first["message"]) == (
        "installed",
        True,  # the first version of a cluster becomes its current one
        100,
        "",
    )
    body = expect(install(api, owner, "flink-2.2.1"), 409, "VersionAlreadyInstalled")
    assert body["message"] == "flink-2.2.1 already installed"
    installed(api, owner, reconciler, "flink-1.20.5")
    installed(api, owner, reconciler, "flink-2.0.2")
    assert listing(api, owner) == [
        ("flink-2.2.1", "installed", True),
        ("flink-2.0.2", "installed", False),
        ("flink-1.20.5", "installed", False),
    ]
    body = expect(install(api, owner, "flink-2.1.3"), 409, "VersionLimitExceeded")
    assert body["message"] == "Flink versions exceeded max limitation:3"
    assert cluster(api, owner)["state"] == "running"
    # set current: the others are no longer current
    now_current = ok(api.post(f"{versions_of()}/flink-1.20.5/current", headers=owner.headers))
    assert (now_current["version"], now_current["current"]) == ("flink-1.20.5", True)
    assert [v for v, _, current in listing(api, owner) if current] == ["flink-1.20.5"]
    expect(
        api.post(f"{versions_of()}/flink-2.1.3/current", headers=owner.headers),
        409,
        "VersionNotInstalled",
    )
    # uninstall: not the current one
    body = expect(
        api.delete(f"{versions_of()}/flink-1.20.5", headers=owner.headers), 409, "VersionIsCurrent"
    )
    assert "flink-1.20.5" in body["message"]
    expect(
        api.delete(f"{versions_of()}/flink-2.1.3", headers=owner.headers),
        404,
        "VersionNotInstalled",
    )
    gone = ok(api.delete(f"{versions_of()}/flink-2.0.2", headers=owner.headers))
    assert (gone["version"], gone["state"]) == ("flink-2.0.2", "installed")
    assert [v for v, _, _ in listing(api, owner)] == ["flink-2.2.1", "flink-1.20.5"]
    expect(
        api.get(f"{versions_of()}/flink-2.0.2", headers=owner.headers), 404, "VersionNotInstalled"
    )
    # nobody uses the copy of flink-2.0.2 any more: the reconciler removes it
    settle(reconciler)
    assert installer.removed == ["flink-2.0.2"]
    # a place is free again
    installed(api, owner, reconciler, "flink-2.1.3")
    assert installer.installed == ["flink-2.2.1", "flink-1.20.5", "flink-2.0.2", "flink-2.1.3"]
    # other accounts see nothing of it
    other = account(api, "globex")
    expect(api.get(versions_of(), headers=other.headers), 404, "ClusterNotFound")
    expect(install(api, other, "flink-2.2.1"), 404, "ClusterNotFound")


def test_a_cluster_with_more_than_three_keeps_them(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    owner = setup.owner
    running_cluster(api, platform, setup)
    cid = cluster_id(platform, "cluster1")
    names = ["flink-1.20.5", "flink-2.0.2", "flink-2.1.3", "flink-2.2.0"]
    with db.transaction(platform.sessions) as session:
        for index, name in enumerate(names):
            engine_store.add_deployment(
                session=session,
                deployment=engine_tables.EngineDeployment(
                    target=engine_rules.cluster_target(cid),
                    cluster_id=cid,
                    version=name,
                    state=engine_rules.INSTALLED,
                    current=index == 0,
                    requested_by="before",
                    created_at=platform.now(),
                    state_since=platform.now(),
                ),
            )
    assert [v for v, _, _ in listing(api, owner)] == list(reversed(names))
    body = expect(install(api, owner, "flink-2.2.1"), 409, "VersionLimitExceeded")
    assert body["message"] == "Flink versions exceeded max limitation:3"
    # they stay usable: set current, uninstall one (still 3: still no new one)
    ok(api.post(f"{versions_of()}/flink-2.2.0/current", headers=owner.headers))
    ok(api.delete(f"{versions_of()}/flink-1.20.5", headers=owner.headers))
    expect(install(api, owner, "flink-2.2.1"), 409, "VersionLimitExceeded")
    ok(api.delete(f"{versions_of()}/flink-2.0.2", headers=owner.headers))
    installed(api, owner, reconciler, "flink-2.2.1")
    assert len(listing(api, owner)) == 3


def test_beta_catalog_and_cluster_state_rules(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    owner, op = setup.owner, setup.operator
    in_service(platform, "flink-2.3.0")
    running_cluster(api, platform, setup)
    body = expect(install(api, owner, "flink-2.3.0"), 400, "BetaNotConfirmed")
    assert "flink-2.3.0" in body["message"] and "confirm_beta" in body["message"]
    assert cluster(api, owner)["state"] == "running"
    expect(install(api, owner, "flink-2.3.0", confirm_beta=False), 400, "BetaNotConfirmed")
    made = ok(install(api, owner, "flink-2.3.0", confirm_beta=True), 201)
    assert (made["tag"], made["state"]) == ("beta", "installing")
    settle(reconciler)
    # not in the catalog; no longer offered
    expect(install(api, owner, "flink-9.9.9"), 404, "EngineVersionNotFound")
    ok(put_engine(api, op, "flink-2.1.3", tag="none", released_on="2026-06-12", listed=False))
    expect(install(api, owner, "flink-2.1.3"), 409, "EngineVersionUnlisted")
    assert cluster(api, owner)["state"] == "running"
    # a retired version installs and is flagged in the cluster's list
    ok(
        put_engine(
            api,
            op,
            "flink-2.0.2",
            tag="none",
            released_on="2024-05-09",
            end_of_service="2025-05-09",
        )
    )
    old = installed(api, owner, reconciler, "flink-2.0.2")
    assert (old["retired"], old["end_of_service"]) == (True, "2025-05-09")
    flagged = {
        v["version"]: v["retired"] for v in ok(api.get(versions_of(), headers=owner.headers))
    }
    assert flagged == {"flink-2.3.0": False, "flink-2.0.2": True}
    # versions are installed on a running cluster only
    set_state(platform, "cluster1", "scaling_out")
    expect(install(api, owner, "flink-2.2.1"), 409, "ClusterNotRunning")
    set_state(platform, "cluster1", "running")
    expect(install(api, owner, "flink-2.2.1", name="missing"), 404, "ClusterNotFound")


def test_uninstall_refused_while_an_online_job_references_it(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    owner = setup.owner
    running_cluster(api, platform, setup)
    installed(api, owner, reconciler, "flink-2.2.1")
    installed(api, owner, reconciler, "flink-1.20.5")
    ok(
        api.post(
            f"{API}/projects",
            headers=owner.headers,
            json={"name": "alpha", "cluster": "cluster1", "cu": 2},
        ),
        201,
    )
    # a shared project's job on the same version does not pin the cluster's version
    ok(api.post(POOL, headers=setup.operator, json={"version": "flink-1.20.5"}), 201)
    settle(reconciler)
    shared_project(api, owner, "pooled")
    add_job(platform, "pooled", "elsewhere", "flink-1.20.5", "running")
    # drafts and offline jobs do not pin it either
    add_job(platform, "alpha", "draft_job", "flink-1.20.5", "draft")
    add_job(platform, "alpha", "old_job", "flink-1.20.5", "offline")
    add_job(platform, "alpha", "orders_etl", "flink-1.20.5", "running")
    body = expect(
        api.delete(f"{versions_of()}/flink-1.20.5", headers=owner.headers), 409, "VersionInUse"
    )
    assert body["message"] == "Node:orders_etl in project:alpha still ref the version:flink-1.20.5"
    take_offline(platform, "alpha", "orders_etl")
    ok(api.delete(f"{versions_of()}/flink-1.20.5", headers=owner.headers))
    assert listing(api, owner) == [("flink-2.2.1", "installed", True)]


def test_one_copy_serves_every_cluster_that_uses_it(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
    installer: FakeInstaller,
) -> None:
    owner = setup.owner
    running_cluster(api, platform, setup, "cluster1")
    running_cluster(api, platform, setup, "cluster2")
    installed(api, owner, reconciler, "flink-1.20.5", "cluster1")
    installed(api, owner, reconciler, "flink-2.2.1", "cluster1")
    second = installed(api, owner, reconciler, "flink-2.2.1", "cluster2")
    assert second["current"] is True
    assert installer.installed == ["flink-1.20.5", "flink-2.2.1"]  # one copy of 2.2.1
    ok(api.delete(f"{versions_of('cluster1')}/flink-2.2.1", headers=owner.headers))
    settle(reconciler)
    assert installer.removed == []  # cluster2 still uses it
    installed(api, owner, reconciler, "flink-2.0.2", "cluster2")
    ok(api.post(f"{versions_of('cluster2')}/flink-2.0.2/current", headers=owner.headers))
    ok(api.delete(f"{versions_of('cluster2')}/flink-2.2.1", headers=owner.headers))
    settle(reconciler)
    assert installer.removed == ["flink-2.2.1"]
    # installing it again makes a new copy
    installed(api, owner, reconciler, "flink-2.2.1", "cluster1")
    assert installer.installed == ["flink-1.20.5", "flink-2.2.1", "flink-2.0.2", "flink-2.2.1"]


def test_a_failed_install_leaves_the_cluster_running_and_alerts(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
    installer: FakeInstaller,
    notifier: RecordingNotifier,
    webhook: tuple[str, list[dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner = setup.owner
    _, posted = webhook
    running_cluster(api, platform, setup)
    installed(api, owner, reconciler, "flink-1.20.5")
    before = len(notifier.sent)
    installer.fail = "pip: no matching distribution found for apache-flink==2.2.1"
    ok(install(api, owner, "flink-2.2.1"), 201)
    assert cluster(api, owner)["state"] == "deploying"
    settle(reconciler)
    assert cluster(api, owner)["state"] == "running"
    failed = ok(api.get(f"{versions_of()}/flink-2.2.1", headers=owner.headers))
    # the tenant is told it failed and whom to ask; pip's words are the operator's (logged)
    assert (failed["state"], failed["current"], failed["message"]) == (
        "failed",
        False,
        engine_copies.tenant_message("flink-2.2.1"),
    )
    assert installer.fail in caplog.text
    # in the reader's language, one version or the list (Accept-Language, as errors)
    zh = owner.headers | {"Accept-Language": "zh-CN"}
    chinese = ok(api.get(f"{versions_of()}/flink-2.2.1", headers=zh))["message"]
    assert chinese == cluster_events.install_failed("flink-2.2.1").zh
    assert chinese.startswith("flink-2.2.1 无法在本平台上安装") and "pip" not in chinese
    listed = {v["version"]: v["message"] for v in ok(api.get(versions_of(), headers=zh))}
    assert listed["flink-2.2.1"] == chinese
    assert listing(api, owner) == [
        ("flink-2.2.1", "failed", False),
        ("flink-1.20.5", "installed", True),
    ]
    alerts = notifier.sent[before:]
    assert len(alerts) == 1
    assert "flink-2.2.1" in alerts[0].subject and "cluster1" in alerts[0].subject
    assert engine_copies.tenant_message("flink-2.2.1") in alerts[0].body
    assert installer.fail not in alerts[0].body
    assert len(posted) == 1
    assert posted[0]["kind"] == "engine_install_failed"
    assert posted[0]["account"] == owner.alias
    assert installer.fail not in posted[0]["body"] and "flink-2.2.1" in posted[0]["subject"]
    # the failed version is not installed: the rules still hold
    expect(
        api.post(f"{versions_of()}/flink-2.2.1/current", headers=owner.headers),
        409,
        "VersionNotInstalled",
    )
    # a failed row holds no place; installing again after the failure works
    installer.fail = ""
    again = installed(api, owner, reconciler, "flink-2.2.1")
    assert (again["current"], again["message"]) == (False, "")
    assert listing(api, owner) == [
        ("flink-2.2.1", "installed", False),
        ("flink-1.20.5", "installed", True),
    ]
    assert installer.installed == ["flink-1.20.5", "flink-2.2.1", "flink-2.2.1"]
    assert len(notifier.sent) == before + 1 and len(posted) == 1


def test_a_failed_first_install_leaves_no_current(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
    installer: FakeInstaller,
    notifier: RecordingNotifier,
) -> None:
    """Without a webhook the alert still goes through the notifier."""
    owner = setup.owner
    running_cluster(api, platform, setup)
    installer.fail = "Java not found"
    ok(install(api, owner, "flink-2.2.1"), 201)
    settle(reconciler)
    assert cluster(api, owner)["state"] == "running"
    assert listing(api, owner) == [("flink-2.2.1", "failed", False)]
    # the tenant's alert says what happened and whom to ask, not the host's missing Java
    assert engine_copies.tenant_message("flink-2.2.1") in notifier.sent[-1].body
    assert "Java" not in notifier.sent[-1].body
    # a failed version can be "uninstalled" (cleared from the list)
    ok(api.delete(f"{versions_of()}/flink-2.2.1", headers=owner.headers))
    assert listing(api, owner) == []


# ---------------------------------------------------------------- the shared pool


def test_the_pool_is_the_operators(
    api: TestClient,
    platform: platform_module.Platform,
    operator: dict[str, str],  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
    installer: FakeInstaller,
) -> None:
    owner = account(api)
    authorize_service_role(api, owner)
    assert ok(api.get(POOL, headers=owner.headers)) == []
    body = {"version": "flink-2.2.1"}
    expect(api.post(POOL, headers=owner.headers, json=body), 403)
    made = ok(api.post(POOL, headers=operator, json=body), 201)
    assert made["state"] == "installing"
    expect(
        api.post(POOL, headers=operator, json={"version": "flink-1.20.5"}), 409, "VersionDeploying"
    )
    settle(reconciler)
    listed = ok(api.get(POOL, headers=owner.headers))
    assert [(v["version"], v["state"], v["current"]) for v in listed] == [
        ("flink-2.2.1", "installed", True)
    ]
    assert ok(api.get(f"{POOL}/flink-2.2.1", headers=owner.headers))["current"] is True
    expect(api.get(f"{POOL}/flink-1.20.5", headers=owner.headers), 404, "VersionNotInstalled")
    body = expect(api.post(POOL, headers=operator, json=body), 409, "VersionAlreadyInstalled")
    assert body["message"] == "flink-2.2.1 already installed"
    ok(api.post(POOL, headers=operator, json={"version": "flink-1.20.5"}), 201)
    settle(reconciler)
    expect(api.post(f"{POOL}/flink-1.20.5/current", headers=owner.headers), 403)
    expect(api.delete(f"{POOL}/flink-1.20.5", headers=owner.headers), 403)
    expect(api.delete(f"{POOL}/flink-2.2.1", headers=operator), 409, "VersionIsCurrent")
    ok(api.post(f"{POOL}/flink-1.20.5/current", headers=operator))
    # a shared project's online job pins the pool's version
    shared_project(api, owner, "pooled")
    add_job(platform, "pooled", "clicks", "flink-2.2.1", "online")
    body = expect(api.delete(f"{POOL}/flink-2.2.1", headers=operator), 409, "VersionInUse")
    assert body["message"] == "Node:clicks in project:pooled still ref the version:flink-2.2.1"
    take_offline(platform, "pooled", "clicks")
    ok(api.delete(f"{POOL}/flink-2.2.1", headers=operator))
    settle(reconciler)
    assert installer.removed == ["flink-2.2.1"]
    assert [v["version"] for v in ok(api.get(POOL, headers=owner.headers))] == ["flink-1.20.5"]


# ---------------------------------------------------------------- RAM


def test_ram_users_need_a_policy(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    owner = setup.owner
    running_cluster(api, platform, setup)
    installed(api, owner, reconciler, "flink-2.2.1")
    nobody = ram_user(api, owner, "nobody")
    expect(api.get(versions_of(), headers=nobody), 403, "Forbidden.RAM")
    expect(api.get(f"{versions_of()}/flink-2.2.1", headers=nobody), 403, "Forbidden.RAM")
    create_policy(
        api,
        owner,
        "ListVersions",
        allow("stream:ListEngineVersions", "acs:stream:*:*:cluster/cluster1/*"),
    )
    lister = ram_user(api, owner, "lister", custom=["ListVersions"])
    assert [v["version"] for v in ok(api.get(versions_of(), headers=lister))] == ["flink-2.2.1"]
    assert ok(api.get(f"{versions_of()}/flink-2.2.1", headers=lister))["current"] is True
    for response, action in (
        (
            api.post(versions_of(), headers=lister, json={"version": "flink-1.20.5"}),
            "stream:InstallEngineVersion",
        ),
        (
            api.post(f"{versions_of()}/flink-2.2.1/current", headers=lister),
            "stream:SwitchEngineVersion",
        ),
        (
            api.delete(f"{versions_of()}/flink-2.2.1", headers=lister),
            "stream:UninstallEngineVersion",
        ),
        (api.post(POOL, headers=lister, json={"version": "flink-1.20.5"}), None),
    ):
        body = expect(response, 403)
        if action is not None:
            assert action in body["message"]
    assert listing(api, owner) == [("flink-2.2.1", "installed", True)]
    # install allowed on one version only
    create_policy(
        api,
        owner,
        "Install1205",
        allow(
            "stream:InstallEngineVersion", "acs:stream:*:*:cluster/cluster1/version/flink-1.20.5"
        ),
    )
    installer_user = ram_user(api, owner, "installer", custom=["Install1205"])
    expect(api.post(versions_of(), headers=installer_user, json={"version": "flink-2.0.2"}), 403)
    ok(api.post(versions_of(), headers=installer_user, json={"version": "flink-1.20.5"}), 201)


# ---------------------------------------------------------------- SQL checks


def test_sql_check_runs_on_the_targets_current_version(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    owner, op = setup.owner, setup.operator
    engine = FakeSqlEngine()
    platform.sql_engine = engine
    shared_project(api, owner, "pooled")
    validate = f"{API}/projects/pooled/sql:validate"
    sql = "SELECT 1;"
    # the pool has no version yet
    body = expect(api.post(validate, headers=owner.headers, json={"sql": sql}), 409, "30006")
    assert "engine script not exist, please check engine version" in body["message"]
    ok(api.post(POOL, headers=op, json={"version": "flink-2.2.1"}), 201)
    settle(reconciler)
    checked = ok(api.post(validate, headers=owner.headers, json={"sql": sql}))
    assert checked == {
        "ok": True,
        "engine_version": "flink-2.2.1",
        "flink_version": "2.2.1",
        "problems": [],
        "elapsed_ms": 1.5,
    }
    assert engine.calls == [("validate", "flink-2.2.1", sql)]
    # a version the pool does not have: the guide's 30006
    missing = api.post(
        validate, headers=owner.headers, json={"sql": sql, "engine_version": "flink-1.20.5"}
    )
    body = expect(missing, 409, "30006")
    assert body["message"].startswith(
        "code:[30006], brief info:[engine script not exist, please check engine version], "
        "context info:[engine script:["
    )
    assert body["message"].endswith("engine version:[flink-1.20.5]]")
    assert len(engine.calls) == 1
    # a project in a cluster checks on the cluster's current version
    running_cluster(api, platform, setup)
    ok(
        api.post(
            f"{API}/projects",
            headers=owner.headers,
            json={"name": "alpha", "cluster": "cluster1", "cu": 2},
        ),
        201,
    )
    in_cluster = f"{API}/projects/alpha/sql:validate"
    expect(api.post(in_cluster, headers=owner.headers, json={"sql": sql}), 409, "30006")
    installed(api, owner, reconciler, "flink-1.20.5")
    installed(api, owner, reconciler, "flink-2.0.2")
    assert (
        ok(api.post(in_cluster, headers=owner.headers, json={"sql": sql}))["engine_version"]
        == "flink-1.20.5"
    )
    ok(api.post(f"{versions_of()}/flink-2.0.2/current", headers=owner.headers))
    assert (
        ok(api.post(in_cluster, headers=owner.headers, json={"sql": sql}))["engine_version"]
        == "flink-2.0.2"
    )
    explicit = {"sql": sql, "engine_version": "flink-1.20.5"}
    assert ok(api.post(in_cluster, headers=owner.headers, json=explicit))["engine_version"] == (
        "flink-1.20.5"
    )
    # the pool's version is not the cluster's
    body = expect(
        api.post(
            in_cluster, headers=owner.headers, json={"sql": sql, "engine_version": "flink-2.2.1"}
        ),
        409,
        "30006",
    )
    assert "engine version:[flink-2.2.1]" in body["message"]
    explained = ok(
        api.post(f"{API}/projects/alpha/sql:explain", headers=owner.headers, json={"sql": sql})
    )
    assert explained == {
        "ok": False,
        "engine_version": "flink-2.0.2",
        "flink_version": "x",
        "plan": "== plan ==",
        "problems": [{"line": 2, "column": 7, "message": "Object 'nope' not found"}],
        "elapsed_ms": 2.5,
    }
    assert [c[:2] for c in engine.calls[1:]] == [
        ("validate", "flink-1.20.5"),
        ("validate", "flink-2.0.2"),
        ("validate", "flink-1.20.5"),
        ("explain", "flink-2.0.2"),
    ]
    # a version still installing is not there yet
    ok(install(api, owner, "flink-2.1.3"), 201)
    explicit = {"sql": sql, "engine_version": "flink-2.1.3"}
    expect(api.post(in_cluster, headers=owner.headers, json=explicit), 409, "30006")
    # without engine workers in the process the check says so (never a 500)
    platform.sql_engine = None
    expect(api.post(in_cluster, headers=owner.headers, json={"sql": sql}), 503)
    # another account's project is not found
    other = account(api, "globex")
    expect(api.post(in_cluster, headers=other.headers, json={"sql": sql}), 404)


def test_sql_check_bad_input(
    api: TestClient,
    platform: platform_module.Platform,
    operator: dict[str, str],  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    owner = account(api)
    authorize_service_role(api, owner)
    engine = FakeSqlEngine()
    platform.sql_engine = engine
    shared_project(api, owner, "pooled")
    ok(api.post(POOL, headers=operator, json={"version": "flink-2.2.1"}), 201)
    settle(reconciler)
    validate = f"{API}/projects/pooled/sql:validate"
    for body, status in (
        ({"sql": ""}, 422),
        ({"sql": "   \n\t "}, 400),
        ({"sql": "x" * (256 * 1024 + 1)}, 422),
        ({"sql": "SELECT 1", "engine_version": "flink-x"}, 400),
        ({"sql": "SELECT 1", "engine_version": "flink-2.2.1\n"}, 400),
        ({"sql": "SELECT 1", "engine_version": "flink-2.2.1\x00"}, 422),
        ({"sql": "SELECT 1", "engine_version": "f" * 33}, 422),
        ({"sql": "SELECT 1", "engine_version": ""}, 400),
        ({"sql": "SELECT '\x00'"}, 422),
        ({"sql": 5}, 422),
        ({"sql": ["SELECT 1"]}, 422),
        ({"sql": "SELECT 1", "extra": True}, 422),
        ({}, 422),
    ):
        response = api.post(validate, headers=owner.headers, json=body)
        expect(response, status)
    as_json = owner.headers | {"Content-Type": "application/json"}
    expect(api.post(validate, headers=as_json, content=b"{not json"), 400, "MalformedJSON")
    for raw in (
        b'{"sql": "SELECT \'\\ud800\'"}',  # a lone surrogate
        b'{"sql": "SELECT 1", "engine_version": "flink-\\ud800"}',
    ):
        response = api.post(validate, headers=as_json, content=raw)
        assert response.status_code in (400, 422), (raw, response.text[:300])
    assert engine.calls == []
    # the largest script accepted, unicode included
    big = "SELECT '\u4e2d\u6587 \U0001f600';" + " " * (256 * 1024 - 20)
    assert ok(api.post(validate, headers=owner.headers, json={"sql": big}))["ok"] is True
    missing = f"{API}/projects/nope/sql:validate"
    expect(api.post(missing, headers=owner.headers, json={"sql": "SELECT 1"}), 404)


# ---------------------------------------------------------------- junk never gives a 500


def test_junk_never_gives_a_500(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    owner, op = setup.owner, setup.operator
    running_cluster(api, platform, setup)
    installed(api, owner, reconciler, "flink-2.2.1")
    junk = [
        "flink-2.2.1%0A",
        "%00",
        "flink-%00",
        quote("flink-\u4e2d\u6587", safe=""),
        quote("\U0001f600", safe=""),
        "flink-" + "9" * 5000,
        "f" * 200,
        quote("flink-2.2.1 ", safe=""),
        quote("'; DROP TABLE engine_versions; --", safe=""),
        "%ff%fe",
    ]
    for version in junk:
        for method, url in (
            ("GET", f"{versions_of()}/{version}"),
            ("POST", f"{versions_of()}/{version}/current"),
            ("DELETE", f"{versions_of()}/{version}"),
            ("GET", f"{POOL}/{version}"),
            ("GET", f"{API}/clusters/{version}/versions"),
            ("POST", f"{API}/projects/{version}/sql:validate"),
        ):
            headers = op if url.startswith(POOL) else owner.headers
            response = api.request(method, url, headers=headers, json={"sql": "SELECT 1"})
            assert response.status_code in (400, 403, 404, 405, 409, 422), (
                method,
                url[:120],
                response.status_code,
                response.text[:300],
            )
        for headers, url in ((owner.headers, versions_of()), (op, POOL)):
            for body in (
                {"version": version},
                {"version": "flink-2.2.1", "confirm_beta": "maybe"},
                {"version": None},
                {"version": ["flink-2.2.1"]},
                {"version": "flink-2.1.3", "extra": 1},
            ):
                response = api.post(url, headers=headers, json=body)
                assert response.status_code in (400, 404, 409, 422), (
                    url,
                    body,
                    response.status_code,
                    response.text[:300],
                )
    for version in ("flink-2.2.1\n", "flink-2.2.1\x00", "\u4e2d", "flink-" + "1" * 26):
        response = install(api, owner, version)
        assert response.status_code in (400, 404, 422), (version, response.text[:300])
    # nothing changed
    assert listing(api, owner) == [("flink-2.2.1", "installed", True)]
    assert cluster(api, owner)["state"] == "running"


def test_operator_flow_dates_and_today(
    api: TestClient,
    platform: platform_module.Platform,
    operator: dict[str, str],  # noqa: F811
) -> None:
    """`retired` follows the platform's clock: the day after the end of service."""
    owner = account(api)
    today = platform.now().date()
    ok(
        put_engine(
            api,
            operator,
            "flink-2.0.2",
            tag="none",
            released_on=str(today - timedelta(days=365)),
            end_of_service=str(today),
        )
    )
    found = {e["name"]: e for e in ok(api.get(ENGINES, headers=owner.headers))}
    assert found["flink-2.0.2"]["retired"] is False
    ok(
        put_engine(
            api,
            operator,
            "flink-2.0.2",
            tag="none",
            released_on=str(today - timedelta(days=366)),
            end_of_service=str(today - timedelta(days=1)),
        )
    )
    found = {e["name"]: e for e in ok(api.get(ENGINES, headers=owner.headers))}
    assert found["flink-2.0.2"]["retired"] is True
    assert date.fromisoformat(found["flink-2.0.2"]["end_of_service"]) < today


@pytest.mark.parametrize(
    "body",
    [
        {"tag": "stable", "released_on": "9999-12-31"},
        {"tag": "stable", "released_on": "9999-06-01"},
        {"tag": "stable", "released_on": "9999-06-01", "end_of_service": "9999-12-31"},
    ],
)
def test_far_dates_are_refused_not_500(
    api: TestClient,
    operator: dict[str, str],  # noqa: F811
    body: dict[str, str],
) -> None:
    """The default end of service is a year after the release: a release date near the end
    of the calendar has none (an overflow must be a 400, never a 500)."""
    response = api.put(f"{ENGINES}/flink-2.2.1", headers=operator, json=body)
    if body.get("end_of_service"):
        # an explicit end of service needs no arithmetic: accepted or refused, never a 500
        assert response.status_code in (200, 400), response.text[:300]
        return
    found = expect(response, 400)
    assert found["code"].startswith("InvalidParameter"), found


def test_parallel_installs_on_one_target_one_wins(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    """Installs racing on a cluster (and on the pool): exactly one is accepted, the others
    are refused as one install at a time; the same version twice at once: one row."""
    owner, op = setup.owner, setup.operator
    running_cluster(api, platform, setup)
    versions = ["flink-1.20.5", "flink-2.0.2", "flink-2.1.3", "flink-2.2.1"]

    def on_cluster(version: str) -> int:
        return install(api, owner, version).status_code

    def on_pool(version: str) -> int:
        return api.post(POOL, headers=op, json={"version": version}).status_code

    for call in (on_cluster, on_pool):
        with ThreadPoolExecutor(4) as pool:
            codes = sorted(pool.map(call, versions))
        assert codes == [201, 409, 409, 409], (call.__name__, codes)
        settle(reconciler)
    assert len(listing(api, owner)) == 1
    assert len(ok(api.get(POOL, headers=owner.headers))) == 1
    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(on_cluster, ["flink-2.2.0"] * 4))
    assert codes == [201, 409, 409, 409], codes
    settle(reconciler)
    assert [v for v, _, _ in listing(api, owner)].count("flink-2.2.0") == 1


def test_only_ascii_digits_in_version_names(
    api: TestClient,
    operator: dict[str, str],  # noqa: F811
) -> None:
    """`flink-\uff12.2.1` (a full-width 2) would be `apache-flink==\uff12.2.1` to pip: no
    such version name may enter the catalog."""
    body = {"tag": "stable", "released_on": "2026-01-01"}
    name = quote("flink-\uff12.2.1", safe="")
    response = api.put(f"{ENGINES}/{name}", headers=operator, json=body)
    expect(response, 400, "InvalidParameter.EngineVersion")
    owner = account(api)
    check = {"sql": "SELECT 1", "engine_version": "flink-\uff12.2.1"}
    response = api.post(f"{API}/projects/any/sql:validate", headers=owner.headers, json=check)
    expect(response, 400, "InvalidParameter.EngineVersion")
