"""What a job's SQL may point at: the location rules of isolation (docs/security.md).

A tenant's SQL runs on machines the operator owns, so every location it names (connector
options such as the filesystem `path`) must lie inside a bucket of the job's account, and
every `SET` must name an allow-listed key. The defence decides on what Flink resolved
(`classify` and `is_location` applied to each table's final options, services/jobs/paths.py
`judge`): the SQL text sees less than Flink does (literal prefixes, unicode escapes,
concatenation, LIKE, ALTER). `find` reads the text too, for two reasons only: a quick first
answer at the literal's own line and column, and the rewrite of `oss://bucket/key` literals
into the bucket's directory for Flink, which knows nothing of buckets; what the rewrite
misses is refused by the judgement of the resolved options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rtcompute.domain import flinkconf, names, sqlscript

OSS = "oss"
FILE = "file"


@dataclass(frozen=True)
class Location:
    """A location literal inside statement `statement` at [start, end) of its text."""

    statement: int
    start: int  # offset of the literal's opening quote in the statement
    end: int  # offset after its closing quote
    option: str  # the option key, or "jar"
    raw: str
    scheme: str  # oss | file
    bucket: str  # oss only
    path: str  # oss: the key; file: the absolute path
    line: int
    column: int


@dataclass(frozen=True)
class Found:
    locations: tuple[Location, ...]
    problems: tuple[sqlscript.Problem, ...]


_SKIP = re.compile(
    r"'(?:[^']|'')*'?|--[^\r\n]*|/\*.*?(?:\*/|\Z)|`(?:[^`]|``)*`?|\"(?:[^\"]|\"\")*\"?", re.DOTALL
)
_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_PAIR = re.compile(r"'((?:[^']|'')*)'\s*=\s*'((?:[^']|'')*)'", re.DOTALL)
_WITH = re.compile(r"\bWITH\s*\(", re.IGNORECASE)
_JAR = re.compile(r"\b(?:USING\s+JAR|ADD\s+JAR)\s*('(?:[^']|'')*')", re.IGNORECASE)
_SET = re.compile(r"\ASET\s*(?:'((?:[^']|'')*)'|([\w.\-]+))", re.IGNORECASE)
_SCHEME = re.compile(r"\A([A-Za-z][A-Za-z0-9+.\-]*):")
# option keys whose value is a location
_PATH_KEY = re.compile(r"(?:\A|[.\-])(?:path|dir|directory|uri|url|file|jar|jars)\Z", re.I)
# schemes that name storage (refused unless oss:// or file:// inside a bucket)
_STORAGE_SCHEMES = frozenset(
    {"file", "oss", "hdfs", "s3", "s3a", "s3n", "s3p", "gs", "wasb", "wasbs", "abfs", "abfss",
     "viewfs", "ftp", "sftp", "http", "https", "jar", "cos", "obs", "har"}
)  # fmt: skip


def _blank_skipped(sql: str) -> str:
    """The statement with comments and quoted identifiers blanked (same length), so the
    patterns below only see code and string literals."""
    return _SKIP.sub(lambda m: m.group(0) if m.group(0)[0] == "'" else " " * len(m.group(0)), sql)


def _literal_spans(code: str) -> list[tuple[int, int]]:
    """[start, end) of every string literal of the blanked statement."""
    return [m.span() for m in _SKIP.finditer(code) if m.group(0)[0] == "'"]


def _in_literal(spans: list[tuple[int, int]], offset: int) -> bool:
    return any(start <= offset < end for start, end in spans)


def _unquote(text: str) -> str:
    return text.replace("''", "'")


def _position(statement: sqlscript.Statement, offset: int) -> tuple[int, int]:
    before = statement.sql[:offset]
    lines = re.split(r"\r\n|\r|\n", before)
    if len(lines) == 1:
        return statement.line, statement.column + len(before)
    return statement.line + len(lines) - 1, len(lines[-1]) + 1


def _problem(statement: sqlscript.Statement, offset: int, message: str) -> sqlscript.Problem:
    line, column = _position(statement, offset)
    return sqlscript.Problem(line, column, message)


def classify(raw: str) -> tuple[str, str, str] | str:
    """(scheme, bucket, path) of an allowed-looking location, or why it is refused."""
    value = raw.strip()
    found = _SCHEME.match(value)
    scheme = found.group(1).lower() if found else ""
    if scheme == OSS:
        rest = value[len("oss://") :] if value.lower().startswith("oss://") else ""
        bucket, _, key = rest.partition("/")
        if not names.BUCKET.fits(bucket):
            return "an oss location reads oss://<bucket>/<key>"
        segments = [s for s in key.split("/") if s]
        if any(s in ("..", ".") for s in segments) or "\\" in key:
            return "'..' and '.' are not allowed in a location"
        return OSS, bucket, "/".join(segments) + ("/" if key.endswith("/") and segments else "")
    if scheme == FILE:
        path = value[len("file:") :]
        if path.startswith("//") and not path.startswith("///"):
            return "a file: location names no host: file:///<path>"
        path = "/" + path.lstrip("/") if path.startswith("/") else path
    elif scheme:
        return (
            f"the {scheme}: scheme is not allowed: a job reaches storage only through "
            "oss://<bucket>/<key> of its own account's buckets"
        )
    else:
        path = value
    if not path.startswith("/"):
        return "relative paths are not allowed: use oss://<bucket>/<key>"
    segments = path.split("/")
    if any(s in ("..", ".") for s in segments) or "\\" in path:
        return "'..' and '.' are not allowed in a location"
    return FILE, "", "/" + "/".join(s for s in segments if s)


def is_location(key: str, value: str) -> bool:
    if _PATH_KEY.search(key):
        return True
    found = _SCHEME.match(value.strip())
    if found and found.group(1).lower() in _STORAGE_SCHEMES:
        return True
    return value.startswith("/") or value.startswith("./") or value.startswith("../")


def _location(
    statement: sqlscript.Statement, index: int, option: str, start: int, end: int, raw: str
) -> Location | sqlscript.Problem:
    classified = classify(raw)
    if isinstance(classified, str):
        return _problem(statement, start, f"{option} {raw[:200]!r}: {classified}")
    scheme, bucket, path = classified
    line, column = _position(statement, start)
    return Location(index, start, end, option, raw, scheme, bucket, path, line, column)


def find(statements: tuple[sqlscript.Statement, ...]) -> Found:
    """Every location and every refused SET key or location in the statements."""
    locations: list[Location] = []
    problems: list[sqlscript.Problem] = []

    def add(found: Location | sqlscript.Problem) -> None:
        (locations if isinstance(found, Location) else problems).append(found)  # type: ignore[arg-type]

    for index, statement in enumerate(statements):
        code = _blank_skipped(statement.sql)
        set_key = _SET.match(code.lstrip())
        if set_key is not None:
            key = _unquote(set_key.group(1) or set_key.group(2) or "").strip()
            if key and not flinkconf.is_allowed_key(key):
                offset = len(code) - len(code.lstrip())
                problems.append(_problem(statement, offset, f"SET {key_refusal(key)}"))
            continue
        # keywords inside a string literal ('... ADD JAR ...') are text, not code
        spans = _literal_spans(code)
        for jar in _JAR.finditer(code):
            if _in_literal(spans, jar.start()):
                continue
            literal = jar.group(1)
            raw = _unquote(literal[1:-1])
            add(_location(statement, index, "jar", jar.start(1), jar.end(1), raw))
        for with_clause in _WITH.finditer(code):
            if _in_literal(spans, with_clause.start()):
                continue
            for pair in _PAIR.finditer(code, with_clause.end()):
                between = code[with_clause.end() : pair.start()]
                if ")" in _LITERAL.sub("", between):
                    break  # past the WITH clause's closing parenthesis
                key, value = _unquote(pair.group(1)), _unquote(pair.group(2))
                if is_location(key, value):
                    add(_location(statement, index, key, pair.start(2) - 1, pair.end(2) + 1, value))
    return Found(tuple(locations), tuple(problems))


def key_refusal(key: str) -> str:
    return (
        f"'{key[:120]}' is not allowed: the platform sets state locations, ports, memory, "
        f"classpath and HA itself; allowed keys are {flinkconf.allowed_text()}"
    )


def key_refusal_zh(key: str) -> str:
    return (
        f" '{key[:120]}' 不允许设置：状态位置、端口、内存、类路径和高可用由平台设置；"
        f"允许的键为 {flinkconf.allowed_text()}"
    )


def inside(path: str, root: str) -> bool:
    """`path` is `root` or below it (both absolute, normalised, symlinks already resolved)."""
    root = root.rstrip("/")
    return path == root or path.startswith(root + "/")


def rewrite(sql: str, replacements: list[tuple[int, int, str]]) -> str:
    """The statement with [start, end) spans replaced by quoted literals."""
    out, last = [], 0
    for start, end, value in sorted(replacements):
        out.append(sql[last:start])
        out.append("'" + value.replace("'", "''") + "'")
        last = end
    out.append(sql[last:])
    return "".join(out)
