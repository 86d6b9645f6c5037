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


@dataclass
class Dropping:
    """Drops the first `drops` requests without an answer, answers the others."""

    drops: int
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
                if len(self.requests) > self.drops:
                    connection.sendall(ANSWER)


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
