"""The node agent: one tiny process per node that says the node is there.

`python -m rtcompute.runtime.agent --node-dir DIR --port PORT` answers `GET /health` with
the node's name (the directory's name), its pid and uptime. Standard library only, so it
starts in a few tens of milliseconds and costs a few MB; later issues give it more to do
(launch TaskManagers on its node). It exits by itself when its node directory disappears,
so a release that lost track of it still does not leave it running.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WATCH_SECONDS = 2.0


def make_handler(node_dir: Path, started: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/health":
                self.send_error(404, "only GET /health")
                return
            body = json.dumps(
                {
                    "status": "ok",
                    "node": node_dir.name,
                    "node_dir": str(node_dir),
                    "pid": os.getpid(),
                    "uptime_seconds": round(time.monotonic() - started, 3),
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # a health probe every second is not worth a log line

    return Handler


def watch(node_dir: Path, server: ThreadingHTTPServer) -> None:
    while node_dir.is_dir():
        time.sleep(WATCH_SECONDS)
    server.shutdown()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="rtcompute.runtime.agent")
    parser.add_argument("--node-dir", required=True, type=Path)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    node_dir: Path = args.node_dir.resolve()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(node_dir, time.monotonic()))
    server.daemon_threads = True
    threading.Thread(target=watch, args=(node_dir, server), daemon=True).start()
    print(f"agent of {node_dir.name} on {args.host}:{args.port} (pid {os.getpid()})", flush=True)
    server.serve_forever(poll_interval=0.5)


if __name__ == "__main__":
    main()
