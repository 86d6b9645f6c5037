"""The client's transport against a server that drops a connection as a request arrives (an
idle kept-alive connection closed by the server's timeout as the client reused it): a reading
is sent once more on a new connection, a change is never sent twice."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from rtcompute.client import base

ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n"
    b'Connection: close\r\n\r\n{"ok": true}'
)


BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Retry-After: %d\r\nContent-Length: 80\r\nConnection: close\r\n\r\n"
    b'{"code": "ServiceUnavailable.Database", "message": "retry", "request_id": "r-1"}'
)


@dataclass
class Dropping:
    """Drops the first `drops` requests without an answer, answers the next `busy` ones 503
    (with Retry-After: `retry_after`), answers the others."""

    drops: int
    busy: int = 0
    retry_after: int = 1
    port: int = 0
    requests: list[bytes] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def serve(self, listener: socket.socket) -> None:
        listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                head = connection.recv(65536)
                if not head:
                    continue
                self.requests.append(head.split(b" ", 1)[0])
                if len(self.requests) > self.drops + self.busy:
                    connection.sendall(ANSWER)
                elif len(self.requests) > self.drops:
                    connection.sendall(BUSY % self.retry_after)


@pytest.fixture
def dropping() -> Iterator[Dropping]:
    server = Dropping(drops=1)
    listener = socket.create_server(("127.0.0.1", 0))
    server.port = listener.getsockname()[1]
    thread = threading.Thread(target=server.serve, args=(listener,), daemon=True)
    thread.start()
    yield server
    server.stop.set()
    thread.join(timeout=5)
    listener.close()


def test_a_dropped_reading_is_sent_again_once(dropping: Dropping) -> None:
    with base.Transport(f"http://127.0.0.1:{dropping.port}") as transport:
        assert transport.request("GET", "/whoami") == {"ok": True}
    assert dropping.requests == [b"GET", b"GET"]


def test_a_dropped_change_is_not_sent_twice(dropping: Dropping) -> None:
    with (
        base.Transport(f"http://127.0.0.1:{dropping.port}") as transport,
        pytest.raises(base.ApiError) as refused,
    ):
        transport.request("POST", "/orders", json={"mode": "shared"})
    assert refused.value.code == "ConnectionFailed"
    assert dropping.requests == [b"POST"]


def test_a_reading_dropped_twice_is_a_connection_failure(dropping: Dropping) -> None:
    dropping.drops = 2
    with (
        base.Transport(f"http://127.0.0.1:{dropping.port}") as transport,
        pytest.raises(base.ApiError) as refused,
    ):
        transport.request("GET", "/whoami")
    assert refused.value.code == "ConnectionFailed"
    assert dropping.requests == [b"GET", b"GET"]


def test_a_reading_answered_503_is_sent_again_after_the_wait_it_asks(dropping: Dropping) -> None:
    dropping.drops, dropping.busy, dropping.retry_after = 0, 2, 3
    waits: list[float] = []
    with base.Transport(f"http://127.0.0.1:{dropping.port}", sleep=waits.append) as transport:
        assert transport.request("GET", "/whoami") == {"ok": True}
    assert waits == [3, 3]
    assert dropping.requests == [b"GET"] * 3


@pytest.mark.parametrize(
    ("method", "busy", "retry_after"), [("POST", 1, 1), ("GET", 3, 1), ("GET", 1, 60)]
)
def test_a_503_is_answered_when_it_is_a_change_keeps_on_or_asks_too_long(
    dropping: Dropping, method: str, busy: int, retry_after: int
) -> None:
    dropping.drops, dropping.busy, dropping.retry_after = 0, busy, retry_after
    waits: list[float] = []
    with (
        base.Transport(f"http://127.0.0.1:{dropping.port}", sleep=waits.append) as transport,
        pytest.raises(base.ApiError) as refused,
    ):
        transport.request(method, "/whoami")
    assert refused.value.code == "ServiceUnavailable.Database"
    sent = 1 if method == "POST" or retry_after > base.MAX_RETRY_AFTER_SECONDS else 3
    assert dropping.requests == [method.encode()] * sent
    assert len(waits) == sent - 1
