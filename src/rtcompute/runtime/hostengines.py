"""The engine versions of a joined host, installed by its agent (docs/hosts.md).

Every heartbeat's answer names the versions the host's cluster uses and where to install
them from (the platform's wheelhouse, which must be visible on the host at the same path,
or its package index). The agent installs what is missing, one version at a time, with the
platform's own installer (runtime/engines/installer.py) into `<state dir>/engines` on the
host's own disk, and reports every version's state and progress in its next heartbeats; the
platform keeps the cluster `deploying` until every host of the cluster has the version. A
copy no cluster of the platform holds is kept for a while (`RTC_HOSTS__UNUSED_ENGINE_SECONDS`,
a day: the next cluster that claims the host may want it; a copy the operator put there
beforehand counts the same), then removed once no Flink process of it runs here.
The Flink processes of a job on this host always run from this host's own copy.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rtcompute.domain import engines as engine_rules
from rtcompute.runtime.engines import installer as installer_module

log = logging.getLogger("rtcompute.agent.engines")

INSTALLING = "installing"
READY = "ready"
FAILED = "failed"


class Engines:
    """This host's copies: what is ready on disk, what installs, what failed."""

    def __init__(
        self,
        home: Path,
        *,
        in_use: Callable[[str], bool],
        java: str = "java",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.home = home
        self.java = java
        self.in_use = in_use  # whether a Flink process of the version runs on this host
        self._lock = threading.Lock()
        self._progress: dict[str, dict[str, Any]] = {}  # installing or failed versions
        self._thread: threading.Thread | None = None
        self.monotonic = monotonic
        self._unused_since: dict[str, float] = {}  # version -> when it became unused

    def installer(self, source: Mapping[str, Any] | None = None) -> installer_module.Installer:
        source = source or {}
        wheelhouse = source.get("wheelhouse")
        return installer_module.Installer(
            self.home,
            wheelhouse=Path(str(wheelhouse)) if wheelhouse else None,
            index_url=str(source.get("index_url") or ""),
            java=self.java,
        )

    def ready(self) -> list[str]:
        if not self.home.is_dir():
            return []
        found = self.installer()
        return sorted(
            entry.name
            for entry in self.home.iterdir()
            if not entry.name.startswith(".")
            and engine_rules.is_name(entry.name)
            and found.is_ready(entry.name)
        )

    def home_of(self, version: str) -> Path | None:
        """This host's copy of the version, when it is ready."""
        if not engine_rules.is_name(version):
            return None
        found = self.installer()
        return found.path_of(version) if found.is_ready(version) else None

    def report(self) -> dict[str, dict[str, Any]]:
        """Every version's state, for the heartbeat."""
        with self._lock:
            report = {version: dict(state) for version, state in self._progress.items()}
        for version in self.ready():
            report[version] = {"state": READY, "phase": "done", "percent": 100}
        return report

    def want(
        self,
        versions: list[str],
        source: Mapping[str, Any],
        *,
        keep: Sequence[str] = (),
        unused_seconds: float = 0.0,
        requests: Mapping[str, str] | None = None,
    ) -> None:
        """Install the first missing version (in a thread), forget failures of versions no
        longer wanted, remove copies neither wanted nor kept (no cluster of the platform
        holds them) for `unused_seconds`, once no process uses them. A failure answers its
        request (`requests`: version -> the platform's name of the request): a new request
        of the version is installed again."""
        requests = requests or {}
        wanted = [v for v in versions if engine_rules.is_name(v)]
        ready = set(self.ready())
        with self._lock:
            for version, entry in list(self._progress.items()):
                if entry["state"] == FAILED and (
                    version not in wanted or entry.get("request") != requests.get(version)
                ):
                    del self._progress[version]
            busy = self._thread is not None and self._thread.is_alive()
            missing = [
                v
                for v in wanted
                if v not in ready
                and self._progress.get(v, {}).get("state") != FAILED  # until asked anew
            ]
            if not busy and missing:
                version = missing[0]
                request = requests.get(version, "")
                self._progress[version] = {
                    "state": INSTALLING,
                    "phase": "starting",
                    "percent": 0,
                    "request": request,
                }
                self._thread = threading.Thread(
                    target=self._install,
                    args=(version, dict(source), request),
                    name=f"install-{version}",
                    daemon=True,
                )
                self._thread.start()
        if busy:
            return
        unused = ready - set(wanted) - set(keep)
        now = self.monotonic()
        for version in list(self._unused_since):
            if version not in unused:
                del self._unused_since[version]
        for version in sorted(unused):
            since = self._unused_since.setdefault(version, now)
            if now - since >= unused_seconds and not self.in_use(version):
                del self._unused_since[version]
                log.info("engine %s: no cluster of the platform holds it: removed", version)
                self.installer().remove(version)

    def _install(self, version: str, source: dict[str, Any], request: str) -> None:
        def progress(event: installer_module.Progress) -> None:
            with self._lock:
                self._progress[version] = {
                    "state": INSTALLING,
                    "phase": event.phase,
                    "percent": event.percent,
                    "request": request,
                }

        log.info("installing engine %s from %s", version, source)
        try:
            wheelhouse = source.get("wheelhouse")
            if wheelhouse and not Path(str(wheelhouse)).is_dir():
                raise installer_module.InstallFailed(
                    f"the platform's wheelhouse {wheelhouse} is not visible on this host: mount "
                    'it at the same path (docs/hosts.md, "Engine versions on hosts"), or '
                    "unset RTC_ENGINE_WHEELHOUSE to install from the package index"
                )
            self.installer(source).install(version, progress)
        except Exception as exc:  # the install's failure, reported to the platform
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            log.warning("engine %s: the install failed: %s", version, message)
            with self._lock:
                self._progress[version] = {
                    "state": FAILED,
                    "phase": "failed",
                    "percent": 0,
                    "message": str(message)[:1000],
                    "request": request,
                }
            return
        log.info("engine %s installed", version)
        with self._lock:
            self._progress.pop(version, None)
