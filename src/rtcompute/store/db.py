"""Engines and sessions for SQLite (WAL, foreign keys on) and PostgreSQL.

Every unit of work goes through `transaction`. There, a fault of the database that is not
the caller's doing (connection lost, read-only, locked, disk full) becomes
`errors.Unavailable`, which the API answers with 503 and `Retry-After`; and the code running
the transaction may add to any write it makes before it commits (`on_write`): a request its
audit event, so that a change and its event commit together, a reconciler the check of its
leader lease (fencing).
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from sqlalchemy import create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from rtcompute import errors

__all__ = [
    "Session",
    "committed_writes",
    "is_fault",
    "make_engine",
    "make_sessionmaker",
    "not_a_change",
    "on_write",
    "transaction",
]

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
        if not conn.invalidated:  # an invalidated one has no info left (and raises on it)
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


# SQLite's primary result codes of a fault of the file or its locks, not of the statement
# (https://www.sqlite.org/rescode.html): BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL, CANTOPEN,
# PROTOCOL
_SQLITE_FAULTS = frozenset({5, 6, 7, 8, 10, 13, 14, 15})
# ... of which a connection stays broken after the cause is gone: one opened while the file
# was read-only stays read-only, so it is dropped (and the rest of the pool with it)
_SQLITE_STALE = frozenset({8, 10, 14})
# PostgreSQL's SQLSTATE classes and codes of a fault of the server: connection exception,
# insufficient resources (disk full, too many connections), operator intervention
# (terminated, shutting down, cancelled), system error; read-only transaction, serialization
# failure, deadlock, lock not available
_PG_FAULT_CLASSES = frozenset({"08", "53", "57", "58"})
_PG_FAULT_CODES = frozenset({"25006", "40001", "40P01", "55P03", "55006"})
_PG_STALE = frozenset({"25006"})


def _sqlite_code(error: BaseException | None) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(error, sqlite3.Error) and isinstance(code, int) else None


def is_fault(exc: BaseException) -> bool:
    """Whether `exc` is a fault of the database (it may pass if tried again), not of the
    statement or of the data a caller sent."""
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    original = exc.orig
    code = _sqlite_code(original)
    if code is not None:
        return code in _SQLITE_FAULTS
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        return sqlstate[:2] in _PG_FAULT_CLASSES or sqlstate in _PG_FAULT_CODES
    # the driver's own errors without a state: the connection is closed or broken
    return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)


def _drop_stale(context: Any) -> None:
    """A connection that stays broken after its cause is gone counts as lost: SQLAlchemy
    drops it and renews the pool, so the pool recovers by itself. SQLite's read-only and
    I/O errors (a connection opened while the file was read-only stays read-only);
    PostgreSQL's read-only transaction (`default_transaction_read_only` is read once, when
    the connection opens)."""
    original = context.original_exception
    if _sqlite_code(original) in _SQLITE_STALE or getattr(original, "sqlstate", None) in _PG_STALE:
        context.is_disconnect = True


def make_engine(url: str, *, recycle_seconds: float | None = None) -> Engine:
    """One engine per process; URLs without a driver get psycopg 3 for PostgreSQL."""
    recycle = -1 if recycle_seconds is None else int(max(1, recycle_seconds))
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
            pool_recycle=recycle,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            pool_recycle=recycle,
        )
    event.listen(engine, "handle_error", _drop_stale)
    _count_writes(engine)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class WriteHook(Protocol):
    """What the code running a transaction adds to each write it makes."""

    def before_commit(self, session: Session) -> None:
        """Called in the transaction, after its writes, before it commits; may write too,
        or raise to roll it all back."""

    def committed(self) -> None:
        """Called once that transaction has committed."""


_ON_WRITE: ContextVar[tuple[WriteHook, ...]] = ContextVar("rtc_on_write", default=())


@contextmanager
def on_write(hook: WriteHook) -> Iterator[None]:
    """`hook` joins every write transaction of this context (a request, a reconciler pass)."""
    token = _ON_WRITE.set((*_ON_WRITE.get(), hook))
    try:
        yield
    finally:
        _ON_WRITE.reset(token)


_NOT_A_CHANGE = "rtc_not_a_change"


def not_a_change(session: Session) -> None:
    """What this transaction commits is bookkeeping of a refusal (a failed sign-in's
    throttle count, a code sent), not the change the request asked for: the write hooks
    (the request's audit event) do not join it."""
    session.info[_NOT_A_CHANGE] = True


def _wrote(session: Session) -> bool:
    session.flush()
    return bool(session.connection().info.get(_WROTE))


RETRY_AFTER_SECONDS = 5


def unavailable(exc: BaseException) -> errors.Unavailable:
    """The error a caller sees for a fault of the database."""
    return errors.Unavailable(
        f"the database is not available at the moment ({type(exc).__name__}): retry in "
        f"{RETRY_AFTER_SECONDS} seconds",
        f"数据库暂时不可用（{type(exc).__name__}）：请在 {RETRY_AFTER_SECONDS} 秒后重试",
        code="ServiceUnavailable.Database",
        retry_after=RETRY_AFTER_SECONDS,
    )


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any exception; a fault of the
    database raises `errors.Unavailable`."""
    hooks = _ON_WRITE.get()
    try:
        with factory() as session:
            joined: tuple[WriteHook, ...] = ()
            with session.begin():
                yield session
                if hooks and not session.info.get(_NOT_A_CHANGE) and _wrote(session):
                    joined = hooks
                    for hook in joined:
                        hook.before_commit(session)
            for hook in joined:
                hook.committed()
    except sa_exc.SQLAlchemyError as exc:
        if is_fault(exc):
            raise unavailable(exc) from exc
        raise
