"""SQL scripts: statements with their place in the script, and Flink's positions mapped back.

Flink plans one statement at a time and reports positions inside the text it was given
(`at line 3, column 17`), so a script is split on `;` first and every statement keeps the
line and column where it starts. A `;` inside a string literal ('it''s; fine'), a quoted
identifier (`a;b` or "a;b") or a comment does not end a statement. Lines are counted as
Flink's parser counts them (`\\n`, `\\r\\n` and a lone `\\r` each end a line) and columns are
characters (code points), while Flink's columns are Java's UTF-16 units: a character outside
the Basic Multilingual Plane is one column here and two there, so the mapping converts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    """One statement as sent to Flink (no `;`, no leading blanks or comments)."""

    sql: str
    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    """What is wrong and where, in script coordinates (1-based); `zh`: the same in Chinese,
    for the platform's own rules (Flink's messages are English only)."""

    line: int
    column: int
    message: str
    zh: str = ""


@dataclass(frozen=True)
class ResolvedTable:
    """A table as Flink resolved it after statement `statement` (0-based) created or changed
    it: its final options, whatever literal forms, LIKE or ALTER produced them. `sink`: the
    record of a table an INSERT (or CREATE TABLE AS) writes, as that statement resolved it."""

    statement: int
    name: str
    options: tuple[tuple[str, str], ...]
    sink: bool = False


@dataclass(frozen=True)
class ResolvedSetting:
    statement: int
    key: str
    applied: bool  # the engine applied it (its key was on the allow-list it was sent)


@dataclass(frozen=True)
class ResolvedFunction:
    statement: int
    name: str
    class_name: str
    language: str


@dataclass(frozen=True)
class Resolved:
    """What Flink's parser and catalog made of a script: what the isolation rules decide on."""

    tables: tuple[ResolvedTable, ...] = ()
    settings: tuple[ResolvedSetting, ...] = ()
    functions: tuple[ResolvedFunction, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    problems: tuple[Problem, ...]
    plan: str
    elapsed_ms: float
    flink_version: str
    resolved: Resolved = Resolved()


# the start of Flink's (Calcite's) positions: `at line 3, column 17`,
# `From line 1, column 31 to line 1, column 39` (a range: its start is taken)
_POSITION = re.compile(r"\b(?:at|from) line (\d+), column (\d+)", re.IGNORECASE)


def split(script: str) -> tuple[Statement, ...]:
    """The script's non-empty statements, each with its starting line and column."""
    statements: list[Statement] = []
    start: int | None = None  # index of the current statement's first significant character
    start_at = (1, 1)
    line, column = 1, 1
    index = 0
    length = len(script)
    while index <= length:
        char = script[index] if index < length else ";"  # the end closes the last statement
        if char == ";":
            if start is not None:
                text = script[start:index].rstrip()
                statements.append(Statement(text, *start_at))
            start = None
            index += 1
            column += 1
            continue
        following = script[index + 1] if index + 1 < length else ""
        if char == "-" and following == "-":
            end = _line_end(script, index)
        elif char == "/" and following == "*":
            closing = script.find("*/", index + 2)
            end = length if closing < 0 else closing + 2
        elif char in "'`\"":
            if start is None:
                start, start_at = index, (line, column)
            end = _quoted_end(script, index, char)
        else:
            if not char.isspace() and start is None:
                start, start_at = index, (line, column)
            end = index + 2 if script.startswith("\r\n", index) else index + 1
        line, column = _advance(script[index:end], line, column)
        index = end
    return tuple(statements)


def _line_end(script: str, index: int) -> int:
    """The end of a `--` comment: before the line break, which is counted as one."""
    for position in range(index, len(script)):
        if script[position] in "\r\n":
            return position
    return len(script)


def _quoted_end(script: str, index: int, quote: str) -> int:
    """Just past the closing quote; a doubled quote is an escaped one; unclosed: the end."""
    position = index + 1
    while True:
        closing = script.find(quote, position)
        if closing < 0:
            return len(script)
        if script.startswith(quote * 2, closing):
            position = closing + 2
            continue
        return closing + 1


def _advance(text: str, line: int, column: int) -> tuple[int, int]:
    """The position after `text`, counting line breaks as Flink's parser does."""
    previous = ""
    for char in text:
        if char == "\n":
            if previous != "\r":
                line += 1
            column = 1
        elif char == "\r":
            line += 1
            column = 1
        else:
            column += 1
        previous = char
    return line, column


def position_in(message: str) -> tuple[int, int] | None:
    """The first (line, column) Flink's message names, or None."""
    found = _POSITION.search(message)
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2))


def to_script(statement: Statement, line: int, column: int) -> tuple[int, int]:
    """Map Flink's (line, UTF-16 column) inside `statement.sql` to (line, column) in the script."""
    lines = _lines(statement.sql)
    line = min(max(line, 1), len(lines))
    column = _code_points(lines[line - 1], max(column, 1))
    if line == 1:
        return statement.line, statement.column + column - 1
    return statement.line + line - 1, column


def problem(statement: Statement, message: str) -> Problem:
    """A problem at the position Flink's message names, else at the statement's start."""
    found = position_in(message)
    line, column = to_script(statement, *found) if found else (statement.line, statement.column)
    return Problem(line, column, message)


def _lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


def _code_points(text: str, utf16_column: int) -> int:
    """The character column of a UTF-16 column (past the end: counted as single units)."""
    units = 0
    for index, char in enumerate(text):
        if units >= utf16_column - 1:
            return index + 1
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text) + 1 + max(utf16_column - 1 - units, 0)


# Statements that would make the worker's JVM (or interpreter) load user code: a syntax
# check runs them for real (DDL is executed), so they are refused. A job brings its code one
# way only: JARs attached to it as resources, checked when attached, frozen when it goes
# online and checked again at start; its checks and its submission then run in a one-shot
# worker of their own with the JARs in `pipeline.jars` (runtime/engines/workers.py), and
# `CREATE FUNCTION ... AS 'class'` finds their classes. `USING JAR` / `ADD JAR` would be a
# second, unlisted way in, so they stay refused even there.
_CODE_ONLY = re.compile(r"--[^\r\n]*|/\*.*?(?:\*/|$)|'(?:[^']|'')*'?", re.DOTALL)
_LOADS_CODE = (
    (re.compile(r"\bUSING\s+JAR\b"), "a function from a JAR (USING JAR)"),
    (re.compile(r"\bLANGUAGE\s+PYTHON\b"), "a Python function (LANGUAGE PYTHON)"),
    (re.compile(r"^(?:ADD|REMOVE)\s+JAR\b"), "ADD JAR / REMOVE JAR"),
    (re.compile(r"^(?:LOAD|UNLOAD)\s+MODULE\b"), "LOAD MODULE / UNLOAD MODULE"),
)
_SET_KEY = re.compile(r"^\s*SET\s*(?:'((?:[^']|'')*)'|([\w.\-]+))", re.IGNORECASE)
_CODE_KEYS = ("pipeline.jars", "pipeline.classpaths", "python.")


def loads_code(statement: Statement) -> str | None:
    """Why the checks and submissions refuse `statement` (it would load user code), or None."""
    code = " ".join(_CODE_ONLY.sub(" ", statement.sql).upper().split())
    what = next((label for pattern, label in _LOADS_CODE if pattern.search(code)), None)
    key = _SET_KEY.match(statement.sql)
    if what is None and key is not None:
        name = (key.group(1) or key.group(2) or "").replace("''", "'").strip().lower()
        if name.startswith(_CODE_KEYS):
            what = f"SET '{name}'"
    if what is None:
        return None
    return (
        f"{what} is not run: the engines load no user code from SQL; attach JARs to the job "
        "as resources instead (CREATE FUNCTION ... AS 'class' then finds their classes)"
    )


# What a statement does with rows, by its first keywords once comments, strings and quoted
# identifiers are blanked: a job's rows must go somewhere, and only these statements write
# them (an INSERT, inside EXECUTE or a statement set too, or CREATE/REPLACE TABLE ... AS); a
# bare query (SELECT, WITH, VALUES) would run with nowhere to write, which a submission
# refuses after its processes started (runtime/engines/worker_main.py `Submitter`). Decided
# on the text, not on Flink's operations, because the engines' check answer does not name
# each statement's kind; the split already knows where every statement starts.
WRITES, QUERY, OTHER = "writes", "query", "other"
_NOT_CODE = re.compile(  # comments (Calcite's `//` too), strings, quoted identifiers
    r"(?:--|//)[^\r\n]*|/\*.*?(?:\*/|$)|'(?:[^']|'')*'?|`(?:[^`]|``)*`?|\"(?:[^\"]|\"\")*\"?",
    re.DOTALL,
)
_WRITING = re.compile(
    r"^(?:INSERT|EXECUTE\s+(?:INSERT|STATEMENT\s+SET))\b"
    r"|^(?:CREATE\s+(?:OR\s+REPLACE\s+)?|REPLACE\s+)(?:TEMPORARY\s+)?TABLE\b"
    r".*\bAS\s*\(*\s*(?:SELECT|WITH|VALUES)\b",
    re.DOTALL,
)
_QUERYING = re.compile(r"^(?:\(\s*)*(?:SELECT|WITH|VALUES|TABLE)\b")


def kind_of(statement: Statement) -> str:
    """WRITES (its rows go to a table), QUERY (a bare query) or OTHER (DDL, SET, USE, ...)."""
    code = " ".join(_NOT_CODE.sub(" ", statement.sql).upper().split())
    if _WRITING.match(code):
        return WRITES
    return QUERY if _QUERYING.match(code) else OTHER


def nowhere_to_write(statements: tuple[Statement, ...]) -> tuple[Problem, ...]:
    """Why a job's script cannot run as a job: each bare query, or no statement that writes."""
    kinds = [kind_of(statement) for statement in statements]
    problems = tuple(
        Problem(
            statement.line,
            statement.column,
            "a job needs an INSERT INTO a sink table: a SELECT alone has nowhere to write its "
            "rows (write INSERT INTO <sink> SELECT ...)",
            "作业需要用 INSERT INTO 写入结果表：单独的 SELECT 查询结果无处写出"
            "（请写成 INSERT INTO <结果表> SELECT ...）",
        )
        for statement, kind in zip(statements, kinds, strict=True)
        if kind == QUERY
    )
    if problems or not statements or WRITES in kinds:
        return problems
    first = statements[0]
    return (
        Problem(
            first.line,
            first.column,
            "a job needs an INSERT INTO a sink table: the script has no INSERT (nor EXECUTE "
            "STATEMENT SET with one), so the job would write nothing",
            "作业需要用 INSERT INTO 写入结果表：脚本中没有 INSERT 语句"
            "（也没有含 INSERT 的 EXECUTE STATEMENT SET），作业不会写出任何数据",
        ),
    )
