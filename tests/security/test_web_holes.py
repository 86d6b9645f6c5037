"""Red team: the web layer of a real `rtc up` (uvicorn on a socket), attacked as the red team
did on 2026-12-06.

- Bodies before authentication: an anonymous upload announces 60 MiB and sends none of it; the
  answer must come back all the same (a server that waits for the body never answers), with
  `Connection: close`. Eight anonymous 60 MiB uploads sent in full must not move the server's
  peak memory (they took it from 198 MB to 911 MB).
- Uploads of a signed-in caller (API and console) stream to disk: 60 MiB in, the peak moves
  by a few MiB, the object comes back byte for byte.
- Framing: a page of another origin frames the console in Chromium; the frame stays empty,
  while a frame of that origin's own page loads. Console pages run under the CSP with no
  violation reported, confirmations of destructive forms included.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import re
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import playwright.sync_api as playwright_sync
import pytest

from rtcompute.console import views
from tests.conftest import LiveServer, free_port, start_server, stop_server
from tests.e2e.test_console_browser import ARGS, CHROMIUM
from tests.e2e.test_console_ram_browser import sign_up_and_in

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
UPLOAD = 60 * MIB
ANSWER_TIMEOUT = 10.0  # seconds to answer a request whose body never comes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A `rtc up` of this module alone: its memory is measured."""
    started = start_server(tmp_path_factory.mktemp("web") / "data")
    yield started
    stop_server(started)


@pytest.fixture(scope="module")
def operator_token(server: LiveServer) -> str:
    signed = httpx.post(
        server.url + "/api/v1/sessions",
        json={"account": server.account, "password": server.password},
        timeout=30,
    )
    assert signed.status_code == 201, signed.text
    token = str(signed.json()["token"])
    bucket = httpx.post(
        server.url + "/api/v1/buckets",
        json={"name": "victim"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert bucket.status_code == 201, bucket.text
    return token


# ---------------------------------------------------------------- raw HTTP


def address(server: LiveServer) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of the answer on `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed without an answer: {data[:200]!r}"
        data += chunk
    raw_head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = raw_head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body


def announce_only(
    server: LiveServer, method: str, path: str, headers: dict[str, str], first_bytes: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """Send a request's head (and `first_bytes` of its body) and wait for the answer; the rest
    of the announced body is never sent."""
    with socket.create_connection(address(server), timeout=ANSWER_TIMEOUT) as sock:
        sock.sendall(head(method, path, headers) + first_bytes)
        try:
            return read_answer(sock)
        except TimeoutError:
            pytest.fail(
                f"{method} {path}: no answer in {ANSWER_TIMEOUT} s: the server waits "
                "for the body of an unauthenticated request"
            )


SIXTY_MIB = {"Content-Length": str(UPLOAD)}
OBJECT = "/api/v1/buckets/victim/objects/big.bin"
FORM = "/console/buckets/victim/objects"
MULTIPART = {"Content-Type": "multipart/form-data; boundary=xyz"}
REFUSED_UNREAD = {
    "api upload, no credential": ("PUT", OBJECT, {}, "MissingCredentials"),
    "api upload, a made-up access key": (
        "PUT",
        OBJECT,
        {"Authorization": "Bearer RTCAKNOSUCHKEY0000000000:" + "s" * 40},
        None,
    ),
    "api upload, a made-up session": (
        "PUT",
        OBJECT,
        {"Authorization": "Bearer rtcs_" + "x" * 43},
        "SessionExpired",
    ),
    "api upload, a session cookie only": ("PUT", OBJECT, {"Cookie": "rtc_session=rtcs_x"}, None),
    "api write, no credential": ("POST", "/api/v1/access-keys", {}, "MissingCredentials"),
    "console upload, no cookie": ("POST", FORM, MULTIPART, None),
    "console upload, a made-up cookie": (
        "POST",
        FORM,
        {**MULTIPART, "Cookie": "rtc_session=rtcs_" + "x" * 43},
        None,
    ),
    "console upload, a bearer token only": (
        "POST",
        FORM,
        {**MULTIPART, "Authorization": "Bearer rtcs_" + "x" * 43},
        None,
    ),
}


@pytest.mark.parametrize(
    ("method", "path", "headers", "code"), REFUSED_UNREAD.values(), ids=REFUSED_UNREAD.keys()
)
def test_unauthenticated_bodies_are_refused_unread(
    server: LiveServer,
    operator_token: str,
    method: str,
    path: str,
    headers: dict[str, str],
    code: str | None,
) -> None:
    status, answer_headers, body = announce_only(server, method, path, {**headers, **SIXTY_MIB})
    assert status == 401, body[:300]
    assert answer_headers.get("connection") == "close"
    if path.startswith("/api/"):
        assert json.loads(body)["code"] == (code or json.loads(body)["code"])
    else:
        assert b"<html" in body  # the console's own page, not JSON


def test_a_chunked_anonymous_upload_is_refused_after_no_more_than_its_head(
    server: LiveServer, operator_token: str
) -> None:
    headers = {"Transfer-Encoding": "chunked"}
    first = b"100000\r\n" + b"x" * 4096  # announces a 1 MiB chunk, sends 4 KiB of it
    status, answer_headers, _ = announce_only(server, "PUT", OBJECT, headers, first)
    assert status == 401
    assert answer_headers.get("connection") == "close"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/sessions", {"Content-Type": "application/json"}),
        ("/login/operator", {"Content-Type": "application/x-www-form-urlencoded"}),
        ("/signup", {"Content-Type": "application/x-www-form-urlencoded"}),
    ],
)
def test_public_routes_refuse_a_large_announced_body_at_once(
    server: LiveServer, path: str, headers: dict[str, str]
) -> None:
    status, answer_headers, body = announce_only(server, "POST", path, {**headers, **SIXTY_MIB})
    assert status == 413, body[:300]
    assert answer_headers.get("connection") == "close"
    assert b"16 KiB" in body or b"<html" in body


# ---------------------------------------------------------------- memory


def status_kib(server: LiveServer, field: str) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB$", status, re.MULTILINE)
    assert match, status
    return int(match.group(1))


def reset_peak(server: LiveServer) -> int:
    """Reset the server's peak resident size (Linux: clear_refs 5); its resident size now."""
    Path(f"/proc/{server.process.pid}/clear_refs").write_text("5")
    return status_kib(server, "VmRSS")


def peak_growth_mib(server: LiveServer, resident_before_kib: int) -> float:
    return (status_kib(server, "VmHWM") - resident_before_kib) / 1024


def push_upload(server: LiveServer, _: int) -> str:
    """An anonymous 60 MiB upload, sent in full unless the server closes first."""
    piece = b"x" * MIB
    with socket.create_connection(address(server), timeout=30) as sock:
        sock.sendall(head("PUT", OBJECT, SIXTY_MIB))
        try:
            for _ in range(UPLOAD // MIB):
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            return "closed early"
        return "sent in full"


def test_eight_anonymous_uploads_leave_the_memory_alone(
    server: LiveServer, operator_token: str
) -> None:
    before = reset_peak(server)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda n: push_upload(server, n), range(8)))
    growth = peak_growth_mib(server, before)
    # the red team's run: 198 MB -> 911 MB; each upload held whole would add its 60 MiB
    assert growth < 32, f"peak memory grew by {growth:.0f} MiB ({outcomes})"


def sixty_mib() -> Iterator[bytes]:
    piece = bytes(range(256)) * 4096  # 1 MiB
    for n in range(UPLOAD // MIB):
        yield piece[n:] + piece[:n]


def expected_digest() -> str:
    digest = hashlib.sha256()
    for piece in sixty_mib():
        digest.update(piece)
    return digest.hexdigest()


def test_a_signed_in_upload_streams_to_disk(server: LiveServer, operator_token: str) -> None:
    auth = {"Authorization": f"Bearer {operator_token}"}
    path = server.url + "/api/v1/buckets/victim/objects/streamed.bin"
    before = reset_peak(server)
    stored = httpx.put(path, content=sixty_mib(), headers=auth, timeout=120)
    growth = peak_growth_mib(server, before)
    assert stored.status_code == 201, stored.text
    assert stored.json()["size"] == UPLOAD
    assert growth < 32, f"peak memory grew by {growth:.0f} MiB for a 60 MiB upload"
    digest = hashlib.sha256()
    with httpx.stream("GET", path, headers=auth, timeout=120) as download:
        for chunk in download.iter_bytes():
            digest.update(chunk)
    assert digest.hexdigest() == expected_digest()


@contextlib.contextmanager
def console_client(server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client signed in to the console as the operator (cookie and CSRF)."""
    with httpx.Client(base_url=server.url, timeout=120) as client:
        form = client.get("/login/operator")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token, form.text[:300]
        signed = client.post(
            "/login/operator",
            data={"csrf_token": token.group(1), "password": server.password},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text[:300]
        yield client


def test_a_console_upload_streams_to_disk(
    server: LiveServer, operator_token: str, tmp_path: Path
) -> None:
    upload = tmp_path / "big.bin"
    with upload.open("wb") as handle:
        for piece in sixty_mib():
            handle.write(piece)
    with console_client(server) as client:
        page = client.get("/console/buckets/victim")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text[:300]
        before = reset_peak(server)
        with upload.open("rb") as handle:
            sent = client.post(
                "/console/buckets/victim/objects",
                data={"csrf_token": token.group(1), "key": "from-console.bin"},
                files={"file": ("big.bin", handle, "application/octet-stream")},
                follow_redirects=False,
            )
        growth = peak_growth_mib(server, before)
        assert sent.status_code == 303, sent.text[:500]
        assert growth < 32, f"peak memory grew by {growth:.0f} MiB for a 60 MiB upload"
    listed = httpx.get(
        server.url + "/api/v1/buckets/victim/objects",
        headers={"Authorization": f"Bearer {operator_token}"},
        timeout=30,
    ).json()
    assert {"key": "from-console.bin", "size": UPLOAD} in [
        {"key": o["key"], "size": o["size"]} for o in listed
    ]


def test_a_signed_in_upload_over_the_limit_is_refused_as_it_streams(
    server: LiveServer, operator_token: str
) -> None:
    auth = {"Authorization": f"Bearer {operator_token}"}

    def too_much() -> Iterator[bytes]:  # chunked: no length to refuse up front
        piece = b"y" * MIB
        for _ in range(65):
            yield piece

    refused = httpx.put(
        server.url + "/api/v1/buckets/victim/objects/too-big.bin",
        content=too_much(),
        headers=auth,
        timeout=120,
    )
    assert refused.status_code == 413, refused.text
    assert refused.json()["code"] == "PayloadTooLarge"
    assert "64 MiB" in refused.json()["message"]


# ---------------------------------------------------------------- headers and framing


def test_security_headers(server: LiveServer) -> None:
    page = httpx.get(server.url + "/login/operator", timeout=30)
    api = httpx.get(server.url + "/api/v1/me", timeout=30)
    static = httpx.get(server.url + "/static/console.js", timeout=30)
    for answer in (page, api, static):
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    policy = page.headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'"):
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.fixture
def browser_page() -> Iterator[playwright_sync.Page]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make does it)")
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


@pytest.fixture
def other_origin(tmp_path: Path, server: LiveServer) -> Iterator[str]:
    """Another site: a page framing the console's sign-in page and one of its own pages."""
    (tmp_path / "own.html").write_text("<p id='own'>a page of this site</p>")
    (tmp_path / "attack.html").write_text(
        "<iframe id='own' src='/own.html'></iframe>"
        f"<iframe id='console' src='{server.url}/login/operator'></iframe>"
    )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_another_site_cannot_frame_the_console(
    browser_page: playwright_sync.Page, other_origin: str
) -> None:
    refusals: list[str] = []
    browser_page.on("console", lambda message: refusals.append(message.text))
    browser_page.goto(other_origin + "/attack.html")
    own = browser_page.frame_locator("#own")
    playwright_sync.expect(own.locator("#own")).to_have_text("a page of this site")
    console = browser_page.frame_locator("#console")
    browser_page.wait_for_timeout(1000)  # the frame had time to load, had it been allowed
    assert console.locator("input[name=password]").count() == 0
    assert any("frame" in text.lower() for text in refusals), refusals


def test_console_pages_run_under_the_csp(
    server: LiveServer, browser_page: playwright_sync.Page, tmp_path: Path
) -> None:
    """Sign up and in, htmx (a new access key), forms, an upload and a confirmed delete:
    Chromium reports no violation of the policy on the way."""
    expect = playwright_sync.expect
    page = browser_page
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    url = server.url
    sign_up_and_in(page, url, "csp-check")
    page.goto(url + "/console/access-keys")
    page.get_by_role("button", name="Create access key").click()
    expect(page.locator("[data-secret]")).to_be_visible()  # htmx swapped the answer in
    page.goto(url + "/console/buckets")
    page.locator("#bucket-form input[name=name]").fill("csp-bucket")
    page.locator("#bucket-form button[type=submit]").click()
    page.goto(url + "/console/buckets/csp-bucket")
    small = tmp_path / "note.txt"
    small.write_text("hello")
    page.locator("#upload-form input[type=file]").set_input_files(str(small))
    page.locator("#upload-form button[type=submit]").click()
    row = page.locator("[data-object='note.txt']")
    expect(row).to_be_visible()
    # the confirmation comes from /static/console.js: dismissed, nothing is deleted
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Delete").click()
    page.wait_for_timeout(500)
    expect(row).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.locator("[data-object='note.txt']")).to_have_count(0)
    page.goto(url + "/console/engines")
    assert violations == []


def test_templates_carry_no_inline_code() -> None:
    """What the CSP would block, found before a browser does: inline scripts, event handler
    attributes, style attributes and elements, javascript: URLs."""
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b|javascript:",
        re.IGNORECASE,
    )
    found = [
        f"{path.name}: {match.group(0)}"
        for path in sorted(views.TEMPLATES_DIR.rglob("*.html"))
        for match in inline.finditer(path.read_text())
    ]
    assert found == []
