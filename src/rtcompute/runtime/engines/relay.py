"""The one way out of a sandboxed engine worker's network namespace: to a JobManager.

A sandboxed worker has no network at all (a namespace of its own, runtime/sandbox.py: an
isolated one runs a tenant's classes, a shared one's py4j ports take calls without a
token). A submission must still reach the job's JobManager REST API: the platform listens
on a Unix socket inside the worker's directory and connects each connection made there to
that one address; inside, worker_main.py listens on the JobManager's address and port and
passes each connection to the socket, with this module's `pump` (it imports this file, so
it uses the standard library only).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from pathlib import Path

CONFIG_KEY = "rtcompute.relay"  # the socket's path, in a submission's config
CONNECT_TIMEOUT = 10.0
CHUNK = 64 * 1024


class Relay:
    def __init__(self, path: Path, target: tuple[str, int]) -> None:
        self.path = path
        self._target = target
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        os.chmod(path, 0o777)  # the worker's user connects (the directory is its own)
        self._server.listen(16)
        self._closed = False
        threading.Thread(target=self._accept, name="relay-accept", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                inner, _ = self._server.accept()
            except OSError:
                return
            try:
                outer = socket.create_connection(self._target, timeout=CONNECT_TIMEOUT)
                outer.settimeout(None)
            except OSError:
                inner.close()
                continue
            pump(inner, outer)

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._server.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def pump(one: socket.socket, other: socket.socket) -> None:
    """Copy both ways until either side closes."""

    def copy(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(CHUNK):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()

    threading.Thread(target=copy, args=(one, other), daemon=True).start()
    threading.Thread(target=copy, args=(other, one), daemon=True).start()
