"""The node agent of a joined host: `rtc agent --server URL --token T` (docs/hosts.md).

It joins once (the token, its new public key, what the machine has, and the storage probe
it reads back under the platform's storage root), keeps its identity in its state directory
(its private key 0600, the platform's public key, its host id), and then:

- reports to the platform every few seconds (a signed heartbeat; the platform's answer is
  signed too and checked), which is how the platform tells a live host from a lost one;
- serves the platform's calls on its own address, refusing any call not signed by the
  platform's key it learned at join (and whose fingerprint the token carried).

A restarted agent reads its identity and carries on: no token is needed again. A removed
host's agent is refused by the platform (`Agent.UnknownHost`) and exits with code 3.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

import rtcompute
from rtcompute.domain import hosts as host_rules
from rtcompute.domain import signatures
from rtcompute.runtime import hostwork

log = logging.getLogger("rtcompute.agent")

API = "/api/v1/agent"
EXIT_REMOVED = 3
EXIT_REFUSED = 2
DEFAULT_PORT = 7400
MAX_CALL_BYTES = 1 << 20


class AgentError(Exception):
    """The agent cannot go on; the message says what to do."""

    def __init__(self, message: str, exit_code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Identity:
    host_id: int
    name: str
    zone: str
    server: str
    platform_public_key: str
    address: str
    port: int
    heartbeat_seconds: float


@dataclass(frozen=True)
class Machine:
    cores: int
    memory_mb: int
    disk_mb: int


def detect(state_dir: Path) -> Machine:
    memory_kb = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    disk = shutil.disk_usage(state_dir)
    return Machine(os.cpu_count() or 1, memory_kb // 1024, disk.total // (1024 * 1024))


def address_towards(server: str) -> str:
    """The address of this host's interface that routes to the platform (nothing is sent:
    a UDP socket's connect only picks the route)."""
    parsed = urllib.parse.urlsplit(server)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((parsed.hostname or "127.0.0.1", parsed.port or 80))
        return str(sock.getsockname()[0])


# ---------------------------------------------------------------------------- state


class State:
    """The agent's state directory: its key (0600) and its identity."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.key_file = directory / "agent.key"
        self.identity_file = directory / "identity.json"

    def keys(self) -> signatures.KeyPair:
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        if self.key_file.exists():
            return signatures.KeyPair.from_bytes(self.key_file.read_bytes())
        keys = signatures.KeyPair.generate()
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(keys.private_bytes())
        return keys

    def identity(self) -> Identity | None:
        try:
            return Identity(**json.loads(self.identity_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def save(self, identity: Identity) -> None:
        temporary = self.identity_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(identity), indent=2))
        temporary.replace(self.identity_file)

    def forget(self) -> None:
        """A removed host: its identity and key are worthless now."""
        self.identity_file.unlink(missing_ok=True)
        self.key_file.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- join


def _refusal(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"{body.get('code')}: {body.get('message')}"
    except ValueError:
        return f"HTTP {response.status_code}"


def join(
    state: State,
    *,
    server: str,
    token: str,
    name: str,
    address: str,
    port: int,
    cores: int | None = None,
    memory_mb: int | None = None,
    pinned_type: str | None = None,
    client: httpx.Client | None = None,
) -> Identity:
    """Join with a token: read the probe under the storage root, send the public key."""
    parsed = host_rules.parse_token(token)
    if parsed is None:
        raise AgentError("the join token is malformed: copy it whole from `rtc hosts join-token`")
    keys = state.keys()
    http = client or httpx.Client(base_url=server, timeout=10.0)
    where = http.get(f"{API}/join-probes/{parsed.token_id}")
    if where.status_code != 200:
        raise AgentError(f"the platform refused the token: {_refusal(where)}")
    probe_path = Path(where.json()["path"])
    try:
        probe = probe_path.read_text()
    except OSError as exc:
        raise AgentError(
            f"this host does not see the platform's storage: {probe_path} cannot be read "
            f"({exc.strerror}). Mount the platform's storage root at the same path on this host "
            "(NFS or similar; docs/hosts.md), then start the agent again with the same token"
        ) from exc
    machine = detect(state.directory)
    answer = http.post(
        f"{API}/join",
        json={
            "token": token,
            "name": name,
            "address": address,
            "agent_port": port,
            "public_key": keys.public,
            "detected_cores": machine.cores,
            "detected_memory_mb": machine.memory_mb,
            "disk_mb": machine.disk_mb,
            "cores": cores,
            "memory_mb": memory_mb,
            "pinned_type": pinned_type,
            "probe": probe,
            "agent_version": rtcompute.__version__,
        },
    )
    if answer.status_code != 201:
        raise AgentError(f"the platform refused to join this host: {_refusal(answer)}")
    body = answer.json()
    if signatures.fingerprint(body["platform_public_key"]) != parsed.platform_fingerprint:
        raise AgentError(
            "the server's key is not the one the token was made for: check --server (a "
            "server that is not your platform answered)"
        )
    identity = Identity(
        host_id=int(body["host_id"]),
        name=body["name"],
        zone=body["zone"],
        server=server,
        platform_public_key=body["platform_public_key"],
        address=address,
        port=port,
        heartbeat_seconds=float(body["heartbeat_seconds"]),
    )
    state.save(identity)
    return identity


# ---------------------------------------------------------------------------- the agent


class Agent:
    """A joined agent: heartbeats out, the platform's signed calls in."""

    def __init__(
        self,
        state: State,
        identity: Identity,
        *,
        clock: Callable[[], float] = time.time,
        client: httpx.Client | None = None,
    ) -> None:
        self.state = state
        self.identity = identity
        self.keys = state.keys()
        self.clock = clock
        self.http = client or httpx.Client(base_url=identity.server, timeout=5.0)
        self.replays = signatures.Replays()
        self.started = time.monotonic()
        self.stopping = threading.Event()
        self.exit_code = 0
        self.last_answer: dict[str, Any] = {}
        self.server: ThreadingHTTPServer | None = None
        self.work = hostwork.HostWork(state.directory, identity.address, identity.name)

    # ------------------------------------------------------------ calls to the platform

    def call(self, method: str, path: str, payload: dict[str, Any]) -> httpx.Response:
        body = json.dumps(payload).encode()
        target = f"{API}/hosts/{self.identity.host_id}{path}"
        headers = signatures.sign_request(
            self.keys, f"host-{self.identity.host_id}", method, target, body, now=self.clock()
        )
        headers["content-type"] = "application/json"
        response = self.http.request(method, target, content=body, headers=headers)
        if response.status_code == 200:
            signatures.verify_answer(
                self.identity.platform_public_key,
                response.headers.get(signatures.SIGNATURE_HEADER, ""),
                200,
                headers[signatures.NONCE_HEADER],
                response.content,
            )
        return response

    def report(self) -> dict[str, Any]:
        return {
            "uptime_seconds": round(time.monotonic() - self.started, 1),
            "engines": self.work.engines.report(),
        }

    def beat(self) -> None:
        """One heartbeat; AgentError when the platform says this host is no more."""
        response = self.call("POST", "/heartbeat", {"report": self.report()})
        if response.status_code == 200:
            self.last_answer = response.json()
            self.work.answered(self.last_answer)
            return
        code = ""
        with contextlib.suppress(ValueError):
            code = str(response.json().get("code", ""))
        if code == "Agent.UnknownHost":
            raise AgentError(
                f"host {self.identity.name} was removed from the platform: this agent stops. "
                "To join again, remove its state directory and start it with a new token",
                EXIT_REMOVED,
            )
        log.warning("heartbeat refused: %s", _refusal(response))

    def heartbeats(self) -> None:
        silent_since: float | None = None
        while not self.stopping.is_set():
            try:
                self.beat()
                if silent_since is not None:
                    log.warning("the platform answers again")
                silent_since = None
            except AgentError as exc:
                log.error("%s", exc)
                self.exit_code = exc.exit_code
                self.stop()
                return
            except (httpx.HTTPError, signatures.BadSignature) as exc:
                if silent_since is None:  # once per silence, not every beat
                    log.warning("cannot report to the platform: %s", exc)
                    silent_since = time.monotonic()
            self.stopping.wait(self.identity.heartbeat_seconds)

    # ------------------------------------------------------------ the platform's calls

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, bytes, str]:
        """Answer one call: (status, body, the nonce to sign the answer with)."""
        if headers.get(signatures.KEY_HEADER) != signatures.PLATFORM_KEY_ID:
            return 401, b'{"code": "Agent.NotPlatform"}', ""
        try:
            nonce = signatures.verify_request(
                self.identity.platform_public_key,
                headers,
                method,
                target,
                body,
                now=self.clock(),
                replays=self.replays,
            )
        except signatures.BadSignature as exc:
            return 401, json.dumps({"code": "Agent.BadSignature", "message": str(exc)}).encode(), ""
        if method == "GET" and target == "/v1/status":
            status = {"host": self.identity.name, "host_id": self.identity.host_id}
            status.update(self.report())
            return 200, json.dumps(status).encode(), nonce
        if method == "POST" and target in hostwork.CALLS:
            try:
                answer = self.work.call(target, json.loads(body))
            except (ValueError, KeyError, TypeError) as exc:
                refused = {"code": "Agent.BadCall", "message": str(exc)[:200]}
                return 400, json.dumps(refused).encode(), nonce
            except Exception as exc:  # the call fails, never the agent
                log.exception("%s failed", target)
                failed = {"code": "Agent.CallFailed", "message": f"{type(exc).__name__}: {exc}"}
                return 500, json.dumps(failed)[:2000].encode(), nonce
            return 200, json.dumps(answer).encode(), nonce
        return 404, b'{"code": "Agent.NoSuchCall"}', nonce

    def serve(self) -> ThreadingHTTPServer:
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                text = self.headers.get("content-length") or "0"
                if not text.isdigit() or int(text) > MAX_CALL_BYTES:
                    self.send_error(400, "a call's body is at most 1 MiB, with its length")
                    return
                length = int(text)
                body = self.rfile.read(length) if length else b""
                status, payload, nonce = agent.handle(self.command, self.path, self.headers, body)
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                if nonce:
                    signature = signatures.sign_answer(agent.keys, status, nonce, payload)
                    self.send_header(signatures.SIGNATURE_HEADER, signature)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer((self.identity.address, self.identity.port), Handler)
        server.daemon_threads = True
        self.server = server
        threading.Thread(target=server.serve_forever, args=(0.5,), daemon=True).start()
        return server

    def stop(self) -> None:
        self.stopping.set()
        if self.server is not None:
            threading.Thread(target=self.server.shutdown, daemon=True).start()

    def run(self) -> int:
        self.serve()
        log.info(
            "agent of host %s (%d) on %s:%d, reporting to %s",
            self.identity.name,
            self.identity.host_id,
            self.identity.address,
            self.identity.port,
            self.identity.server,
        )
        self.heartbeats()
        if self.exit_code == EXIT_REMOVED:
            self.state.forget()
        return self.exit_code
