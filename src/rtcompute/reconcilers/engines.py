"""The engine reconciler: installs the machine copies that deployments wait for, marks the
deployments installed (or failed, with an alert), removes copies nobody uses, and stops
idle engine workers.

An install takes tens of seconds, so it runs in a thread of its own while the runner's
loop goes on; one install at a time per machine (two pip runs would only slow each other
down on a small host). After a restart, a copy still marked installing is installed again
from scratch: the installer wipes what a killed run left, and adopts a finished copy whose
marker is there (the crash came after the install, before its record).

Failures follow reconcilers/base.py, per version: an install that fails is `Permanent` (the
installer says what failed and what to do, for a missing Java, a version the index or the
wheelhouse does not have, a full disk, a timeout): the copy and its deployments are marked
failed, with an alert, and nothing installs it again until asked. Recording an outcome,
starting an install or removing a copy that fails otherwise (the database, the disk) is
tried again with back-off; the finished install's outcome is kept until it is recorded.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rtcompute.reconcilers import base
from rtcompute.services.engines import copies as engine_copies
from rtcompute.services.kernel import alerts
from rtcompute.services.kernel import platform as platform_module

log = logging.getLogger("rtcompute.reconcilers.engines")

HOST = "local"
PROGRESS_EVERY_SECONDS = 0.5


class ProgressEvent(Protocol):
    phase: str
    percent: int


class InstalledCopy(Protocol):
    path: Path
    size_bytes: int
    source: str


class Installer(Protocol):
    def path_of(self, version: str) -> Path: ...

    def install(
        self, version: str, on_progress: Callable[[ProgressEvent], None]
    ) -> InstalledCopy: ...

    def remove(self, version: str) -> None: ...


class Workers(Protocol):
    def reap_idle(self) -> list[str]: ...

    def stop_version(self, version: str) -> None: ...


@dataclass
class Outcome:
    copy: InstalledCopy | None = None
    error: str = ""


class EngineReconciler:
    name = "engines"

    def __init__(
        self,
        platform: platform_module.Platform,
        installer: Installer,
        workers: Workers | None = None,
        interval_seconds: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.installer = installer
        self.workers = workers
        self.interval_seconds = interval_seconds
        self.retries = base.Backoff(monotonic)
        self._running: dict[str, threading.Thread] = {}
        self._outcomes: dict[str, Outcome] = {}
        self._lock = threading.Lock()

    def reconcile_once(self) -> None:
        self._collect()
        plan = engine_copies.plan(self.platform, HOST)
        if not self.busy():
            for version in plan.to_install[:1]:
                self._attempt(version, functools.partial(self._start, version))
        # the joined hosts' own copies, installed by their agents (runtime/hostengines.py)
        for failed in engine_copies.sync_hosts(self.platform):
            log.warning("engine %s: the install failed on %s", failed.version, failed.cause)
            self._alert(failed)
        for done in engine_copies.finish_deployments(self.platform, HOST):
            log.info("engine version installed: %s", done)
        for version in plan.unused:
            if version not in self._running:
                self._attempt(version, functools.partial(self._remove, version))
        if self.workers is not None:
            for version in self.workers.reap_idle():
                log.info("engine worker %s stopped: idle", version)

    def busy(self) -> bool:
        """An install is under way (tests and `rtc up` shut-down use it)."""
        with self._lock:
            return bool(self._running)

    def _attempt(
        self,
        version: str,
        step: Callable[[], None],
        fail: Callable[[base.Permanent], None] | None = None,
    ) -> bool:
        return base.attempt(
            self.retries, version, step, what=f"engine {version}", fail=fail, logger=log
        )

    def _remove(self, version: str) -> None:
        if engine_copies.drop_copy(self.platform, HOST, version):
            if self.workers is not None:
                self.workers.stop_version(version)
            self.installer.remove(version)
            log.info("engine %s removed from this machine: no target uses it", version)

    def _start(self, version: str) -> None:
        engine_copies.start_copy(self.platform, HOST, version, str(self.installer.path_of(version)))
        thread = threading.Thread(
            target=base.in_context(self._install),
            args=(version,),
            name=f"install-{version}",
            daemon=True,
        )
        with self._lock:
            self._running[version] = thread
        thread.start()
        log.info("installing engine %s", version)

    def _install(self, version: str) -> None:
        last_at, last_phase = [0.0], [""]

        def on_progress(event: ProgressEvent) -> None:
            now = time.monotonic()
            if event.phase != last_phase[0] or now - last_at[0] >= PROGRESS_EVERY_SECONDS:
                last_at[0], last_phase[0] = now, event.phase
                try:
                    engine_copies.record_progress(
                        self.platform, HOST, version, event.phase, event.percent
                    )
                except Exception:  # progress is best effort; the install goes on
                    log.exception("engine %s: progress not recorded", version)

        try:
            outcome = Outcome(copy=self.installer.install(version, on_progress))
        except Exception as exc:  # every failure is the install's: Permanent once collected
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            outcome = Outcome(error=message)
        with self._lock:
            self._outcomes[version] = outcome

    def _collect(self) -> None:
        """Record the installs that ended; an outcome stays until it is recorded."""
        with self._lock:
            finished = dict(self._outcomes)
        for version, outcome in finished.items():
            recorded = self._attempt(
                version,
                functools.partial(self._record, version, outcome),
                functools.partial(self._install_failed, version),
            )
            if recorded:
                with self._lock:
                    self._outcomes.pop(version, None)
                    self._running.pop(version, None)

    def _record(self, version: str, outcome: Outcome) -> None:
        if outcome.copy is None:
            raise base.Permanent(outcome.error)
        engine_copies.copy_ready(
            self.platform,
            HOST,
            version,
            path=str(outcome.copy.path),
            size_bytes=outcome.copy.size_bytes,
            source=outcome.copy.source,
        )

    def _install_failed(self, version: str, failure: base.Permanent) -> None:
        """The copy and the deployments waiting for it fail; their owners are alerted (a
        tenant without the operator's details: those are logged here)."""
        message = failure.message
        log.warning("engine %s: the install failed: %s", version, message)
        for failed in engine_copies.copy_failed(self.platform, HOST, version, message):
            self._alert(failed)

    def _alert(self, failed: engine_copies.Failed) -> None:
        alerts.send(
            self.platform,
            account_id=failed.account_id,
            kind="engine_install_failed",
            subject=f"rtcompute: installing {failed.version} on {failed.target} failed",
            body=(
                f"Installing engine version {failed.version} on {failed.target} failed: "
                f"{failed.message}"
                + (
                    ""  # a tenant's message says what goes on and whom to ask
                    if failed.account_id
                    else "\nThe shared pool keeps running with its previous versions; "
                    "install again once the cause is fixed."
                )
            ),
        )
