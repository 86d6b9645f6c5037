"""What the fault tests share: write traffic against a live `rtc up`, and the checks after.

Each request of the traffic creates a RAM user with its own name and request id, so that
afterwards every user in the database can be matched with the request that made it and
that request's audit event: a change without its event is what these tests hunt.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import create_engine, text

from tests.conftest import LiveServer


@dataclass(frozen=True)
class Sent:
    name: str
    request_id: str
    status: int  # 0: no answer (the connection failed)
    sent_at: float  # time.monotonic() when it was sent
    code: str = ""
    retry_after: str | None = None


@dataclass
class Traffic:
    """Threads creating RAM users as fast as the server answers, until `stop()`."""

    url: str
    headers: dict[str, str]
    prefix: str
    threads: int = 4
    sent: list[Sent] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _numbers: int = 0

    def start(self) -> Traffic:
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, name=f"traffic-{index}", daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> list[Sent]:
        self._stop.set()
        for worker in self._workers:
            worker.join(60)
        return list(self.sent)

    def _next(self) -> int:
        with self._lock:
            self._numbers += 1
            return self._numbers

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=30) as client:
            while not self._stop.is_set():
                number = self._next()
                name = f"{self.prefix}{number}"
                request_id = f"{self.prefix}-{number}"
                sent_at = time.monotonic()
                try:
                    response = client.post(
                        "/api/v1/ram/users",
                        json={"name": name},
                        headers={"X-Request-Id": request_id},
                    )
                except httpx.TransportError:
                    outcome = Sent(name, request_id, 0, sent_at)
                    time.sleep(0.05)
                else:
                    code = ""
                    if response.status_code >= 400:
                        code = str(response.json().get("code", ""))
                    outcome = Sent(
                        name,
                        request_id,
                        response.status_code,
                        sent_at,
                        code,
                        response.headers.get("retry-after"),
                    )
                with self._lock:
                    self.sent.append(outcome)


def sign_in(server: LiveServer) -> dict[str, str]:
    response = httpx.post(
        server.url + "/api/v1/sessions",
        json={"account": server.account, "password": server.password},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def access_key(server: LiveServer) -> dict[str, str]:
    """Headers with a new access key of the operator (a key, unlike a session, signs in
    without writing anything)."""
    response = httpx.post(
        server.url + "/api/v1/access-keys", headers=sign_in(server), json={}, timeout=30
    )
    assert response.status_code == 201, response.text
    key = response.json()
    return {"Authorization": f"Bearer {key['id']}:{key['secret']}"}


@dataclass(frozen=True)
class Trail:
    """What the database holds after the traffic: the users it made, the events."""

    users: set[str]
    events: dict[str, tuple[str, str]]  # request id -> (action, outcome)


def read_trail(database_url: str, prefix: str) -> Trail:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            users = {
                str(row[0])
                for row in connection.execute(
                    text("SELECT name FROM identities WHERE name LIKE :p"), {"p": prefix + "%"}
                )
            }
            events = {
                str(row[0]): (str(row[1]), str(row[2]))
                for row in connection.execute(
                    text(
                        "SELECT request_id, action, outcome FROM audit_events "
                        "WHERE request_id LIKE :p"
                    ),
                    {"p": prefix + "%"},
                )
            }
    finally:
        engine.dispose()
    return Trail(users, events)


def changes_without_event(sent: list[Sent], trail: Trail) -> list[str]:
    """The users that exist with no success event of the request that made them (and the
    201s with no user or no event)."""
    by_name = {item.name: item for item in sent}
    missing = []
    for name in sorted(trail.users):
        item = by_name.get(name)
        if item is None or trail.events.get(item.request_id) != ("ram:CreateUser", "success"):
            missing.append(name)
    for item in sent:
        if item.status == 201 and item.name not in trail.users:
            missing.append(f"{item.name} (answered 201, not in the database)")
    return missing


def counts(sent: list[Sent]) -> dict[str, int]:
    statuses = Counter(item.status for item in sent)
    return {
        "requests": len(sent),
        "201": statuses[201],
        "503": statuses[503],
        "500": sum(n for status, n in statuses.items() if status >= 500 and status != 503),
        "no answer": statuses[0],
    }


@dataclass
class Report:
    """The counts of one fault run: kept on the test's report (the suite prints them at the
    end, tests/conftest.py) and printed with the test's output."""

    record: Callable[[str, object], None]

    def add(self, fault: str, **numbers: int | float) -> None:
        self.record(COUNTS_PROPERTY, {"fault": fault, **numbers})
        print(f"{fault}: " + ", ".join(f"{key} {value}" for key, value in numbers.items()))


COUNTS_PROPERTY = "fault_counts"


def logged_tracebacks(log: str) -> int:
    """How many records of the server's log carry a traceback (a chained one counts once)."""
    lines = log.splitlines()
    return sum(
        1
        for before, line in itertools.pairwise(lines)
        if line.startswith("Traceback (most recent call last)") and before[:4].isdigit()
    )
