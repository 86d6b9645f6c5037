"""Engines and sessions for SQLite (WAL, foreign keys on) and PostgreSQL."""

from __future__ import annotations

import itertools
import re
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Session", "committed_writes", "make_engine", "make_sessionmaker", "transaction"]

# statements that change nothing: a transaction of only these is not a write
_READS = ("SELECT", "PRAGMA", "SHOW", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")
_WROTE = "rtc_wrote"
_COMMITTED = "rtc_committed"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class WriteCount:
    """When each table was last written by a committed transaction of this process, as a
    number that only grows (one counter for all tables).

    Counted twice per write: when the commit starts and when its connection goes back to
    the pool (after the commit), so that a reader that noted the count before producing an
    answer can tell, afterwards, that a write may have committed meanwhile
    (`api/answers.py` keeps answers of list routes on this). A statement whose table is not
    recognized counts as a write of every table.
    """

    def __init__(self) -> None:
        self._count = itertools.count(1)
        self.by_table: dict[str, int] = {}

    def bump(self, tables: Iterable[str]) -> None:
        number = next(self._count)
        for table in tables:
            self.by_table[table] = number

    def of(self, tables: Iterable[str] | None) -> int:
        """The newest write among `tables` (None: among all)."""
        counts = self.by_table
        if tables is None:
            return max(counts.values(), default=0)
        return max([counts.get(ANY_TABLE, 0), *(counts.get(t, 0) for t in tables)])


_WRITES: weakref.WeakKeyDictionary[Engine, WriteCount] = weakref.WeakKeyDictionary()
ANY_TABLE = "*"
# the table a write statement names (SQLAlchemy's INSERT, UPDATE and DELETE, both dialects)
_WRITTEN = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


def committed_writes(engine: Engine, tables: Iterable[str] | None = None) -> int:
    """The newest committed write of `tables` through `engine` (None: of any table)."""
    return _WRITES[engine].of(tables)


def _count_writes(engine: Engine) -> None:
    counter = _WRITES[engine] = WriteCount()

    def executed(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement[:24].lstrip()[:9].upper().startswith(_READS):  # not a copy of it all
            return
        found = _WRITTEN.match(statement)
        conn.info.setdefault(_WROTE, set()).add(found.group(1).lower() if found else ANY_TABLE)

    def committing(conn: Any) -> None:
        tables = conn.info.pop(_WROTE, None)
        if tables:
            conn.info[_COMMITTED] = tables
            counter.bump(tables)

    def rolled_back(conn: Any) -> None:
        conn.info.pop(_WROTE, None)

    def checked_in(_dbapi: Any, record: Any) -> None:
        tables = record.info.pop(_COMMITTED, None)
        if tables:
            counter.bump(tables)

    event.listen(engine, "before_cursor_execute", executed)
    event.listen(engine, "commit", committing)
    event.listen(engine, "rollback", rolled_back)
    event.listen(engine.pool, "checkin", checked_in)


POOL_SIZE = 20
POOL_OVERFLOW = 20


def make_engine(url: str) -> Engine:
    """One engine per process; URLs without a driver get psycopg 3 for PostgreSQL."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # a connection per worker thread that may hold one at once (anyio's 40), kept open: a
    # connection made and dropped per request beyond a small pool cost a list route most of
    # its time under 32 concurrent clients (bench/api.py)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(
            url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
        )
    _count_writes(engine)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any exception."""
    with factory() as session, session.begin():
        yield session
