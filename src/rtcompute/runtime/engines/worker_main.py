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
"""

from __future__ import annotations

import importlib
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
from typing import Any

# an executor that does not exist: anything that tries to run a job fails at once
NO_EXECUTION = "rtcompute-no-execution"

WARM_UP_SOURCE = "CREATE TABLE warm_up_source (id BIGINT) WITH ('connector' = 'datagen')"
WARM_UP_SINK = "CREATE TABLE warm_up_sink (id BIGINT) WITH ('connector' = 'blackhole')"
WARM_UP_INSERT = "INSERT INTO warm_up_sink SELECT id FROM warm_up_source WHERE id > 0"

_LEADING = re.compile(r"\A(?:\s+|--[^\r\n]*|/\*.*?\*/)*", re.DOTALL)
_DDL = frozenset({"CREATE", "DROP", "ALTER", "USE", "SHOW", "DESCRIBE", "DESC", "LOAD", "UNLOAD"})
_TABLE_AS = re.compile(
    r"\A(?:CREATE|REPLACE)(?:\s+OR\s+REPLACE)?(?:\s+TEMPORARY)?\s+TABLE\b", re.IGNORECASE
)
_AS_QUERY = re.compile(r"\bAS\s*\(*\s*(?:SELECT|WITH|VALUES)\b", re.IGNORECASE)
_QUOTED = r"'(?:[^']|'')*'"
_SET = re.compile(
    rf"\ASET(?:\s*(?P<key>{_QUOTED}|[\w.\-]+)\s*=\s*(?P<value>{_QUOTED}|\S+))?\s*\Z",
    re.IGNORECASE | re.DOTALL,
)
_POSITION = re.compile(r"\b(?:at|from) line (\d+), column (\d+)", re.IGNORECASE)
_EXCEPTION_PREFIX = re.compile(r"\A(?:Caused by: |: )?[\w$.]+(?:Exception|Error)[\w$]*: ?")
_MESSAGE_LIMIT = 2000


class Fatal(Exception):
    """The JVM gateway is gone: the worker cannot answer any more requests."""


def kind_of(sql: str) -> str:
    """insert | ddl | set | marker | query, from the statement's leading keywords."""
    text = _LEADING.sub("", sql)
    words = re.findall(r"[A-Za-z_]+", text[:64])
    first = words[0].upper() if words else ""
    if first == "INSERT":
        return "insert"
    if _TABLE_AS.match(text) and _AS_QUERY.search(text):
        return "insert"  # CREATE/REPLACE TABLE ... AS SELECT runs a job: plan it instead
    if first in _DDL:
        return "ddl"
    if first in ("SET", "RESET"):
        return "set"
    head = " ".join(word.upper() for word in words[:3])
    if head in ("BEGIN STATEMENT SET", "END"):
        return "marker"  # the SQL client's statement-set brackets; the INSERTs are collected
    return "query"


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


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


class Checker:
    """Plans statements in a TableEnvironment that is thrown away after each request.

    The next request's environment is made right after an answer is sent, while the worker
    waits for the next line, and in the same thread: the planner keeps Calcite state in
    Java thread-locals, and py4j maps each Python thread to its own Java thread, so an
    environment made in another thread fails to plan (`metadataHandlerProvider`).
    """

    def __init__(self, *, warm: bool = True) -> None:
        # imported by name: the control plane's type checker has no pyflink
        common = importlib.import_module("pyflink.common")
        table = importlib.import_module("pyflink.table")
        self._configuration = common.Configuration
        self._settings = table.EnvironmentSettings
        self._table_environment = table.TableEnvironment
        if warm:  # an isolated worker answers one request: it skips the warm-up
            self._warm_up()
        self._spare: Any = self._new()

    def _warm_up(self) -> None:
        """Plan a tiny job once, so the first real check does not pay for class loading
        and code generation (~2 s); start-up absorbs it instead."""
        env = self._new()
        env.execute_sql(WARM_UP_SOURCE)
        env.execute_sql(WARM_UP_SINK)
        statement_set = env.create_statement_set()
        statement_set.add_insert_sql(WARM_UP_INSERT)
        statement_set.explain()

    def _new(self) -> Any:
        conf = self._configuration()
        conf.set_string("execution.target", NO_EXECUTION)
        settings = self._settings.new_instance().in_streaming_mode().with_configuration(conf)
        return self._table_environment.create(settings.build())

    def take(self) -> Any:
        """A fresh environment for this request (made now if `prepare` has not run)."""
        env, self._spare = self._spare, None
        return env if env is not None else self._new()

    def prepare(self) -> None:
        """Make the next request's environment now, between requests."""
        if self._spare is None:
            self._spare = self._new()

    def check(
        self, statements: list[dict[str, Any]], want_plan: bool, jars: str = ""
    ) -> dict[str, Any]:
        env = self.take()
        if jars:  # TableConfig.set puts them on the planner's class path (isolated only)
            env.get_config().set("pipeline.jars", jars)
        plans: list[str] = []
        statement_set = None
        first_insert = -1
        for index, statement in enumerate(statements):
            sql = str(statement.get("sql", ""))
            kind = kind_of(sql)
            try:
                if kind == "insert":
                    if statement_set is None:
                        statement_set, first_insert = env.create_statement_set(), index
                    statement_set.add_insert_sql(sql)
                elif kind == "ddl":
                    env.execute_sql(sql)
                elif kind == "set":
                    problem = self._set(env, sql)
                    if problem:
                        return _failed(index, problem, 1, 1)
                elif kind == "query":
                    plans.append(env.explain_sql(sql))
                env.get_config().set("execution.target", NO_EXECUTION)
            except Exception as error:
                return _failure(index, error)
        if statement_set is not None:
            try:
                plans.append(statement_set.explain())
            except Exception as error:
                return _failure(first_insert, error)
        return {"ok": True, "problems": [], "plan": "\n".join(plans) if want_plan else ""}

    @staticmethod
    def _set(env: Any, sql: str) -> str:
        """Apply `SET 'key' = 'value'` to this request's configuration (RESET: nothing)."""
        text = _LEADING.sub("", sql).strip()
        if text.upper().startswith("RESET"):
            return ""
        found = _SET.match(text)
        if found is None:
            return "SET expects 'key' = 'value', e.g. SET 'pipeline.name' = 'orders'"
        if found.group("key"):
            key, value = _unquote(found.group("key")), _unquote(found.group("value"))
            env.get_config().set(key, value)
        return ""


class Submitter:
    """Runs a job's script against a remote cluster: DDL and SET here, INSERTs there.

    Each submission gets its own TableEnvironment created with the job's configuration
    (`execution.target=remote`, the cluster's `rest.address`/`rest.port`, an explicit
    `parallelism.default`, restore keys, `pipeline.jars`); the checker's environments never
    see it. `table.dml-sync` is forced off so `execute()` returns once the job is submitted.
    """

    def __init__(self, checker: Checker) -> None:
        self._checker = checker

    def submit(self, statements: list[dict[str, Any]], config: dict[str, str]) -> dict[str, Any]:
        conf = self._checker._configuration()
        for key, value in config.items():
            conf.set_string(key, value)
        conf.set_string("execution.target", "remote")
        settings = self._checker._settings.new_instance().in_streaming_mode()
        env = self._checker._table_environment.create(settings.with_configuration(conf).build())
        for key in ("pipeline.jars", "pipeline.classpaths"):
            if config.get(key):  # TableConfig.set also puts the jars on the planner's class path
                env.get_config().set(key, config[key])
        statement_set = None
        first_insert = -1
        for index, statement in enumerate(statements):
            sql = str(statement.get("sql", ""))
            kind = kind_of(sql)
            try:
                if kind == "insert":
                    if statement_set is None:
                        statement_set, first_insert = env.create_statement_set(), index
                    statement_set.add_insert_sql(sql)
                elif kind == "ddl":
                    env.execute_sql(sql)
                elif kind == "set":
                    problem = Checker._set(env, sql)
                    if problem:
                        return _failed(index, problem, 1, 1)
                elif kind == "query":
                    message = "a job runs INSERT statements; a query has nowhere to write"
                    return _failed(index, message, 1, 1)
            except Exception as error:
                return _failure(index, error)
        if statement_set is None:
            return {**_request_problem("the script has no INSERT: nothing to run"), "job_id": None}
        try:
            env.get_config().set("table.dml-sync", "false")
            env.get_config().set("execution.target", "remote")
            result = statement_set.execute()
            job_id = str(result.get_job_client().get_job_id())
        except Exception as error:
            return {**_failure(first_insert, error), "job_id": None}
        return {"ok": True, "problems": [], "job_id": job_id}


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


def answer(checker: Checker, raw: bytes) -> dict[str, Any]:
    """The response to one request line."""
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
    try:
        if op == "submit":
            result = Submitter(checker).submit(statements, config)
        else:
            jars = str(config.get("pipeline.jars") or "")
            result = checker.check(statements, op == "explain", jars)
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
    for raw in iter(sys.stdin.buffer.readline, b""):
        if not raw.strip():
            continue
        try:
            response = answer(checker, raw)
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
