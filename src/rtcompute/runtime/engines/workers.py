"""Warm engine workers: long-lived PyFlink processes per engine version, on demand.

A syntax check in a fresh PyFlink process costs seconds (the JVM gateway starts first); in
a warm one, tens of milliseconds. So the pool keeps `worker_main.py` processes per version,
running in that version's own environment, started by the first check of that version and
stopped after an idle period. A worker answers one request at a time; different versions
answer in parallel. The pool is called from FastAPI's thread pool, so everything here is
thread-safe.

Fairness: one tenant's heavy checks (a 60-join explain plans for seconds) must not stall
another's `SELECT 1`. So an account has at most one request in flight per version (its
next ones wait their turn: a tenant cannot hold more than one worker of a version), and a
version keeps up to `per_version` workers: one to start with, and a spare started as soon
as a request has kept every worker busy for `spare_after` seconds. The spare is warm by
the time another tenant asks; an idle period stops it again. Requests beyond what the
workers can take wait (at most their timeout) for the first worker free.

A worker that dies while answering gives that request a retryable `EngineWorkerRestarted`
and is started again in the background; one that does not answer within the request
timeout is killed (its whole process group: the interpreter and its JVM) and the request
gets `EngineWorkerTimeout`. Workers run in their own session so a kill takes the JVM along;
they end on their own when their stdin closes or their parent dies (worker_main.py).

The warm worker serves every tenant, so it never loads a tenant's code: a check or a
submission that carries JARs (`jars`, `pipeline.jars`) runs in an isolated worker instead,
the same worker_main.py started for that one request with its own tmp dir, in its own
session, killed with its JVM and its tmp dir removed once it answered. It costs a JVM start
(seconds), which only jobs with JARs pay; at most `isolated_limit` run at once.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from rtcompute import errors
from rtcompute.domain import engines, flinkconf, sqlscript
from rtcompute.runtime import cgroups, sandbox
from rtcompute.runtime.engines import relay as relay_module

log = logging.getLogger(__name__)

WORKER_MAIN = Path(__file__).with_name("worker_main.py")
# imported by worker_main.py (its side of a relayed submission): in the sandbox beside it
RELAY_MAIN = Path(__file__).with_name("relay.py")
# lines of a worker's stderr kept for error messages and `status()`
STDERR_LINES = 200
# what an error message quotes of the worker's stderr
STDERR_TAIL = 20
STOP_GRACE_SECONDS = 3.0
# how long an error message waits for the rest of a dead worker's stderr
STDERR_WAIT_SECONDS = 2.0
# tells worker_main.py it answers one request: no warm-up, no spare environment
ONE_SHOT_ENV = "RTC_WORKER_ONE_SHOT"
JARS_KEY = "pipeline.jars"
# the turns of the isolated workers (a version names the turns of its shared workers)
ISOLATED_LANE = "isolated"
CLOSING = "the engine workers are shutting down; try again"
CLOSING_ZH = "引擎正在关闭，请稍后重试"
HA_PREFIX = "high-availability"
_Answer = TypeVar("_Answer")
# decides on what Flink resolved for a submission, before it runs: the problems, if any
Approve = Callable[
    [tuple[sqlscript.Statement, ...], sqlscript.Resolved], tuple[sqlscript.Problem, ...]
]


# answers a worker's `prepared` message (what to send back)
FollowUp = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class WorkerStatus:
    version: str
    pid: int
    started_at: datetime
    last_used: datetime
    requests: int


@dataclass(frozen=True)
class SubmitResult:
    job_id: str | None  # the Flink job id (hex) when the submission succeeded
    problems: tuple[sqlscript.Problem, ...]  # positions mapped to the script, like checks
    elapsed_ms: float = 0.0
    approved: bool = True  # False: the platform's rules refused what Flink resolved


@dataclass(eq=False)  # by identity: the pool keeps sets of them
class _Worker:
    version: str
    process: subprocess.Popen[bytes]
    lines: queue.Queue[bytes | None]
    stderr: collections.deque[str]
    started_at: datetime
    last_used: float = field(default_factory=time.time)
    requests: int = 0
    flink_version: str = ""
    next_id: int = 0
    stderr_closed: threading.Event = field(default_factory=threading.Event)
    # answering a request since `busy_since` (monotonic; a shared worker; the pool's lock)
    busy: bool = False
    busy_since: float = 0.0
    # the JVM's java.io.tmpdir: Flink's planner loader unpacks a ~45 MB jar there at every
    # start and a killed JVM never deletes it, so each worker gets its own, removed with it
    tmp: Path | None = None

    def stderr_tail(self) -> str:
        """The last lines of stderr (of a dead worker: once all of it has been read)."""
        if self.process.poll() is not None:
            self.stderr_closed.wait(STDERR_WAIT_SECONDS)
        return "\n".join(list(self.stderr)[-STDERR_TAIL:])


class WorkerPool:
    def __init__(
        self,
        home: Path,
        *,
        idle_seconds: float,
        request_timeout: float,
        start_timeout: float,
        java: str = "java",
        submit_timeout: float = 120.0,
        isolated_limit: int = 2,
        per_version: int = 3,
        spare_after: float = 1.0,
        sandboxed: bool = False,
        sandbox_paths: tuple[str, ...] = (),
    ) -> None:
        self._home = home
        self._idle_seconds = idle_seconds
        self._request_timeout = request_timeout
        self._start_timeout = start_timeout
        self._submit_timeout = submit_timeout
        self._java = java
        self._per_version = max(per_version, 1)
        self._spare_after = spare_after
        # guards the workers, the starts under way, the turns taken and `_closed`; waited on
        # for a free worker or a tenant's turn
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._workers: dict[str, list[_Worker]] = {}
        self._starting: collections.Counter[str] = collections.Counter()
        self._turns: set[tuple[str, str]] = set()  # (account, version) with a request in flight
        self._closed = False
        self._isolated_slots = threading.BoundedSemaphore(max(isolated_limit, 1))
        self._isolated: set[_Worker] = set()  # guarded by `_lock`
        # workers in the sandbox (runtime/sandbox.py): the shared ones as WORKER_USER, an
        # isolated one as the account's user, each with only its ports open to that user
        self._sandboxed = sandboxed
        self._shared_mounts = tuple(sandbox.Mount(path, True) for path in sandbox_paths)

    def validate(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult:
        """Check the script; with `jars` (file:// URIs) in an isolated worker that loads them,
        in the sandbox of `account` (the owner of the JARs)."""
        return self._check(version, sql, "validate", jars, account)

    def explain(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult:
        return self._check(version, sql, "explain", jars, account)

    def submit(
        self,
        version: str,
        sql: str,
        config: Mapping[str, str],
        *,
        timeout: float | None = None,
        approve: Approve | None = None,
        account: str = "",
    ) -> SubmitResult:
        """Run the script's DDL and SETs, then submit its INSERTs (one statement set) to the
        remote cluster named by `config` (`rest.address`, `rest.port`); the job keeps running.

        `config` must name `parallelism.default` (else the client uses the number of cores,
        FLINK-NOTES); restore keys and `pipeline.jars` travel in it too. With
        `pipeline.jars` the submission runs in an isolated worker. With `approve`, the worker
        stops before the INSERTs run and shows what Flink resolved; they run only when
        `approve` finds no problem.
        """
        started = time.monotonic()
        python = self.python_of(version)
        if not engines.is_name(version) or not python.exists():
            raise engines.version_missing(version, str(python))
        statements = sqlscript.split(sql)
        if not statements:
            nothing = sqlscript.Problem(1, 1, "the script has no SQL statement")
            return SubmitResult(None, (nothing,), _since(started))
        for statement in statements:
            refused = sqlscript.loads_code(statement)
            if refused is not None:
                found = sqlscript.Problem(statement.line, statement.column, refused)
                return SubmitResult(None, (found,), _since(started))
        request = {
            "op": "submit",
            "statements": [{"sql": s.sql, "line": s.line, "column": s.column} for s in statements],
            "config": {str(k): str(v) for k, v in config.items()},
            "settings": flinkconf.settings_policy(),
            "confirm": approve is not None,
        }
        disapproved: list[sqlscript.Problem] = []
        # an approval that could not be decided (the caller lost its right to act, its
        # database failed) aborts the prepared job, then its error is raised here
        undecided: list[Exception] = []

        def decide(prepared: dict[str, Any]) -> dict[str, Any]:
            assert approve is not None
            try:
                disapproved.extend(approve(statements, resolved_of(prepared.get("resolved"))))
            except Exception as exc:
                undecided.append(exc)
                return {"id": prepared.get("id"), "op": "abort"}
            return {"id": prepared.get("id"), "op": "abort" if disapproved else "proceed"}

        follow_up = decide if approve is not None else None
        wait = timeout or self._submit_timeout
        if config.get(JARS_KEY):
            jars = str(config[JARS_KEY]).split(";")
            tenant = self._tenant(account, jars)
            response, _ = self._one_shot(
                version, python, request, wait, follow_up, tenant, account=account
            )
        else:

            def ask(worker: _Worker) -> dict[str, Any]:
                with self._relayed(worker, request) as relayed:
                    return self._ask(worker, relayed, wait, follow_up=follow_up)

            response = self._shared(version, python, account, ask, wait)
        if undecided:
            raise undecided[0]
        if disapproved:
            return SubmitResult(None, tuple(disapproved), _since(started), approved=False)
        problems = tuple(_problem(statements, p) for p in response.get("problems") or ())
        job_id = response.get("job_id")
        ok = bool(response.get("ok")) and not problems and isinstance(job_id, str)
        return SubmitResult(job_id if ok else None, problems, _since(started))

    def python_of(self, version: str) -> Path:
        return self._home / version / "bin" / "python"

    def _check(
        self, version: str, sql: str, op: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult:
        started = time.monotonic()
        python = self.python_of(version)
        if not engines.is_name(version) or not python.exists():
            raise engines.version_missing(version, str(python))
        statements = sqlscript.split(sql)
        if not statements:
            nothing = sqlscript.Problem(1, 1, "the script has no SQL statement")
            return sqlscript.CheckResult(False, (nothing,), "", _since(started), "")
        for statement in statements:
            refused = sqlscript.loads_code(statement)
            if refused is not None:
                found = sqlscript.Problem(statement.line, statement.column, refused)
                return sqlscript.CheckResult(False, (found,), "", _since(started), "")
        request: dict[str, Any] = {
            "op": op,
            "statements": [{"sql": s.sql, "line": s.line, "column": s.column} for s in statements],
            "settings": flinkconf.settings_policy(),
        }
        if jars:
            request["config"] = {JARS_KEY: ";".join(jars)}
            response, flink_version = self._one_shot(
                version,
                python,
                request,
                self._request_timeout,
                None,
                self._tenant(account, jars),
                account=account,
            )
        else:
            response, flink_version = self._shared(
                version,
                python,
                account,
                lambda worker: (self._ask(worker, request), worker.flink_version),
                self._request_timeout,
            )
        problems = tuple(_problem(statements, p) for p in response.get("problems") or ())
        return sqlscript.CheckResult(
            ok=bool(response.get("ok")) and not problems,
            problems=problems,
            plan=str(response.get("plan") or ""),
            elapsed_ms=_since(started),
            flink_version=flink_version,
            resolved=resolved_of(response.get("resolved")),
        )

    def _one_shot(
        self,
        version: str,
        python: Path,
        request: dict[str, Any],
        timeout: float,
        follow_up: FollowUp | None = None,
        tenant: sandbox.Tenant | None = None,
        *,
        account: str = "",
    ) -> tuple[dict[str, Any], str]:
        """Answer one request in a worker of its own, killed (JVM, tmp dir) afterwards; an
        account takes one isolated worker at a time (the others' turn comes first)."""
        with self._turn(account, ISOLATED_LANE, timeout), self._isolated_slots:
            with self._lock:
                self._refuse_if_closed()
            worker = self._start(version, python, one_shot=True, tenant=tenant)
            with self._lock:
                self._isolated.add(worker)
            try:
                with self._relayed(worker, request) as relayed:
                    answer = self._ask(worker, relayed, timeout, shared=False, follow_up=follow_up)
                return answer, worker.flink_version
            finally:
                _kill(worker)
                with self._lock:
                    self._isolated.discard(worker)

    @contextlib.contextmanager
    def _relayed(self, worker: _Worker, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """A submission to a sandboxed worker, which has no network: the platform relays
        its connections to the JobManager's REST address (runtime/engines/relay.py) for as
        long as the submission takes."""
        if not self._sandboxed or worker.tmp is None or request.get("op") != "submit":
            yield request  # a check reaches nothing
            return
        # the client talks to the JobManager named by rest.address/rest.port through the
        # relay, never to ZooKeeper: without the HA keys it does not look the leader up there
        # (any JobManager's REST endpoint hands a submission to the leading dispatcher)
        config = {
            k: v for k, v in (request.get("config") or {}).items() if not k.startswith(HA_PREFIX)
        }
        target = (config.get("rest.address", ""), int(config.get("rest.port") or 0))
        relay = relay_module.Relay(worker.tmp / f"jobmanager-{worker.next_id + 1}.sock", target)
        try:
            config[relay_module.CONFIG_KEY] = str(relay.path)
            yield {**request, "config": config}
        finally:
            relay.close()

    def isolated_pids(self) -> list[int]:
        """The isolated workers answering right now (tests watch them come and go)."""
        with self._lock:
            return sorted(w.process.pid for w in self._isolated)

    def _shared(
        self,
        version: str,
        python: Path,
        account: str,
        ask: Callable[[_Worker], _Answer],
        timeout: float,
    ) -> _Answer:
        """`ask` one of the version's warm workers, in `account`'s turn. A request that
        keeps every worker busy for `spare_after` seconds starts a spare for the next one."""
        with self._turn(account, version, timeout):
            worker = self._take(version, python, timeout)
            spare = threading.Timer(self._spare_after, self._add_spare, (version,))
            spare.daemon = True
            spare.start()
            try:
                return ask(worker)
            finally:
                spare.cancel()
                with self._changed:
                    worker.busy = False
                    self._changed.notify_all()

    @contextlib.contextmanager
    def _turn(self, account: str, lane: str, timeout: float) -> Iterator[None]:
        """One request in flight per account and lane (a version, or the isolated workers)."""
        key = (account, lane)
        deadline = time.monotonic() + timeout
        with self._changed:
            while key in self._turns:
                self._wait(
                    deadline,
                    f"this account's previous request to the engine workers ({lane}) is "
                    "still running; try again",
                    f"本账号上一个发给引擎的请求（{lane}）仍在运行，请稍后重试",
                )
            self._turns.add(key)
        try:
            yield
        finally:
            with self._changed:
                self._turns.discard(key)
                self._changed.notify_all()

    def _take(self, version: str, python: Path, timeout: float) -> _Worker:
        """An idle live worker of the version (the most recently used: the warmest), or a
        new one when the version has room; else wait for the first to come free (`timeout`,
        and a start's timeout more while one is starting)."""
        deadline = time.monotonic() + timeout
        dead: list[_Worker] = []
        try:
            with self._changed:
                while True:
                    live = self._workers.setdefault(version, [])
                    dead += [w for w in live if w.process.poll() is not None]
                    live[:] = [w for w in live if w.process.poll() is None]
                    idle = [w for w in live if not w.busy]
                    if idle:
                        worker = max(idle, key=lambda w: w.last_used)
                        worker.busy, worker.busy_since = True, time.monotonic()
                        return worker
                    if len(live) + self._starting[version] < self._per_version:
                        self._starting[version] += 1
                        break
                    # a worker starting for the version (a restart, a spare) may take as
                    # long as a start does: wait for it that long too
                    starting = self._start_timeout if self._starting[version] else 0.0
                    self._wait(
                        deadline + starting,
                        f"every engine worker for {version} is busy; try again",
                        f"引擎版本 {version} 的所有引擎进程都在忙，请稍后重试",
                    )
        finally:
            for worker in dead:
                _kill(worker)
        return self._grow(version, python, busy=True)

    def _grow(self, version: str, python: Path, *, busy: bool) -> _Worker:
        """Start a worker for the version (counted in `_starting` by the caller)."""
        try:
            worker = self._start(version, python)
        except BaseException:
            with self._changed:
                self._starting[version] -= 1
                self._changed.notify_all()
            raise
        with self._changed:
            self._starting[version] -= 1
            self._changed.notify_all()
            if not self._closed:
                worker.busy, worker.busy_since = busy, time.monotonic()
                self._workers.setdefault(version, []).append(worker)
                return worker
        _kill(worker)
        raise errors.Unavailable(CLOSING, CLOSING_ZH)

    def _add_spare(self, version: str) -> None:
        """Start a worker when every worker of the version has been busy for `spare_after`
        (a short request frees its worker soon: no spare for it) and there is room for one,
        or when the version's worker died; so the next request finds one warm."""
        with self._changed:
            live = [w for w in self._workers.get(version, ()) if w.process.poll() is None]
            hogged = time.monotonic() - self._spare_after * 0.9  # a timer may fire early
            if (
                self._closed
                or any(not w.busy or w.busy_since > hogged for w in live)
                or self._starting[version]
                or len(live) >= self._per_version
            ):
                return
            self._starting[version] += 1
        try:
            self._grow(version, self.python_of(version), busy=False)
            log.info("engine worker for %s added: every worker was busy", version)
        except Exception as error:
            log.warning("starting an engine worker for %s failed: %s", version, error)

    def _wait(self, deadline: float, busy: str, busy_zh: str) -> None:
        """Wait for a change (the pool's lock is held); past `deadline`, refuse with `busy`."""
        self._refuse_if_closed()
        left = deadline - time.monotonic()
        if left <= 0:
            raise errors.Unavailable(busy, busy_zh, code="EngineWorkerBusy")
        self._changed.wait(left)
        self._refuse_if_closed()

    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise errors.Unavailable(CLOSING, CLOSING_ZH)

    def _tenant(self, account: str, jars: Sequence[str]) -> sandbox.Tenant | None:
        """The sandbox of an isolated worker: the account's user, its JARs read-only."""
        if not self._sandboxed:
            return None
        if not account:
            raise errors.Invalid(
                "a check with JARs runs in the sandbox of the JARs' account: name it",
                "带 JAR 的检查在 JAR 所属账号的沙箱中运行，须指明该账号",
                code="EngineWorkerAccountMissing",
            )
        mounts = tuple(
            sandbox.Mount("/" + jar[len("file:") :].lstrip("/"), False)
            for jar in jars
            if jar.startswith("file:")
        )
        return sandbox.Tenant(sandbox.user_of(account), mounts + self._shared_mounts)

    def _start(
        self,
        version: str,
        python: Path,
        *,
        one_shot: bool = False,
        tenant: sandbox.Tenant | None = None,
    ) -> _Worker:
        kind = "isolated" if one_shot else "worker"
        tmp = Path(tempfile.mkdtemp(prefix=f"rtc-{kind}-{version}-"))
        env = self._environment()
        if one_shot:
            env[ONE_SHOT_ENV] = "1"
        env["TMPDIR"] = str(tmp)
        env["HOME"] = str(tmp)
        env["JAVA_TOOL_OPTIONS"] = f"-Djava.io.tmpdir={tmp}"
        # the gateway's client log, else written into the copy's site-packages/pyflink/log
        env["FLINK_LOG_DIR"] = str(tmp / "log")
        argv, cwd = [str(python), str(WORKER_MAIN)], self._home / version
        if self._sandboxed:
            argv, cwd = self._confined(version, python, env, tmp, one_shot, tenant), tmp
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            cgroups.remove(tmp.name)
            raise
        worker = _Worker(
            version=version,
            process=process,
            lines=queue.Queue(),
            stderr=collections.deque(maxlen=STDERR_LINES),
            started_at=datetime.now(UTC),
            tmp=tmp,
        )
        _thread(f"engine-{version}-stdout", _read_lines, worker)
        _thread(f"engine-{version}-stderr", _drain_stderr, worker)
        try:
            line = worker.lines.get(timeout=self._start_timeout)
        except queue.Empty:
            _kill(worker)
            raise errors.Unavailable(
                f"the engine worker for {version} did not start within "
                f"{self._start_timeout:g} s: {worker.stderr_tail()}",
                f"引擎版本 {version} 的引擎进程未能在 {self._start_timeout:g} 秒内启动；请重试，"
                "如仍失败，请联系运维人员检查该版本的安装",
                code="EngineWorkerStartFailed",
            ) from None
        ready = _decode(line) if line is not None else None
        if ready is None or not ready.get("ready"):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STDERR_WAIT_SECONDS)  # exiting: let it finish stderr
            _kill(worker)
            raise errors.Unavailable(
                f"the engine worker for {version} failed to start: {worker.stderr_tail()}",
                f"引擎版本 {version} 的引擎进程启动失败；请重试，如仍失败，请联系运维人员检查"
                "该版本的安装",
                code="EngineWorkerStartFailed",
            )
        worker.flink_version = str(ready.get("flink_version", ""))
        log.info("engine %s for %s started (pid %d)", kind, version, process.pid)
        return worker

    def _confined(
        self,
        version: str,
        python: Path,
        env: dict[str, str],
        tmp: Path,
        one_shot: bool,
        tenant: sandbox.Tenant | None,
    ) -> list[str]:
        """The worker's command line in its sandbox."""
        who = tenant or sandbox.Tenant(sandbox.WORKER_USER, ())
        uid, gid = sandbox.ensure_user(who.user)
        sandbox.own([tmp], uid, gid)
        venv = Path(os.path.realpath(self._home / version))
        readable = [str(venv), str(WORKER_MAIN), str(RELAY_MAIN)]
        for extra in (sandbox.python_home(venv), env.get("JAVA_HOME")):
            if extra:
                readable.append(extra)
        # getpass (PyFlink's gateway launcher) asks USER first: no passwd file in the sandbox
        named = {**env, "USER": who.user, "LOGNAME": who.user}
        inner = ["env", "-i", *(f"{k}={v}" for k, v in named.items())]
        inner += [str(venv / python.relative_to(self._home / version)), str(WORKER_MAIN)]
        # a shared worker plans every tenant's SQL (two cores); an isolated one is one CU
        limits = cgroups.Limits(cpu_cores=1.0 if one_shot else 2.0, memory_mb=4096)
        # no network at all: py4j's gateway and callback server (which take calls without a
        # token) listen in the worker's own namespace, where nothing else is; a submission
        # reaches its JobManager through the platform's relay (`_relayed`)
        return sandbox.wrap(
            inner,
            key=tmp.name,
            tenant=who,
            limits=limits,
            readable=readable,
            workdir=tmp,
            network=False,
        )

    def _environment(self) -> dict[str, str]:
        """An environment made from nothing (runtime/sandbox.py), with the configured Java.

        `_python_worker_execution_mode=process` keeps PyFlink from starting its Beam loopback
        server (a gRPC server on every interface, one per TableEnvironment) in the worker:
        a check runs no Python function, so nothing needs it."""
        java = shutil.which(self._java)
        return sandbox.clean_environment(
            {
                "PYTHONNOUSERSITE": "1",
                "PYTHONUNBUFFERED": "1",
                "_python_worker_execution_mode": "process",
            },
            java_home=sandbox.java_home_of(java) if java is not None else None,
        )

    def _ask(
        self,
        worker: _Worker,
        request: dict[str, Any],
        timeout: float | None = None,
        *,
        shared: bool = True,
        follow_up: FollowUp | None = None,
    ) -> dict[str, Any]:
        """The worker's answer; a shared worker that dies or hangs is replaced in the
        background (an isolated one is killed by its caller). A `prepared` message on the
        way (a submission waiting for approval) is answered with `follow_up`'s reply."""
        timeout = self._request_timeout if timeout is None else timeout
        worker.next_id += 1
        request_id = worker.next_id
        worker.requests += 1
        worker.last_used = time.time()
        try:
            assert worker.process.stdin is not None
            worker.process.stdin.write(json.dumps({"id": request_id, **request}).encode() + b"\n")
            worker.process.stdin.flush()
            deadline = time.monotonic() + timeout
            while True:
                line = worker.lines.get(timeout=max(deadline - time.monotonic(), 0.0))
                if line is None:
                    raise BrokenPipeError
                response = _decode(line)
                if response is None or response.get("id") != request_id:
                    continue
                if not response.get("prepared"):
                    return response
                reply = follow_up(response) if follow_up is not None else {"op": "abort"}
                message = {**reply, "id": request_id}
                worker.process.stdin.write(json.dumps(message).encode() + b"\n")
                worker.process.stdin.flush()
        except (BrokenPipeError, OSError):
            self._forget(worker)
            if not shared:
                raise errors.Unavailable(
                    f"the isolated engine worker for {worker.version} stopped while "
                    f"answering: {worker.stderr_tail()[-1000:]}",
                    f"引擎版本 {worker.version} 的隔离引擎进程在应答时停止，请重试",
                    code="EngineWorkerRestarted",
                ) from None
            self._restart_later(worker.version)
            raise errors.Unavailable(
                f"the engine worker for {worker.version} stopped while checking; "
                "it is restarting: try again",
                f"引擎版本 {worker.version} 的引擎进程在检查时停止，正在重启，请重试",
                code="EngineWorkerRestarted",
            ) from None
        except queue.Empty:
            self._forget(worker)
            log.warning(
                "engine worker for %s did not answer in %g s: killed; stderr: %s",
                worker.version,
                timeout,
                worker.stderr_tail(),
            )
            if shared:
                self._restart_later(worker.version)
            raise errors.Unavailable(
                f"the engine worker for {worker.version} did not answer within "
                f"{timeout:g} s and was restarted: try again",
                f"引擎版本 {worker.version} 的引擎进程未在 {timeout:g} 秒内应答，已重启，请重试",
                code="EngineWorkerTimeout",
            ) from None
        finally:
            worker.last_used = time.time()

    def _forget(self, worker: _Worker) -> None:
        """Kill `worker` and drop it from the pool."""
        _kill(worker)
        with self._changed:
            live = self._workers.get(worker.version, [])
            if worker in live:
                live.remove(worker)
            self._changed.notify_all()

    def _restart_later(self, version: str) -> None:
        """Start a fresh worker in the background (unless one is idle), so the retry finds
        it warm."""
        _thread(f"engine-{version}-restart", self._add_spare, version)

    def reap_idle(self) -> list[str]:
        """Stop workers idle longer than `idle_seconds` (and forget dead ones); the versions
        of the stopped ones, a version once per worker."""
        now = time.time()
        reaped: list[tuple[_Worker, bool]] = []
        with self._changed:
            for live in self._workers.values():
                for worker in list(live):
                    dead = worker.process.poll() is not None
                    idle = not worker.busy and now - worker.last_used > self._idle_seconds
                    if dead or idle:
                        live.remove(worker)
                        reaped.append((worker, dead))
        stopped = []
        for worker, dead in reaped:
            _kill(worker)
            if not dead:
                log.info("engine worker for %s idle: stopped", worker.version)
                stopped.append(worker.version)
        return stopped

    def stop_version(self, version: str) -> None:
        """Stop the version's workers, once their requests are answered (e.g. before the
        version is removed)."""
        deadline = time.monotonic() + self._submit_timeout
        with self._changed:
            while any(w.busy for w in self._workers.get(version, ())):
                if not self._changed.wait(max(deadline - time.monotonic(), 0.0)):
                    break  # stuck: stopped all the same
            workers = self._workers.pop(version, [])
        for worker in workers:
            _stop(worker)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            workers = [w for live in self._workers.values() for w in live]
            self._workers.clear()
            isolated = list(self._isolated)
            self._changed.notify_all()
        for worker in workers:
            _stop(worker)
        for worker in isolated:
            _kill(worker)

    def status(self) -> list[WorkerStatus]:
        with self._lock:
            workers = [w for live in self._workers.values() for w in live]
        return [
            WorkerStatus(
                version=w.version,
                pid=w.process.pid,
                started_at=w.started_at,
                last_used=datetime.fromtimestamp(w.last_used, UTC),
                requests=w.requests,
            )
            for w in sorted(workers, key=lambda w: (w.version, w.started_at))
        ]


def resolved_of(raw: Any) -> sqlscript.Resolved:
    """The worker's `resolved` report as domain values (anything malformed is dropped)."""
    if not isinstance(raw, dict):
        return sqlscript.Resolved()
    tables = tuple(
        sqlscript.ResolvedTable(
            int(t.get("statement") or 0),
            str(t.get("name") or ""),
            tuple(sorted((str(k), str(v)) for k, v in (t.get("options") or {}).items())),
            t.get("sink") is True,
        )
        for t in raw.get("tables") or ()
        if isinstance(t, dict) and isinstance(t.get("options") or {}, dict)
    )
    settings = tuple(
        sqlscript.ResolvedSetting(
            int(s.get("statement") or 0), str(s.get("key") or ""), s.get("applied") is True
        )
        for s in raw.get("settings") or ()
        if isinstance(s, dict)
    )
    functions = tuple(
        sqlscript.ResolvedFunction(
            int(f.get("statement") or 0),
            str(f.get("name") or ""),
            str(f.get("class") or ""),
            str(f.get("language") or ""),
        )
        for f in raw.get("functions") or ()
        if isinstance(f, dict)
    )
    return sqlscript.Resolved(tables, settings, functions)


def _problem(statements: tuple[sqlscript.Statement, ...], raw: dict[str, Any]) -> sqlscript.Problem:
    message = str(raw.get("message", ""))
    index = raw.get("statement")
    if not isinstance(index, int) or not 0 <= index < len(statements):
        return sqlscript.Problem(statements[0].line, statements[0].column, message)
    line, column = sqlscript.to_script(
        statements[index], int(raw.get("line") or 1), int(raw.get("column") or 1)
    )
    return sqlscript.Problem(line, column, message)


def _decode(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _thread(name: str, target: Any, *args: Any) -> None:
    threading.Thread(target=target, args=args, name=name, daemon=True).start()


def _read_lines(worker: _Worker) -> None:
    """Protocol lines into the worker's queue; None once stdout ends (the worker died)."""
    assert worker.process.stdout is not None
    for line in iter(worker.process.stdout.readline, b""):
        worker.lines.put(line)
    worker.lines.put(None)


def _drain_stderr(worker: _Worker) -> None:
    """Keep the stderr pipe empty: the last lines in a ring buffer, all of them at debug."""
    assert worker.process.stderr is not None
    for raw in iter(worker.process.stderr.readline, b""):
        line = raw.decode(errors="replace").rstrip()
        worker.stderr.append(line)
        log.debug("engine %s: %s", worker.version, line)
    worker.stderr_closed.set()


def _kill(worker: _Worker) -> None:
    """SIGKILL the worker's process group (the interpreter and its JVM) and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(worker.process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        worker.process.wait(timeout=10)
    if worker.process.stdin is not None:  # stdout and stderr: their reader threads end at EOF
        with contextlib.suppress(OSError):
            worker.process.stdin.close()
    if worker.tmp is not None:
        shutil.rmtree(worker.tmp, ignore_errors=True)
        if cgroups.exists(worker.tmp.name):  # a sandboxed worker
            cgroups.remove(worker.tmp.name)


def _stop(worker: _Worker) -> None:
    """Close its input (the worker ends itself, its JVM with it), then make sure."""
    if worker.process.stdin is not None:
        with contextlib.suppress(OSError):
            worker.process.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        worker.process.wait(timeout=STOP_GRACE_SECONDS)
    _kill(worker)
    log.info("engine worker for %s stopped", worker.version)
