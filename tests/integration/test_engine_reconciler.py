"""The engine reconciler with a fake installer, on both databases: what it does after a
crash (a copy left `installing` with no thread is installed again), one install at a time
per machine, progress recorded to the copy and shown on the waiting deployment, copies
removed once no target uses them (a released cluster's versions stop holding theirs), and
the shared pool's failed install alerting the operator."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rtcompute import errors
from rtcompute.domain import engines as engine_rules
from rtcompute.reconcilers import engines as engine_reconciler
from rtcompute.services.engines import copies as engine_copies
from rtcompute.services.engines import versions as engine_versions
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import engines as engine_store
from rtcompute.store.tables import engines as engine_tables
from tests.conftest import RecordingNotifier
from tests.integration.test_clusters_api import (
    OPERATOR_PASSWORD,
    Setup,
    cluster,
    operator,  # noqa: F401
    set_state,
    setup,  # noqa: F401
)
from tests.integration.test_engines_api import (
    DEADLINE_SECONDS,
    FakeInstaller,
    install,
    installed,
    listing,
    running_cluster,
    settle,
)
from tests.integration.test_ram_support import ok
from tests.waiting import wait_for

HOST = engine_reconciler.HOST


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    overrides: dict[str, object] = {"bootstrap_password": OPERATOR_PASSWORD}
    if "webhook_url" in request.fixturenames:
        overrides["alerts"] = {"webhook_url": request.getfixturevalue("webhook_url")}
    return overrides


@pytest.fixture
def installer(tmp_path: Path) -> FakeInstaller:
    return FakeInstaller(tmp_path / "engines")


@dataclass
class FakeWorkers:
    stopped: list[str] = field(default_factory=list)
    reaped: int = 0

    def reap_idle(self) -> list[str]:
        self.reaped += 1
        return []

    def stop_version(self, version: str) -> None:
        self.stopped.append(version)


@pytest.fixture
def workers() -> FakeWorkers:
    return FakeWorkers()


@pytest.fixture
def reconciler(
    platform: platform_module.Platform, installer: FakeInstaller, workers: FakeWorkers
) -> engine_reconciler.EngineReconciler:
    return engine_reconciler.EngineReconciler(platform, installer, workers)


def pool_deployment(
    platform: platform_module.Platform, version: str, state: str = engine_rules.INSTALLING
) -> None:
    """A pool deployment as the service writes it (rules are the API tests' business)."""
    with db.transaction(platform.sessions) as session:
        engine_store.add_deployment(
            session=session,
            deployment=engine_tables.EngineDeployment(
                target=engine_rules.POOL,
                cluster_id=None,
                version=version,
                state=state,
                current=False,
                phase="queued",
                progress=0,
                requested_by="operator",
                created_at=platform.now(),
                state_since=platform.now(),
            ),
        )


def copy_of(platform: platform_module.Platform, version: str) -> dict[str, Any] | None:
    with db.transaction(platform.sessions) as session:
        found = engine_store.read_copy(session=session, host=HOST, version=version)
        if found is None:
            return None
        return {
            k: getattr(found, k)
            for k in ("state", "path", "source", "phase", "progress", "size_bytes", "message")
        }


def pool(platform: platform_module.Platform) -> list[tuple[str, str, bool]]:
    return [
        (v.version, v.state, v.current)
        for v in engine_versions.list_versions(platform, "nobody", None)
    ]


def test_a_copy_left_installing_by_a_crash_is_installed_again(
    platform: platform_module.Platform,
    installer: FakeInstaller,
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    pool_deployment(platform, "flink-2.2.1")
    # the previous process had started the copy and died with it
    engine_copies.start_copy(platform, HOST, "flink-2.2.1", "/old/path")
    engine_copies.record_progress(platform, HOST, "flink-2.2.1", "download", 60)
    assert copy_of(platform, "flink-2.2.1") == {
        "state": "installing",
        "path": "/old/path",
        "source": "",
        "phase": "download",
        "progress": 60,
        "size_bytes": 0,
        "message": "",
    }
    settle(reconciler)
    assert installer.installed == ["flink-2.2.1"]
    assert copy_of(platform, "flink-2.2.1") == {
        "state": "ready",
        "path": str(installer.path_of("flink-2.2.1")),
        "source": "wheelhouse",
        "phase": "done",
        "progress": 100,
        "size_bytes": 1234,
        "message": "",
    }
    assert pool(platform) == [("flink-2.2.1", "installed", True)]
    # a second pass (and a restarted process) has nothing to do
    engine_reconciler.EngineReconciler(platform, installer).reconcile_once()
    settle(reconciler)
    assert installer.installed == ["flink-2.2.1"] and installer.removed == []


def test_an_outcome_that_cannot_be_recorded_is_kept_and_recorded_after_a_back_off(
    platform: platform_module.Platform,
    installer: FakeInstaller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Temporary failure (the database failing the write, retried as one): the finished
    install is not lost, not installed again, and recorded once the write goes through."""
    clock = Ticks()
    reconciler = engine_reconciler.EngineReconciler(platform, installer, monotonic=clock)
    ready = engine_copies.copy_ready
    refusals = [ConnectionError("the database went away")]

    def flaky(*args: Any, **kwargs: Any) -> None:
        if refusals:
            raise refusals.pop()
        ready(*args, **kwargs)

    monkeypatch.setattr(engine_copies, "copy_ready", flaky)
    pool_deployment(platform, "flink-2.2.1")

    def refused() -> bool:
        reconciler.reconcile_once()
        return reconciler.retries.failures("flink-2.2.1") == 1

    wait_for("the refused write", refused, DEADLINE_SECONDS, every=0.02)
    assert reconciler.busy()  # its outcome is waiting to be recorded: no other install
    reconciler.reconcile_once()  # not due yet
    assert (copy_of(platform, "flink-2.2.1") or {})["state"] == "installing"
    clock.now += 5.0
    settle(reconciler)
    assert installer.installed == ["flink-2.2.1"]
    assert (copy_of(platform, "flink-2.2.1") or {})["state"] == "ready"
    assert pool(platform) == [("flink-2.2.1", "installed", True)]


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_ready_copy_finishes_waiting_deployments_without_installing(
    platform: platform_module.Platform,
    installer: FakeInstaller,
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    """A crash after the copy was recorded ready, before the deployments were finished."""
    engine_copies.copy_ready(
        platform, HOST, "flink-1.20.5", path="/p", size_bytes=9, source="index"
    )
    pool_deployment(platform, "flink-1.20.5")
    settle(reconciler)
    assert installer.installed == []
    assert pool(platform) == [("flink-1.20.5", "installed", True)]


def test_progress_is_recorded_and_shown_on_the_deployment(
    platform: platform_module.Platform,
    installer: FakeInstaller,
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    installer.gate = threading.Event()
    installer.progress = [("download apache-flink", 35)]
    pool_deployment(platform, "flink-2.2.1")
    before = engine_versions.read_version(platform, "nobody", None, "flink-2.2.1")
    assert (before.state, before.phase, before.progress) == ("installing", "queued", 0)
    try:
        reconciler.reconcile_once()
        assert reconciler.busy()
        wait_for(
            "progress",
            lambda: (copy_of(platform, "flink-2.2.1") or {}).get("progress") == 35,
            DEADLINE_SECONDS,
            every=0.02,
        )
        shown = engine_versions.read_version(platform, "nobody", None, "flink-2.2.1")
        assert (shown.state, shown.phase, shown.progress) == (
            "installing",
            "download apache-flink",
            35,
        )
        # passes while the install runs change nothing
        reconciler.reconcile_once()
        assert installer.installed == ["flink-2.2.1"]
    finally:
        installer.gate.set()
    settle(reconciler)
    done = engine_versions.read_version(platform, "nobody", None, "flink-2.2.1")
    assert (done.state, done.phase, done.progress, done.current) == ("installed", "done", 100, True)


def test_one_install_at_a_time_per_machine(
    platform: platform_module.Platform,
    installer: FakeInstaller,
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    installer.gate = threading.Event()
    pool_deployment(platform, "flink-2.2.1")
    pool_deployment(platform, "flink-1.20.5")
    try:
        reconciler.reconcile_once()
        wait_for(
            "the first install",
            lambda: installer.installed == ["flink-1.20.5"],
            DEADLINE_SECONDS,
            every=0.02,
        )
        for _ in range(3):
            reconciler.reconcile_once()
        assert installer.installed == ["flink-1.20.5"]  # versions sorted; one thread
    finally:
        installer.gate.set()
    settle(reconciler)
    assert installer.installed == ["flink-1.20.5", "flink-2.2.1"]
    states = {v: (s, c) for v, s, c in pool(platform)}
    assert states == {"flink-2.2.1": ("installed", False), "flink-1.20.5": ("installed", True)}


def test_a_copy_nobody_uses_goes_after_its_install_ends(
    platform: platform_module.Platform,
    installer: FakeInstaller,
    workers: FakeWorkers,
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    installer.gate = threading.Event()
    pool_deployment(platform, "flink-2.2.1")
    try:
        reconciler.reconcile_once()
        wait_for(
            "the copy row",
            lambda: copy_of(platform, "flink-2.2.1") is not None,
            DEADLINE_SECONDS,
            every=0.02,
        )
        with db.transaction(platform.sessions) as session:
            for row in engine_store.list_deployments(session=session):
                engine_store.delete_deployment(session=session, deployment=row)
        reconciler.reconcile_once()
        assert installer.removed == []  # not under a running install
    finally:
        installer.gate.set()
    settle(reconciler)
    assert installer.removed == ["flink-2.2.1"]
    assert workers.stopped == ["flink-2.2.1"]  # its warm worker goes too
    assert copy_of(platform, "flink-2.2.1") is None
    assert workers.reaped > 0


def test_a_failed_pool_install_alerts_the_operator(
    platform: platform_module.Platform,
    installer: FakeInstaller,
    reconciler: engine_reconciler.EngineReconciler,
    notifier: RecordingNotifier,
) -> None:
    class Refused(Exception):
        message = "Java 11+ not found: set engines.java"

    def broken(version: str, on_progress: Callable[[Any], None]) -> Any:
        installer.installed.append(version)
        raise Refused("ignored: the message attribute wins")

    installer.install = broken  # type: ignore[method-assign]
    pool_deployment(platform, "flink-2.2.1", engine_rules.INSTALLED)
    with db.transaction(platform.sessions) as session:
        row = engine_store.find_deployment(
            session=session, target=engine_rules.POOL, version="flink-2.2.1"
        )
        assert row is not None
        row.current = True
    engine_copies.copy_ready(platform, HOST, "flink-2.2.1", path="/p", size_bytes=1, source="x")
    pool_deployment(platform, "flink-1.20.5")
    settle(reconciler)
    failed = engine_versions.read_version(platform, "nobody", None, "flink-1.20.5", operator=True)
    assert (failed.state, failed.current, failed.message) == (
        "failed",
        False,
        "Java 11+ not found: set engines.java",
    )
    assert pool(platform) == [
        ("flink-2.2.1", "installed", True),
        ("flink-1.20.5", "failed", False),
    ]
    assert copy_of(platform, "flink-1.20.5") is None
    assert copy_of(platform, "flink-2.2.1") is not None
    sent = notifier.sent[-1]
    assert "flink-1.20.5" in sent.subject and "the shared pool" in sent.subject
    assert "Java 11+ not found" in sent.body
    # the failure is recorded once; later passes do not retry nor alert again
    count = len(notifier.sent)
    settle(reconciler)
    assert installer.installed == ["flink-1.20.5"] and len(notifier.sent) == count


def test_an_install_error_with_a_message_attribute(
    platform: platform_module.Platform,
    installer: FakeInstaller,
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    def broken(version: str, on_progress: Callable[[Any], None]) -> Any:
        raise errors.Unavailable("the package index did not answer", code="X")

    installer.install = broken  # type: ignore[method-assign]
    pool_deployment(platform, "flink-2.2.1")
    settle(reconciler)
    found = engine_versions.read_version(platform, "nobody", None, "flink-2.2.1", operator=True)
    assert (found.state, found.message) == ("failed", "the package index did not answer")


def test_a_released_clusters_versions_stop_holding_the_copy(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    installer: FakeInstaller,
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    owner = setup.owner
    running_cluster(api, platform, setup, "cluster1")
    running_cluster(api, platform, setup, "cluster2")
    installed(api, owner, reconciler, "flink-2.2.1", "cluster1")
    installed(api, owner, reconciler, "flink-1.20.5", "cluster1")
    installed(api, owner, reconciler, "flink-2.2.1", "cluster2")
    assert installer.installed == ["flink-2.2.1", "flink-1.20.5"]
    set_state(platform, "cluster1", "releasing")
    settle(reconciler)
    # flink-1.20.5 was cluster1's alone; flink-2.2.1 stays for cluster2
    assert installer.removed == ["flink-1.20.5"]
    assert copy_of(platform, "flink-1.20.5") is None
    assert copy_of(platform, "flink-2.2.1") is not None
    assert listing(api, owner, "cluster2") == [("flink-2.2.1", "installed", True)]
    set_state(platform, "cluster2", "released")
    settle(reconciler)
    assert installer.removed == ["flink-1.20.5", "flink-2.2.1"]
    with db.transaction(platform.sessions) as session:
        assert engine_store.list_deployments(session=session) == []
        assert engine_store.list_copies(session=session, host=HOST) == []


def test_a_cluster_released_during_its_install(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    installer: FakeInstaller,
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    owner = setup.owner
    running_cluster(api, platform, setup)
    installer.gate = threading.Event()
    try:
        ok(install(api, owner, "flink-2.2.1"), 201)
        reconciler.reconcile_once()
        assert reconciler.busy()
        set_state(platform, "cluster1", "releasing")
        reconciler.reconcile_once()
        assert installer.removed == []
    finally:
        installer.gate.set()
    settle(reconciler)
    assert installer.removed == ["flink-2.2.1"]
    assert cluster(api, owner)["state"] == "releasing"  # the reconciler does not touch it


@pytest.mark.parametrize(
    "webhook_url",
    [
        "http://127.0.0.1:1/alerts",  # nothing listens
        "http://alerts.invalid/hook",  # no such host
        # a URL that is not one (`http://[::1/alerts`) is refused by the settings already
    ],
)
def test_an_alert_that_cannot_be_delivered_never_fails_the_reconciler(
    platform: platform_module.Platform,
    installer: FakeInstaller,
    reconciler: engine_reconciler.EngineReconciler,
    notifier: RecordingNotifier,
    webhook_url: str,
) -> None:
    """alerts.py: an alert that cannot be delivered is logged; it never fails the caller."""
    installer.fail = "no space left on device"
    pool_deployment(platform, "flink-2.2.1")
    pool_deployment(platform, "flink-1.20.5", engine_rules.INSTALLED)
    settle(reconciler)
    assert platform.settings.alerts.webhook_url == webhook_url
    assert notifier.sent[-1].subject.endswith("installing flink-2.2.1 on the shared pool failed")
    # the operator reads the installer's cause; a tenant reads what a cluster's owner reads
    found = engine_versions.read_version(platform, "nobody", None, "flink-2.2.1", operator=True)
    assert (found.state, found.message) == ("failed", "no space left on device")
    tenant = engine_versions.read_version(platform, "nobody", None, "flink-2.2.1")
    listed = engine_versions.list_versions(platform, "nobody", None)
    assert tenant.message == engine_copies.tenant_message("flink-2.2.1")
    assert [v.message for v in listed if v.version == "flink-2.2.1"] == [tenant.message]
    assert "no space" not in tenant.message + tenant.message_zh


def test_a_copy_left_installing_for_nobody_is_removed(
    platform: platform_module.Platform,
    installer: FakeInstaller,
    workers: FakeWorkers,
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    """A crash mid-install, and the request gone meanwhile: the half copy is wiped, not
    installed."""
    engine_copies.start_copy(platform, HOST, "flink-2.0.2", "/old/path")
    settle(reconciler)
    assert installer.installed == []
    assert installer.removed == ["flink-2.0.2"]
    assert copy_of(platform, "flink-2.0.2") is None
    assert workers.stopped == ["flink-2.0.2"]
