"""Splitting SQL scripts and mapping Flink's positions back to them (no I/O)."""

from __future__ import annotations

import pytest

from rtcompute.domain import sqlscript
from rtcompute.domain.sqlscript import Statement


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("", []),
        ("  \n\t ", []),
        (";;  ;\n;", []),
        ("SELECT 1", [("SELECT 1", 1, 1)]),
        ("SELECT 1;", [("SELECT 1", 1, 1)]),
        ("  SELECT 1  ;  ", [("SELECT 1", 1, 3)]),
        ("SELECT 1; SELECT 2", [("SELECT 1", 1, 1), ("SELECT 2", 1, 11)]),
        ("SELECT 1;\nSELECT 2;\n", [("SELECT 1", 1, 1), ("SELECT 2", 2, 1)]),
        # a trailing statement without `;`
        ("SELECT 1;\n\n  SELECT\n  2", [("SELECT 1", 1, 1), ("SELECT\n  2", 3, 3)]),
        # `;` inside a string literal, with '' escapes
        ("SELECT 'a;b' ; SELECT 2", [("SELECT 'a;b'", 1, 1), ("SELECT 2", 1, 16)]),
        ("SELECT 'it''s; ok';SELECT 2", [("SELECT 'it''s; ok'", 1, 1), ("SELECT 2", 1, 20)]),
        ("SELECT '';SELECT 2", [("SELECT ''", 1, 1), ("SELECT 2", 1, 11)]),
        # quoted identifiers
        ("SELECT `a;b` FROM t;x", [("SELECT `a;b` FROM t", 1, 1), ("x", 1, 21)]),
        ('SELECT "a;b";x', [('SELECT "a;b"', 1, 1), ("x", 1, 14)]),
        ("SELECT `a``;b`;x", [("SELECT `a``;b`", 1, 1), ("x", 1, 16)]),
        # a statement may start with a quote
        ("'a;b';x", [("'a;b'", 1, 1), ("x", 1, 7)]),
        # line comments: skipped before a statement, kept inside, `;` in them ignored
        ("-- head; here\nSELECT 1;", [("SELECT 1", 2, 1)]),
        ("SELECT 1 -- one; two\n, 2;", [("SELECT 1 -- one; two\n, 2", 1, 1)]),
        ("SELECT 1 -- tail", [("SELECT 1 -- tail", 1, 1)]),
        ("SELECT 1;-- only a comment\n", [("SELECT 1", 1, 1)]),
        ("SELECT 1; -- c1\n -- c2;\n", [("SELECT 1", 1, 1)]),
        # block comments, over lines, with `;` and quotes inside
        ("/* a; 'b */ SELECT 1;", [("SELECT 1", 1, 13)]),
        ("/* a;\n b; */\n  SELECT /* ; */ 1;", [("SELECT /* ; */ 1", 3, 3)]),
        ("SELECT 1; /* unclosed ; comment", [("SELECT 1", 1, 1)]),
        # `-` and `/` alone are operators
        ("SELECT 4 - 2 / 1;x", [("SELECT 4 - 2 / 1", 1, 1), ("x", 1, 18)]),
        # CRLF and a lone CR each end one line
        (
            "SELECT 1;\r\nSELECT 2;\r\n\r\nSELECT 3",
            [("SELECT 1", 1, 1), ("SELECT 2", 2, 1), ("SELECT 3", 4, 1)],
        ),
        ("SELECT 1;\rSELECT 2", [("SELECT 1", 1, 1), ("SELECT 2", 2, 1)]),
        ("-- c\r\n  SELECT 1", [("SELECT 1", 2, 3)]),
        ("SELECT 'a\r\nb';x", [("SELECT 'a\r\nb'", 1, 1), ("x", 2, 4)]),
        # unicode: columns are characters
        ("SELECT '中文;😀'; SELECT 2", [("SELECT '中文;😀'", 1, 1), ("SELECT 2", 1, 16)]),
        ("SELECT 'é';\n  x", [("SELECT 'é'", 1, 1), ("x", 2, 3)]),
        # an unclosed literal runs to the end
        ("SELECT 'a; SELECT 2", [("SELECT 'a; SELECT 2", 1, 1)]),
        # tabs are one column
        ("\tSELECT 1", [("SELECT 1", 1, 2)]),
    ],
)
def test_split(script: str, expected: list[tuple[str, int, int]]) -> None:
    assert sqlscript.split(script) == tuple(Statement(*item) for item in expected)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ('SQL parse failed. Encountered "FORM" at line 3, column 17.', (3, 17)),
        (
            "SQL validation failed. From line 1, column 31 to line 1, column 39: "
            "Column 'nosuchcol' not found in any table",
            (1, 31),
        ),
        ("SQL validation failed. At line 2, column 15: Column 'x' not found", (2, 15)),
        ("from line 12, column 3 to line 12, column 9: x", (12, 3)),
        ("Cannot discover a connector using option: 'connector'='nosuch'", None),
        ("", None),
    ],
)
def test_position_in(message: str, expected: tuple[int, int] | None) -> None:
    assert sqlscript.position_in(message) == expected


@pytest.mark.parametrize(
    ("statement", "flink", "expected"),
    [
        # first line of the statement: offset by the statement's column
        (Statement("SELECT x", 7, 5), (1, 8), (7, 12)),
        (Statement("SELECT x", 1, 1), (1, 1), (1, 1)),
        # later lines: the statement's line plus, column as is
        (Statement("SELECT\n  FORM t", 3, 9), (2, 3), (4, 3)),
        (Statement("SELECT\r\n  FORM t", 3, 9), (2, 3), (4, 3)),
        (Statement("SELECT\r  FORM t", 3, 9), (2, 3), (4, 3)),
        # Flink counts UTF-16 units: a character outside the BMP is two of them
        (Statement("SELECT '😀😀', nosuch", 1, 1), (1, 16), (1, 14)),
        (Statement("SELECT '😀', n", 2, 3), (1, 13), (2, 14)),
        (Statement("SELECT 'é中', n", 1, 1), (1, 13), (1, 13)),
        # out of range: clamped to the statement
        (Statement("SELECT 1", 4, 2), (0, 0), (4, 2)),
        (Statement("SELECT 1", 4, 2), (9, 3), (4, 4)),
        (Statement("SELECT 1", 4, 2), (1, 20), (4, 21)),
    ],
)
def test_to_script(statement: Statement, flink: tuple[int, int], expected: tuple[int, int]) -> None:
    assert sqlscript.to_script(statement, *flink) == expected


def test_problem_at_flinks_position() -> None:
    statement = Statement("SELECT id\nFORM src", 5, 1)
    message = 'SQL parse failed. Encountered "src" at line 2, column 6.'
    assert sqlscript.problem(statement, message) == sqlscript.Problem(6, 6, message)


def test_problem_without_position_is_at_the_statement_start() -> None:
    statement = Statement("INSERT INTO snk SELECT 1", 8, 3)
    message = "Column types of query result and sink do not match."
    assert sqlscript.problem(statement, message) == sqlscript.Problem(8, 3, message)


def test_split_then_map_round_trip() -> None:
    """A position found in a statement's text lands on the same character in the script."""
    script = (
        "-- job\r\n"
        "CREATE TABLE s (id INT) WITH ('connector' = 'datagen');\r\n"
        "/* sink */ CREATE TABLE k (id INT) WITH ('connector' = 'blackhole'); "
        "INSERT INTO k\r\n"
        "  SELECT '😀', nosuch FROM s;"
    )
    statements = sqlscript.split(script)
    assert [s.sql.split()[0] for s in statements] == ["CREATE", "CREATE", "INSERT"]
    insert = statements[2]
    # Flink's UTF-16 column of `nosuch` on the statement's second line
    second = insert.sql.splitlines()[1]
    utf16 = len(second[: second.index("nosuch")].encode("utf-16-le")) // 2 + 1
    line, column = sqlscript.to_script(insert, 2, utf16)
    script_lines = script.split("\r\n")
    assert script_lines[line - 1][column - 1 :].startswith("nosuch")
    line, column = sqlscript.to_script(insert, 1, 1)
    assert script_lines[line - 1][column - 1 :].startswith("INSERT INTO k")


# ---------------------------------------------------------------- statements that load code

LOADS_CODE = [
    ("CREATE FUNCTION f AS 'a.B' USING JAR '/srv/x.jar'", "USING JAR"),
    ("create temporary system function f as 'a.B' language java using  jar 'x.jar'", "USING JAR"),
    ("CREATE FUNCTION f AS 'm.f' LANGUAGE PYTHON", "LANGUAGE PYTHON"),
    ("ADD JAR '/srv/x.jar'", "ADD JAR"),
    ("remove jar '/srv/x.jar'", "ADD JAR"),
    ("LOAD MODULE hive", "LOAD MODULE"),
    ("SET 'pipeline.jars' = 'file:///x.jar'", "SET 'pipeline.jars'"),
    ("SET pipeline.classpaths = file:///x", "SET 'pipeline.classpaths'"),
    ("SET 'python.executable' = '/bin/sh'", "SET 'python.executable'"),
    ("CREATE FUNCTION f AS 'a.B' -- note\n USING\n\tJAR 'x.jar'", "USING JAR"),
]
NO_CODE = [
    "CREATE FUNCTION f AS 'org.example.Upper'",
    "SELECT 'using jar', 'language python' FROM t",
    "CREATE FUNCTION f AS 'a.B' /* USING JAR 'x' */",
    "SET 'table.exec.state.ttl' = '1 h'",
    "SET 'pipeline.name' = 'python.jobs'",
    "INSERT INTO snk SELECT * FROM src",
]


@pytest.mark.parametrize(("sql", "named"), LOADS_CODE)
def test_statements_that_load_user_code_are_refused(sql: str, named: str) -> None:
    reason = sqlscript.loads_code(sqlscript.Statement(sql, 3, 5))
    assert reason is not None and named in reason, reason
    assert "attach JARs to the job as resources" in reason


@pytest.mark.parametrize("sql", NO_CODE)
def test_other_statements_are_checked(sql: str) -> None:
    assert sqlscript.loads_code(sqlscript.Statement(sql, 1, 1)) is None


KINDS = [
    ("INSERT INTO snk SELECT * FROM src", sqlscript.WRITES),
    ("insert overwrite snk select * from src", sqlscript.WRITES),
    ("EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1", sqlscript.WRITES),
    ("execute\n  insert into a select 1", sqlscript.WRITES),
    ("CREATE TABLE t WITH ('connector' = 'print') AS SELECT id FROM src", sqlscript.WRITES),
    ("CREATE OR REPLACE TABLE t AS (SELECT 1)", sqlscript.WRITES),
    ("REPLACE TABLE t AS WITH x AS (SELECT 1) SELECT * FROM x", sqlscript.WRITES),
    ("SELECT * FROM src", sqlscript.QUERY),
    ("select /* INSERT INTO x */ 1", sqlscript.QUERY),
    ("// a note\nINSERT INTO snk SELECT 1", sqlscript.WRITES),
    ("SELECT 'oss://b/k' // INSERT\n FROM t", sqlscript.QUERY),
    ("WITH x AS (SELECT 1) SELECT * FROM x", sqlscript.QUERY),
    ("VALUES (1), (2)", sqlscript.QUERY),
    ("(SELECT 1) UNION (SELECT 2)", sqlscript.QUERY),
    (
        "CREATE TABLE src (id BIGINT, ts AS PROCTIME()) WITH ('connector' = 'datagen')",
        sqlscript.OTHER,
    ),
    ("CREATE TABLE t (a INT) WITH ('path' = 'AS SELECT')", sqlscript.OTHER),
    ("CREATE TABLE `AS SELECT` (a INT) LIKE src", sqlscript.OTHER),
    ("CREATE VIEW v AS SELECT * FROM src", sqlscript.OTHER),
    ("SET 'pipeline.name' = 'SELECT'", sqlscript.OTHER),
    ("BEGIN STATEMENT SET", sqlscript.OTHER),
    ("END", sqlscript.OTHER),
    ("EXPLAIN SELECT 1", sqlscript.OTHER),
    ("SHOW TABLES", sqlscript.OTHER),
]


@pytest.mark.parametrize(("sql", "kind"), KINDS)
def test_what_a_statement_does_with_rows(sql: str, kind: str) -> None:
    assert sqlscript.kind_of(sqlscript.Statement(sql, 1, 1)) == kind


SOURCE = "CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen');\n"
SINK = "CREATE TABLE snk (id BIGINT) WITH ('connector' = 'blackhole');\n"


def test_a_select_alone_has_nowhere_to_write() -> None:
    script = SOURCE + "-- look at the rows\n  SELECT id FROM src;\n"
    (problem,) = sqlscript.nowhere_to_write(sqlscript.split(script))
    assert (problem.line, problem.column) == (3, 3)
    assert problem.message.startswith(
        "a job needs an INSERT INTO a sink table: a SELECT alone has nowhere to write its rows"
    )
    assert problem.zh.startswith(
        "作业需要用 INSERT INTO 写入结果表：单独的 SELECT 查询结果无处写出"
    )


def test_a_select_beside_an_insert_is_refused_too() -> None:
    script = SOURCE + SINK + "INSERT INTO snk SELECT id FROM src;\nSELECT 1;\n"
    problems = sqlscript.nowhere_to_write(sqlscript.split(script))
    assert [(p.line, p.column) for p in problems] == [(4, 1)]


def test_a_script_of_ddl_only_writes_nothing() -> None:
    script = "\n" + SOURCE + SINK
    (problem,) = sqlscript.nowhere_to_write(sqlscript.split(script))
    assert (problem.line, problem.column) == (2, 1)
    assert "the script has no INSERT" in problem.message
    assert "脚本中没有 INSERT 语句" in problem.zh


@pytest.mark.parametrize(
    "script",
    [
        SOURCE + SINK + "INSERT INTO snk SELECT id FROM src;",
        SOURCE + SINK + "EXECUTE STATEMENT SET BEGIN\nINSERT INTO snk SELECT id FROM src;\nEND;",
        SOURCE + SINK + "BEGIN STATEMENT SET;\nINSERT INTO snk SELECT id FROM src;\nEND;",
        SOURCE + "CREATE TABLE copy WITH ('connector' = 'blackhole') AS SELECT id FROM src;",
        "",  # no statement at all: the check says so itself
    ],
)
def test_a_script_that_writes_passes(script: str) -> None:
    assert sqlscript.nowhere_to_write(sqlscript.split(script)) == ()
