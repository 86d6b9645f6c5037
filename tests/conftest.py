"""Shared fixtures: a real database (SQLite and PostgreSQL), a platform, an app, a live server.

Time: no test reads the wall clock for a date rule. Platforms get a `FakeClock` and live
servers a clock offset (RTC_CLOCK_OFFSET_DAYS); both start at `suite_now()`, the machine's time
moved by RTC_TEST_CLOCK_SHIFT_DAYS (default 0). `RTC_TEST_CLOCK_SHIFT_DAYS=730 make test` runs
the whole suite two years ahead: it must pass at any date. Ruff's banned-api rule (TID251)
refuses `datetime.now` / `date.today` in tests; this module's `suite_now` is the one exception.

Passwords: the suite hashes with argon2's smallest cost (RTC_AUTH__PASSWORD_*, set below for
this process and every server it starts); `test_passwords.py` checks the production cost.

The integration suite runs once per database: `database_url` is parametrized over SQLite
(a file in a temporary directory) and PostgreSQL (a fresh database on the server named by
RTC_TEST_POSTGRES_URL, created for this run and dropped after it). `make test` and CI set
that variable; without it a developer's run skips the PostgreSQL half with a message saying
so, and a CI run fails.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from rtcompute import settings as settings_module
from rtcompute.api import app as app_module
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, migrate, tables
from tests import ports
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]

# argon2's smallest cost for every platform and server of the run (production: t=3, 64 MiB, p=4)
CHEAP_PASSWORD_HASHING = {
    "RTC_AUTH__PASSWORD_TIME_COST": "1",
    "RTC_AUTH__PASSWORD_MEMORY_KIB": "8",
    "RTC_AUTH__PASSWORD_PARALLELISM": "1",
}


def clock_shift_days() -> float:
    """RTC_TEST_CLOCK_SHIFT_DAYS: how far the suite's clocks run ahead of the machine's."""
    return float(os.environ.get("RTC_TEST_CLOCK_SHIFT_DAYS") or 0)


def suite_now() -> datetime:
    """The suite's "now": the machine's time moved by RTC_TEST_CLOCK_SHIFT_DAYS."""
    wall = datetime.now(UTC)  # noqa: TID251 (the suite's one reading of the wall clock)
    return wall.replace(microsecond=0) + timedelta(days=clock_shift_days())


def pytest_configure(config: pytest.Config) -> None:
    """Servers and CLIs the suite starts inherit this process's environment: cheap hashing,
    the worker's port slices and the shifted clock reach them too."""
    os.environ.update(CHEAP_PASSWORD_HASHING)
    # pytest-xdist workers inherit COLUMNS=80, which the CLI's console would keep from its
    # import on (the CLI tests set the width of each run they make)
    for size in ("COLUMNS", "LINES"):
        os.environ.pop(size, None)
    if ports.worker()[1] > 1:  # pytest-xdist: this worker's own port slices
        os.environ.update(ports.slice_env())
    if clock_shift_days():
        os.environ["RTC_CLOCK_OFFSET_DAYS"] = str(clock_shift_days())


# the files that take longest in CI (the durations `make test` prints), longest first
HEAVIEST = (
    "tests/integration/test_flink_runtime.py",
    "tests/e2e/test_jobs_flow.py",
    "tests/e2e/test_cli_engines.py",
    "tests/security/test_cgroup_v2.py",
    "tests/e2e/test_console_jobs_browser.py",
    "tests/e2e/test_engines_flow.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked `one_database` checks what is decided before any input reaches the
    database (request parsing, size caps, methods, request ids): only its SQLite copy runs.
    Files holding slow tests run first."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("database_url") == "postgres"
        (dropped if on_postgres and item.get_closest_marker("one_database") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    # files with slow tests first, the longest of them (HEAVIEST) first of all: with a file
    # per worker at a time, the long ones (real Flink, live servers, the v2 kernel) start at
    # once and the many quick files even out the end
    slow_files = {item.path for item in kept if item.get_closest_marker("slow")}

    def order(item: pytest.Item) -> tuple[int, int]:
        relative = item.path.relative_to(config.rootpath).as_posix()
        heavy = HEAVIEST.index(relative) if relative in HEAVIEST else len(HEAVIEST)
        return (heavy, item.path not in slow_files)

    items[:] = sorted(kept, key=order)


def printable(text: str) -> str:
    """Text that UTF-8 can carry: a lone surrogate (hostile input in a log line) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """pytest-xdist sends reports to the controller as UTF-8: the captured output of the
    bad-input tests (lone surrogates in logged paths) is escaped first, or the worker dies."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    report.sections = [(title, printable(content)) for title, content in report.sections]
    if report.longrepr is not None:
        failure = str(report.longrepr)
        if printable(failure) != failure:  # a failure quoting hostile input: as text
            report.longrepr = printable(failure)


@dataclass
class FakeClock:
    now: datetime = field(default_factory=suite_now)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Sent:
    to: str
    subject: str
    body: str


class RecordingNotifier:
    """Keeps what would be sent, so a test can read the one-time code."""

    channel = "log"

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    def send(self, *, to: str, subject: str, body: str) -> None:
        self.sent.append(Sent(to, subject, body))

    def last_code(self) -> str:
        assert self.sent, "nothing was sent"
        return self.sent[-1].body.split(": ")[1].split(" ")[0]


def postgres_admin_url() -> str:
    """The server of the PostgreSQL suite. Without RTC_TEST_POSTGRES_URL a developer's run
    skips that half (`make test` and .ci/run always set it); under CI it fails instead, so a
    missing variable can never hide the PostgreSQL suite."""
    url = os.environ.get("RTC_TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail("CI runs the PostgreSQL suite: RTC_TEST_POSTGRES_URL must be set")
    pytest.skip("PostgreSQL suite off: set RTC_TEST_POSTGRES_URL (make test does)")


@contextlib.contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the suite's server, dropped afterwards; yields its URL."""
    admin_url = make_url(postgres_admin_url())
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The session's SQLite database, migrated."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'rtc.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The session's PostgreSQL database, migrated, dropped at the end."""
    with fresh_postgres_database("rtc_test") as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test once per database. Both databases live for the whole session (a
    session-scoped parametrized fixture would be made again at every switch between them,
    which a worker running file after file does at every file)."""
    return str(request.getfixturevalue(f"{request.param}_url"))


def make_settings(
    database_url: str, data_dir: Path, **overrides: object
) -> settings_module.Settings:
    return settings_module.Settings(  # type: ignore[arg-type]
        database_url=database_url, data_dir=data_dir, **overrides
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module to change settings for its platform."""
    return {}


@pytest.fixture
def platform(
    database_url: str,
    tmp_path: Path,
    clock: FakeClock,
    notifier: RecordingNotifier,
    settings_overrides: dict[str, object],
) -> Iterator[platform_module.Platform]:
    settings = make_settings(database_url, tmp_path / "data", **settings_overrides)
    built = platform_module.build_platform(settings, notifier=notifier, clock=clock)
    _truncate(built)
    yield built
    built.engine.dispose()


def _truncate(built: platform_module.Platform) -> None:
    with db.transaction(built.sessions) as session:
        for table in reversed(tables.Base.metadata.sorted_tables):
            session.execute(delete(table))


@pytest.fixture
def api(platform: platform_module.Platform) -> Iterator[TestClient]:
    with TestClient(app_module.create_app(platform), raise_server_exceptions=False) as client:
        yield client


PASSWORD = "correct-horse-9"


def signup(
    api: TestClient, alias: str, password: str = PASSWORD, **fields: str
) -> dict[str, object]:
    response = api.post("/api/v1/signup", json={"alias": alias, "password": password, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def login(api: TestClient, alias: str, password: str = PASSWORD, **fields: str) -> dict[str, str]:
    """Sign in and return Authorization headers for the session."""
    response = api.post("/api/v1/sessions", json={"account": alias, "password": password, **fields})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


# ---------------------------------------------------------------- a live `rtc up` process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    account: str
    password: str
    process: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


def start_server(
    data_dir: Path,
    env_extra: dict[str, str] | None = None,
    port: int | None = None,
    *,
    prefix: Sequence[str] = (),
) -> LiveServer:
    """`rtc up` on `data_dir`, run under `prefix` (a command that runs the rest, such as
    setpriv), healthy when returned."""
    port = port or free_port()
    password = "operator-" + secrets.token_hex(6)
    env = {
        **os.environ,
        "RTC_DATA_DIR": str(data_dir),
        "RTC_PORT": str(port),
        "RTC_BOOTSTRAP_ACCOUNT": "operator",
        "RTC_BOOTSTRAP_PASSWORD": password,
        # the first start installs no engine unless a test asks (engine tests set a home)
        "RTC_ENGINES__INSTALL_DEFAULT": "false",
        **(env_extra or {}),
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    handle = log_path.open("w")
    process = subprocess.Popen(
        [*prefix, sys.executable, "-m", "rtcompute.main", "up"],
        stdout=handle,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(process, url, log_path)
    return LiveServer(url, data_dir, "operator", password, process, log_path)


def wait_healthy(
    process: subprocess.Popen[str], url: str, log_path: Path, timeout: float = 60.0
) -> None:
    """Until `rtc up` answers /healthz; its log in the failure when it exits or never does."""

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"rtc up exited early:\n{log_path.read_text()}")
        try:
            return httpx.get(url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for("rtc up to answer /healthz", answers, timeout, every=0.1)
    except AssertionError:
        process.kill()
        raise RuntimeError(f"rtc up did not become healthy:\n{log_path.read_text()}") from None


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(5)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `rtc up` on SQLite for the CLI and browser tests of this run."""
    server = start_server(tmp_path_factory.mktemp("live") / "data")
    yield server
    stop_server(server)


# engine fixtures: the wheelhouse, versions installed once per session, per-test homes
from tests.engines_fixtures import *  # noqa: E402, F403


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The counts of the fault suite (tests/faults), one line per fault, at the end."""
    lines = []
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, "user_properties", ()):
                if name == "fault_counts" and isinstance(value, dict):
                    numbers = ", ".join(f"{k} {v}" for k, v in value.items() if k != "fault")
                    lines.append(f"{value.get('fault')} ({outcome}): {numbers}")
    if lines:
        terminalreporter.section("faults: counts")
        for line in lines:
            terminalreporter.write_line(line)
