"""The SQLite file read-only for a while under writes, then writable again.

The server runs as root without CAP_DAC_OVERRIDE (setpriv), as an operator's service would
run without it: file modes then bind it like any user. While the file is read-only, writes
answer 503 with Retry-After and /readyz fails; once it is writable again the pool recovers
by itself (no restart) and every change that was made has its audit event.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_server, stop_server
from tests.faults import harness

pytestmark = pytest.mark.slow

# root, but file modes apply: no override of read/write/search permission checks
WITHOUT_DAC_OVERRIDE = (
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
    "--",
)
READ_ONLY_SECONDS = 5.0
# after the file is writable again, every write must pass once this much time has gone by
RECOVERY_SECONDS = 1.5
# writers at once while the file is read-only: more than the server has had so far, so its
# pool opens new connections then (SQLite opens them read-only; a connection that reuses
# the descriptor of one closed before would not be)
BURST = 28


def test_sqlite_file_read_only_then_back(tmp_path: Path, fault_report: harness.Report) -> None:
    data = tmp_path / "data"
    database = data / "rtcompute.db"
    server = start_server(data, prefix=WITHOUT_DAC_OVERRIDE)
    readiness: list[tuple[float, int]] = []
    watching = threading.Event()

    def watch_readiness() -> None:
        while not watching.is_set():
            try:
                status = httpx.get(server.url + "/readyz", timeout=10).status_code
            except httpx.TransportError:
                status = 0
            readiness.append((time.monotonic(), status))
            time.sleep(0.2)

    mode = database.stat().st_mode & 0o777
    try:
        headers = harness.sign_in(server)
        steady = harness.Traffic(server.url, headers, "ro", threads=2).start()
        watcher = threading.Thread(target=watch_readiness, daemon=True)
        watcher.start()
        time.sleep(1)
        os.chmod(database, 0o444)
        read_only_at = time.monotonic()
        burst = harness.Traffic(server.url, headers, "rb", threads=BURST).start()
        time.sleep(READ_ONLY_SECONDS)
        os.chmod(database, mode)
        writable_at = time.monotonic()
        time.sleep(4)
        sent = steady.stop() + burst.stop()
        watching.set()
        watcher.join(15)
        trail = harness.read_trail(f"sqlite:///{database}", "r")
        log = server.log()
    finally:
        os.chmod(database, mode)
        stop_server(server)

    counts = harness.counts(sent)
    missing = harness.changes_without_event(sent, trail)
    failing = [s.sent_at for s in sent if s.status == 503]
    during = [s for at, s in readiness if failing and min(failing) < at < max(failing)]
    fault_report.add(
        "sqlite read-only",
        **counts,
        changes_without_event=len(missing),
        readyz_503_while_writes_failed=during.count(503),
        log_bytes=len(log.encode()),
        tracebacks=harness.logged_tracebacks(log),
    )
    assert counts["500"] == 0, [s for s in sent if s.status >= 500 and s.status != 503][:5]
    assert counts["503"] > 0, "writes never failed: the fault did not bite"
    assert all(read_only_at < at < writable_at + RECOVERY_SECONDS for at in failing)
    assert all(s.retry_after for s in sent if s.status == 503)
    assert {s.code for s in sent if s.status == 503} == {"ServiceUnavailable.Database"}
    assert not missing, missing[:10]
    # /readyz failed while writes failed, and is back once they pass
    assert 503 in during, during
    late = [status for at, status in readiness if at > writable_at + RECOVERY_SECONDS]
    assert late and set(late) == {200}, late
    # the pool recovered by itself (its read-only connections dropped): all 201 again
    after = [s for s in sent if s.sent_at > writable_at + RECOVERY_SECONDS]
    assert after and {s.status for s in after} == {201}, [s for s in after if s.status != 201]
    # quiet: one line per failed request, a traceback once per distinct error per minute
    assert harness.logged_tracebacks(log) <= 6, log[-5000:]
    assert len(log.encode()) < 100 * 1024 + 400 * counts["503"]
