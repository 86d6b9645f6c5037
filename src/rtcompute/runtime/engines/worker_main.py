"""A warm engine worker: one PyFlink process per engine version: syntax checks, submissions.

Run by the version's own interpreter (`<home>/<version>/bin/python worker_main.py`), so it
uses only the standard library and pyflink; it never imports rtcompute, which that
environment does not have. Starting the JVM gateway costs seconds; a check in a warm one
costs tens of milliseconds, which is the point of keeping this process alive.

Protocol (docs/engines.md, "Engine worker protocol"): newline-delimited JSON. The worker
writes `{"ready": true, "flink_version": ...}` once its first TableEnvironment exists, then
answers every request line `{"id", "op", "statements": [{"sql", "line", "column"}]}` with
one line `{"id", "ok", "problems": [{"statement", "line", "column", "message"}], "plan"}`;
positions are those Flink reports inside the statement's own text. The JVM and pyflink may
print, so file descriptor 1 is pointed at stderr and the protocol uses a private copy of
the original stdout. End of input ends the worker (its parent is gone or done with it).
`{"op": "submit", "config": {...}}` runs the script against a remote cluster instead
(`Submitter`) and answers `{"id", "ok", "job_id", "problems"}`. A check may carry a
`config` too: only `pipeline.jars` is read from it, by an isolated worker (started with
RTC_WORKER_ONE_SHOT=1 for one request, so it skips the warm-up), whose environment then
loads the job's JARs so `CREATE FUNCTION ... AS 'class'` resolves against them.

Every request gets a fresh TableEnvironment, made right after the previous answer while
the worker waits, so no table, view, function or setting of one request is visible to the
next (a fresh environment in a warm JVM costs ~50-100 ms; a per-request catalog would leak
temporary objects, `USE CATALOG` and settings). Checks never run a job: DDL is executed
(it only touches the in-memory catalog), INSERTs are explained together as one statement
set, queries with `explain_sql`, and `execution.target` names an executor that does not
exist, so an accidental execution fails instead of running.

What a statement may do is decided on what Flink parsed, never on its text: every statement
goes through Flink's own parser first, and each resulting operation is inspected before
anything runs (`Inspector`). Operations are allowed by class, deny by default (no ADD JAR,
LOAD MODULE, CREATE CATALOG, COMPILE/EXECUTE PLAN, SHOW JOBS, ...); a function whose
resolved definition is in Python or carries resources (USING JAR) is refused before it is
created, so no tenant class loads here; a table hint (`/*+ OPTIONS(..) */`) is refused
(dynamic table options are off, and a sink's hint, which Flink still parses, is refused
here); a SET is applied only when the request's `settings` policy allows its key. Every
answer carries `resolved`: each table's final options (after LIKE, ALTER, literal prefixes,
unicode escapes and concatenation), the SET keys and the functions, so the platform decides
on locations with what Flink will use. A submission with `"confirm": true` stops after its
DDL with `{"id", "prepared": true, "resolved"}` and runs the INSERTs only when the next line
is `{"id", "op": "proceed"}`.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, ClassVar

# an executor that does not exist: anything that tries to run a job fails at once
NO_EXECUTION = "rtcompute-no-execution"

WARM_UP_SOURCE = "CREATE TABLE warm_up_source (id BIGINT) WITH ('connector' = 'datagen')"
WARM_UP_SINK = "CREATE TABLE warm_up_sink (id BIGINT) WITH ('connector' = 'blackhole')"
WARM_UP_INSERT = "INSERT INTO warm_up_sink SELECT id FROM warm_up_source WHERE id > 0"

_POSITION = re.compile(r"\b(?:at|from) line (\d+), column (\d+)", re.IGNORECASE)
_EXCEPTION_PREFIX = re.compile(r"\A(?:Caused by: |: )?[\w$.]+(?:Exception|Error)[\w$]*: ?")
_MESSAGE_LIMIT = 2000


class Fatal(Exception):
    """The JVM gateway is gone: the worker cannot answer any more requests."""


def message_of(error: BaseException) -> str:
    """Flink's own words: the Java exception's message and causes, without stack traces."""
    text = str(error) or repr(error)
    parts: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if line.startswith("An error occurred while calling "):
            continue
        if stripped.startswith("Caused by: ") or (not parts and not current and stripped):
            if current:
                parts.append("\n".join(current))
            current = [_EXCEPTION_PREFIX.sub("", stripped)]
        elif stripped.startswith("at ") or stripped.startswith("... ") or not current:
            if current:
                parts.append("\n".join(current))
            current = []
        else:
            current.append(line.rstrip())
    if current:
        parts.append("\n".join(current))
    kept: list[str] = []
    for part in parts:
        part = part.split("\nWas expecting", 1)[0].strip()
        if part and not any(part in earlier for earlier in kept):
            kept.append(part)
    message = "\nCaused by: ".join(kept) or text.strip()
    return message[:_MESSAGE_LIMIT]


def position_of(message: str) -> tuple[int, int]:
    found = _POSITION.search(message)
    return (int(found.group(1)), int(found.group(2))) if found else (1, 1)


# Operations a check or a submission may run, by the class Flink's parser made (deny by
# default: ADD JAR, LOAD MODULE, USE MODULES, CREATE CATALOG, COMPILE/EXECUTE PLAN, ANALYZE,
# SHOW JOBS, STOP JOB, models, connections and anything a newer Flink adds are refused).
# Catalog DDL only changes this request's in-memory catalog.
CATALOG_OPERATIONS = frozenset(
    {
        "CreateTableOperation", "CreateViewOperation", "CreateDatabaseOperation",
        "DropTableOperation", "DropViewOperation", "DropDatabaseOperation",
        "DropCatalogFunctionOperation", "DropTempSystemFunctionOperation",
        "AlterTableChangeOperation", "AlterTableOptionsOperation", "AlterTableRenameOperation",
        "AlterTableSchemaOperation", "AlterTableAddConstraintOperation",
        "AlterTableDropConstraintOperation", "AlterViewAsOperation", "AlterViewRenameOperation",
        "AlterViewPropertiesOperation", "AlterDatabaseOperation", "UseCatalogOperation",
        "UseDatabaseOperation",
    }
)  # fmt: skip
FUNCTION_OPERATIONS = frozenset(
    {"CreateCatalogFunctionOperation", "CreateTempSystemFunctionOperation",
     "AlterCatalogFunctionOperation"}
)  # fmt: skip
MODIFY_OPERATIONS = frozenset(
    {"SinkModifyOperation", "CreateTableASOperation", "ReplaceTableAsOperation",
     "StatementSetOperation"}
)  # fmt: skip
QUERY_OPERATIONS = frozenset({"PlannerQueryOperation"})
# read the catalog only; the job-talking SHOW JOBS / DESCRIBE JOB are not among them
READ_OPERATIONS = frozenset(
    {
        "ShowTablesOperation", "ShowViewsOperation", "ShowDatabasesOperation",
        "ShowCatalogsOperation", "ShowCurrentCatalogOperation", "ShowCurrentDatabaseOperation",
        "ShowFunctionsOperation", "ShowColumnsOperation", "ShowCreateTableOperation",
        "ShowCreateViewOperation", "ShowModulesOperation", "DescribeTableOperation",
        "ShowPartitionsOperation", "ExplainOperation",
    }
)  # fmt: skip
MARKER_OPERATIONS = frozenset({"BeginStatementSetOperation", "EndStatementSetOperation"})
CODE_REFUSAL = (
    "is not run: the engines load no user code from SQL; attach JARs to the job as "
    "resources instead (CREATE FUNCTION ... AS 'class' then finds their classes)"
)


class Refused(Exception):
    """The platform does not run this statement (decided on Flink's parsed operation)."""


def operation_label(name: str) -> str:
    """`LoadModuleOperation` -> `LOAD MODULE`: the statement a refused operation came from."""
    words = re.findall(r"[A-Z][a-z]*", name.removesuffix("Operation"))
    return " ".join(words).upper() or name


class Policy:
    """Which SET keys this request may apply (the platform's allow-list, sent with it)."""

    def __init__(self, raw: Any) -> None:
        raw = raw if isinstance(raw, dict) else {}
        self.keys = frozenset(str(k) for k in raw.get("keys") or ())
        self.prefixes = tuple(str(p) for p in raw.get("prefixes") or ())
        self.refused = frozenset(str(k) for k in raw.get("refused") or ())

    def allows(self, key: str) -> bool:
        if key in self.refused:
            return False
        return key in self.keys or (bool(self.prefixes) and key.startswith(self.prefixes))


class Inspector:
    """Parses each statement with Flink's parser, refuses what may not run, and records what
    Flink resolved (`resolved` of the answer) for the platform to decide on."""

    def __init__(self, env: Any, policy: Policy, forced: dict[str, str]) -> None:
        self._env = env
        self._j_env = env._j_tenv
        self._policy = policy
        self._forced = forced
        self.tables: list[dict[str, Any]] = []
        self.settings: list[dict[str, Any]] = []
        self.functions: list[dict[str, Any]] = []

    def resolved(self) -> dict[str, Any]:
        return {"tables": self.tables, "settings": self.settings, "functions": self.functions}

    def apply(self, index: int, sql: str) -> str:
        """Run one statement's operations that change the session or catalog; answer its kind
        (insert | query | other) for the caller, which plans the INSERTs and queries."""
        operations = list(self._j_env.getParser().parse(sql))
        kinds = [self._inspect(index, op) for op in operations]
        kind = "other"
        for op, op_kind in zip(operations, kinds, strict=True):
            if op_kind == "catalog":
                self._j_env.executeInternal(op)
                self._record_changed(index, op)
            elif op_kind == "set" and self._set(index, op):
                for key, value in self._forced.items():  # what a SET may never change
                    self._env.get_config().set(key, value)
            elif op_kind in ("insert", "query"):
                kind = op_kind
        return kind

    def _inspect(self, index: int, op: Any) -> str:
        name = str(op.getClass().getSimpleName())
        if name in CATALOG_OPERATIONS or name in READ_OPERATIONS:
            if name == "CreateTableOperation":
                self._record(index, op.getTableIdentifier(), op.getCatalogTable())
            return "catalog"
        if name in FUNCTION_OPERATIONS:
            self._function(index, op)
            return "catalog"
        if name in MODIFY_OPERATIONS:
            self._modify(index, op, name)
            return "insert"
        if name in QUERY_OPERATIONS:
            return "query"
        if name in MARKER_OPERATIONS:
            return "marker"
        if name == "SetOperation":
            return "set"
        if name == "ResetOperation":
            return "marker"  # RESET could undo what the platform forces: nothing to reset
        raise Refused(f"{operation_label(name)} is not allowed on this platform")

    def _modify(self, index: int, op: Any, name: str) -> None:
        if name == "StatementSetOperation":
            for child in op.getOperations():
                self._modify(index, child, str(child.getClass().getSimpleName()))
            return
        if name in ("CreateTableASOperation", "ReplaceTableAsOperation"):
            created = op.getCreateTableOperation()
            table = created.getCatalogTable()
            self._record(index, created.getTableIdentifier(), table, sink=True)
            return
        if name != "SinkModifyOperation":
            raise Refused(f"{operation_label(name)} is not allowed on this platform")
        if op.getDynamicOptions() and len(op.getDynamicOptions()) > 0:
            raise Refused(
                "table hints (/*+ OPTIONS(...) */) are not allowed: set a table's options in "
                "its CREATE TABLE ... WITH (...)"
            )
        table = op.getContextResolvedTable()
        self._record(index, table.getIdentifier(), table.getResolvedTable(), sink=True)

    def _function(self, index: int, op: Any) -> None:
        definition = _method(op, "getCatalogFunction")
        if definition is None:
            raise Refused("this function statement is not allowed on this platform")
        language = str(definition.getFunctionLanguage().name())
        if language == "PYTHON":
            raise Refused(f"a Python function (LANGUAGE PYTHON) {CODE_REFUSAL}")
        if len(definition.getFunctionResources()) > 0:
            raise Refused(f"a function from a JAR (USING JAR) {CODE_REFUSAL}")
        self.functions.append(
            {
                "statement": index,
                "name": str(_method(op, "getFunctionName") or ""),
                "class": str(definition.getClassName()),
                "language": language,
            }
        )

    def _set(self, index: int, op: Any) -> bool:
        """Apply an allowed SET; whether it was applied."""
        if not op.getKey().isPresent():
            return False  # a bare SET lists the settings
        key, value = str(op.getKey().get()), str(op.getValue().get())
        applied = self._policy.allows(key)
        if applied:
            self._env.get_config().set(key, value)
        self.settings.append({"statement": index, "key": key, "applied": applied})
        return applied

    def _record_changed(self, index: int, op: Any) -> None:
        """A table an ALTER changed: its options as the catalog now holds them."""
        name = str(op.getClass().getSimpleName())
        if not name.startswith("AlterTable"):
            return
        if name == "AlterTableRenameOperation":
            identifier = op.getNewTableIdentifier()
        else:
            identifier = op.getTableIdentifier()
        found = self._j_env.getCatalogManager().getTable(identifier)
        if found.isPresent():
            self._record(index, identifier, found.get().getResolvedTable())

    def _record(self, index: int, identifier: Any, table: Any, *, sink: bool = False) -> None:
        if str(table.getTableKind().name()) != "TABLE":
            return
        options = {str(k): str(v) for k, v in dict(table.getOptions()).items()}
        name = str(identifier.asSummaryString())
        self.tables.append({"statement": index, "name": name, "options": options, "sink": sink})


def _method(java_object: Any, name: str) -> Any:
    """The result of the Java object's no-argument method `name`, or None when it has none
    (py4j answers `hasattr` with True for any name)."""
    if not any(m.getName() == name for m in java_object.getClass().getMethods()):
        return None
    return getattr(java_object, name)()


class Checker:
    """Plans statements in a TableEnvironment that is thrown away after each request.

    The next request's environment is made right after an answer is sent, while the worker
    waits for the next line, and in the same thread: the planner keeps Calcite state in
    Java thread-locals, and py4j maps each Python thread to its own Java thread, so an
    environment made in another thread fails to plan (`metadataHandlerProvider`).
    """

    FORCED: ClassVar[dict[str, str]] = {
        "execution.target": NO_EXECUTION,
        "table.dynamic-table-options.enabled": "false",
    }

    def __init__(self, *, warm: bool = True) -> None:
        # imported by name: the control plane's type checker has no pyflink
        common = importlib.import_module("pyflink.common")
        table = importlib.import_module("pyflink.table")
        self._configuration = common.Configuration
        self._settings = table.EnvironmentSettings
        self._table_environment = table.TableEnvironment
        # PyFlink's `EnvironmentSettings.Builder.build()` wraps the thread's context class
        # loader in a new URLClassLoader every time: after n environments every class lookup
        # walks n loaders (checks went from 80 ms to 1.7 s over 500 requests). Each
        # environment is built on the loader the worker started with instead.
        thread = importlib.import_module("pyflink.java_gateway").get_gateway().jvm.Thread
        self._thread = thread
        self._class_loader = thread.currentThread().getContextClassLoader()
        if warm:  # an isolated worker answers one request: it skips the warm-up
            self._warm_up()
        self._spare: Any = self._new()

    def _warm_up(self) -> None:
        """Plan a tiny job once, so the first real check does not pay for class loading
        and code generation (~2 s); start-up absorbs it instead."""
        env = self._new()
        inspector = Inspector(env, Policy(None), self.FORCED)
        inspector.apply(0, WARM_UP_SOURCE)
        inspector.apply(1, WARM_UP_SINK)
        inspector.apply(2, WARM_UP_INSERT)
        statement_set = env.create_statement_set()
        statement_set.add_insert_sql(WARM_UP_INSERT)
        statement_set.explain()

    def new_environment(self, config: dict[str, str]) -> Any:
        self._thread.currentThread().setContextClassLoader(self._class_loader)
        conf = self._configuration()
        for key, value in config.items():  # `pipeline.jars` adds a loader of the JARs
            conf.set_string(key, value)
        settings = self._settings.new_instance().in_streaming_mode().with_configuration(conf)
        return self._table_environment.create(settings.build())

    def _new(self) -> Any:
        return self.new_environment(self.FORCED)

    def take(self) -> Any:
        """A fresh environment for this request (made now if `prepare` has not run)."""
        env, self._spare = self._spare, None
        return env if env is not None else self._new()

    def prepare(self) -> None:
        """Make the next request's environment now, between requests."""
        if self._spare is None:
            self._spare = self._new()

    def check(
        self, statements: list[dict[str, Any]], want_plan: bool, jars: str = "", policy: Any = None
    ) -> dict[str, Any]:
        env = self.take()
        if jars:  # TableConfig.set puts them on the planner's class path (isolated only)
            env.get_config().set("pipeline.jars", jars)
        inspector = Inspector(env, Policy(policy), self.FORCED)
        plans: list[str] = []
        statement_set = None
        first_insert = -1
        for index, statement in enumerate(statements):
            sql = str(statement.get("sql", ""))
            try:
                kind = inspector.apply(index, sql)
                if kind == "insert":
                    if statement_set is None:
                        statement_set, first_insert = env.create_statement_set(), index
                    statement_set.add_insert_sql(sql)
                elif kind == "query":
                    plans.append(env.explain_sql(sql))
            except Refused as refused:
                return {**_failed(index, str(refused), 1, 1), "resolved": inspector.resolved()}
            except Exception as error:
                return {**_failure(index, error), "resolved": inspector.resolved()}
        if statement_set is not None:
            try:
                plans.append(statement_set.explain())
            except Exception as error:
                return {**_failure(first_insert, error), "resolved": inspector.resolved()}
        plan = "\n".join(plans) if want_plan else ""
        return {"ok": True, "problems": [], "plan": plan, "resolved": inspector.resolved()}


class Submitter:
    """Runs a job's script against a remote cluster: DDL and SET here, INSERTs there.

    Each submission gets its own TableEnvironment created with the job's configuration
    (`execution.target=remote`, the cluster's `rest.address`/`rest.port`, an explicit
    `parallelism.default`, restore keys, `pipeline.jars`); the checker's environments never
    see it. `table.dml-sync` is forced off so `execute()` returns once the job is submitted.
    With a `confirm` callback the INSERTs run only once the platform approved what Flink
    resolved (`confirm(resolved)` is True).
    """

    def __init__(self, checker: Checker) -> None:
        self._checker = checker

    def submit(
        self,
        statements: list[dict[str, Any]],
        config: dict[str, str],
        policy: Any = None,
        confirm: Any = None,
    ) -> dict[str, Any]:
        config = dict(config)
        relay = config.pop(RELAY_KEY, "")
        if not relay:
            return self._submit(statements, config, policy, confirm)
        # no network here: the JobManager is reached through the platform's socket, for as
        # long as this submission takes (a shared worker submits to the same ports again)
        # this namespace has its loopback only: the client talks to it there, whatever the
        # JobManager's own address (a joined host's, docs/hosts.md)
        port = int(config.get("rest.port", 0))
        config["rest.address"] = LOOPBACK
        server = listen_through(relay, LOOPBACK, port)
        try:
            return self._submit(statements, config, policy, confirm)
        finally:  # shutdown wakes the thread in accept(), which close alone would not
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)
            server.close()

    def _submit(
        self,
        statements: list[dict[str, Any]],
        config: dict[str, str],
        policy: Any,
        confirm: Any,
    ) -> dict[str, Any]:
        forced = {
            "execution.target": "remote",
            "table.dynamic-table-options.enabled": "false",
            "table.dml-sync": "false",
        }
        env = self._checker.new_environment({**config, **forced})
        for key in ("pipeline.jars", "pipeline.classpaths"):
            if config.get(key):  # TableConfig.set also puts the jars on the planner's class path
                env.get_config().set(key, config[key])
        inspector = Inspector(env, Policy(policy), forced)
        statement_set = None
        first_insert = -1
        for index, statement in enumerate(statements):
            sql = str(statement.get("sql", ""))
            try:
                kind = inspector.apply(index, sql)
                if kind == "insert":
                    if statement_set is None:
                        statement_set, first_insert = env.create_statement_set(), index
                    statement_set.add_insert_sql(sql)
                elif kind == "query":
                    message = "a job runs INSERT statements; a query has nowhere to write"
                    return _failed(index, message, 1, 1)
            except Refused as refused:
                return {**_failed(index, str(refused), 1, 1), "job_id": None}
            except Exception as error:
                return {**_failure(index, error), "job_id": None}
        if statement_set is None:
            return {**_request_problem("the script has no INSERT: nothing to run"), "job_id": None}
        if confirm is not None and not confirm(inspector.resolved()):
            return {**_request_problem("the platform did not approve the script"), "job_id": None}
        try:
            result = statement_set.execute()
            job_id = str(result.get_job_client().get_job_id())
        except Exception as error:
            return {**_failure(first_insert, error), "job_id": None}
        return {"ok": True, "problems": [], "job_id": job_id}


RELAY_KEY = "rtcompute.relay"
LOOPBACK = "127.0.0.1"


def listen_through(path: str, host: str, port: int) -> socket.socket:
    """Listen on host:port (this network namespace's own loopback) and pass every
    connection to the Unix socket `path` (runtime/engines/relay.py, the other side); shutting
    the returned socket down stops listening."""
    server = socket.create_server((host, port))
    # the platform's side of the relay, beside this file (standard library only), copies
    # both ways for the worker's side too
    pump = importlib.import_module("relay").pump

    def accept() -> None:
        while True:
            try:
                inner, _ = server.accept()
            except OSError:
                return  # closed
            outer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                outer.connect(path)
            except OSError:
                inner.close()
                continue
            pump(inner, outer)

    threading.Thread(target=accept, name="relay", daemon=True).start()
    return server


def _failure(index: int, error: BaseException) -> dict[str, Any]:
    protocol = importlib.import_module("py4j.protocol")
    if isinstance(error, protocol.Py4JError) and not isinstance(error, protocol.Py4JJavaError):
        raise Fatal(str(error)) from error
    message = message_of(error)
    return _failed(index, message, *position_of(message))


def _failed(index: int, message: str, line: int, column: int) -> dict[str, Any]:
    problem = {"statement": index, "line": line, "column": column, "message": message}
    return {"ok": False, "problems": [problem], "plan": ""}


def _request_problem(message: str) -> dict[str, Any]:
    problem = {"statement": None, "line": 1, "column": 1, "message": message}
    return {"ok": False, "problems": [problem], "plan": ""}


def answer(
    checker: Checker, raw: bytes, exchange: Callable[[dict[str, Any]], Any] | None = None
) -> dict[str, Any]:
    """The response to one request line; `exchange` sends a message and reads the reply (a
    submission's confirmation)."""
    try:
        request = json.loads(raw)
    except ValueError as error:
        return {"id": None, **_request_problem(f"not a JSON request: {error}")}
    if not isinstance(request, dict):
        return {"id": None, **_request_problem("a request is a JSON object")}
    request_id = request.get("id")
    op = request.get("op")
    if op == "ping":
        return {"id": request_id, "ok": True, "problems": [], "plan": ""}
    if op not in ("validate", "explain", "submit"):
        message = f"unknown op {op!r}: expected validate, explain, submit or ping"
        return {"id": request_id, **_request_problem(message)}
    statements = request.get("statements")
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        message = 'statements must be a list of {"sql", "line", "column"} objects'
        return {"id": request_id, **_request_problem(message)}
    config = request.get("config") or {}
    if not isinstance(config, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in config.items()
    ):
        return {"id": request_id, **_request_problem("config must map strings to strings")}
    policy = request.get("settings")
    confirm = None
    if op == "submit" and request.get("confirm") is True:
        if exchange is None:
            return {"id": request_id, **_request_problem("this worker cannot confirm")}

        def confirm(resolved: dict[str, Any]) -> bool:
            assert exchange is not None
            reply = exchange({"id": request_id, "prepared": True, "resolved": resolved})
            return (
                isinstance(reply, dict)
                and reply.get("id") == request_id
                and reply.get("op") == "proceed"
            )

    try:
        if op == "submit":
            result = Submitter(checker).submit(statements, config, policy, confirm)
        else:
            jars = str(config.get("pipeline.jars") or "")
            result = checker.check(statements, op == "explain", jars, policy)
    except Fatal:
        raise
    except Exception as error:  # never crash on a bad request
        traceback.print_exc()
        result = _request_problem(f"worker error: {error}")
    return {"id": request_id, **result}


def watch_parent() -> None:
    """Kill the whole process group (this worker and its JVM) once the parent is gone.

    End of input already ends an idle worker; this covers a parent that dies while a
    request is being planned (or hangs in the JVM).
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        if os.getpgrp() == os.getpid():  # our own group (the pool starts us that way)
            os.killpg(os.getpgrp(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)  # the JVM ends when its stdin closes

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> int:
    watch_parent()
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # whatever else prints (the JVM, pyflink) goes to stderr
    sys.stdout = sys.stderr

    def send(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    try:
        flink_version = str(importlib.import_module("pyflink.version").__version__)
        checker = Checker(warm=os.environ.get("RTC_WORKER_ONE_SHOT") != "1")
    except Exception:
        traceback.print_exc()
        return 2
    send({"ready": True, "flink_version": flink_version})
    lines = iter(sys.stdin.buffer.readline, b"")

    def exchange(message: dict[str, Any]) -> Any:
        send(message)
        for line in lines:
            if line.strip():
                try:
                    return json.loads(line)
                except ValueError:
                    return None
        return None

    for raw in lines:
        if not raw.strip():
            continue
        try:
            response = answer(checker, raw, exchange)
        except Fatal:
            traceback.print_exc()
            return 3
        send(response)
        try:
            checker.prepare()
        except Exception:
            traceback.print_exc()
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
