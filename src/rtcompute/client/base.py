"""The transport under the typed client: one httpx session, JSON in and out, API errors.

Names given by people are quoted as one path segment each (`segment`), so a name can never
reach another route. An answer is parsed into the route's own response model (`parsed`), so
callers read attributes; an answer that does not fit it is an ApiError, not a crash.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar
from urllib.parse import quote

import httpx
import pydantic

Model = TypeVar("Model", bound=pydantic.BaseModel)


class ApiError(Exception):
    """An error answer of the API: its stable code, message and request id."""

    def __init__(self, status: int, code: str, message: str, request_id: str, body: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.body = body


def segment(value: str) -> str:
    """One path segment: a name never changes which route is called. `..` would (URL
    normalization turns `.../versions/..` into the policy itself), so dots-only names are
    percent-encoded, and an empty name is refused."""
    if not value:
        raise ApiError(0, "InvalidParameter", "a name or id must not be empty", "", None)
    if set(value) == {"."}:
        return "%2E" * len(value)
    return quote(value, safe="")


def given(**fields: Any) -> dict[str, Any]:
    """The fields of a request that were given (None: left out, the server keeps its value)."""
    return {k: v for k, v in fields.items() if v is not None}


# methods that read: sent again once when the server dropped a kept-alive connection, and
# after the wait a 503 asks for (Retry-After: its database had a fault), twice at most
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
BUSY_RETRIES = 2
MAX_RETRY_AFTER_SECONDS = 10


def retry_after(response: httpx.Response) -> int | None:
    """The seconds a 503 asks to wait before trying again (None: not a 503 that asks, or a
    wait longer than a command should sit through)."""
    value = response.headers.get("retry-after", "").strip()
    if response.status_code != 503 or not (value.isascii() and value.isdigit()):
        return None
    seconds = int(value)
    return seconds if seconds <= MAX_RETRY_AFTER_SECONDS else None


class Transport:
    def __init__(
        self,
        endpoint: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        language: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        headers = {"User-Agent": "rtc-cli"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if language:  # error messages that have a translation come in this language
            headers["Accept-Language"] = language
        self.endpoint = endpoint.rstrip("/")
        self.http = httpx.Client(base_url=self.endpoint, headers=headers, timeout=timeout)
        self.sleep = sleep

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        reading = method.upper() in IDEMPOTENT
        response = self._send(method, path, reading, **kwargs)
        for _ in range(BUSY_RETRIES if reading else 0):
            wait = retry_after(response)
            if wait is None:
                break
            self.sleep(wait)
            response = self._send(method, path, reading, **kwargs)
        if response.status_code == 204:
            return None
        if response.status_code >= 400:
            raise error_of(response)
        return body_of(response)

    def _send(self, method: str, path: str, reading: bool, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, "/api/v1" + path, **kwargs)
        except httpx.RemoteProtocolError as exc:
            # a kept-alive connection the server closed as the request left (its idle
            # timeout): a reading is sent once more on a new connection; a change never is
            if not reading:
                raise self.unreachable(exc) from None
        except httpx.HTTPError as exc:
            raise self.unreachable(exc) from None
        try:
            return self.http.request(method, "/api/v1" + path, **kwargs)
        except httpx.HTTPError as exc:
            raise self.unreachable(exc) from None

    def download(self, path: str, sink: BinaryIO) -> int:
        """Write the answer to GET `path` to `sink` as it arrives; the number of bytes."""
        written = 0
        try:
            with self.http.stream("GET", "/api/v1" + path) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_of(response)
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    written += len(chunk)
        except httpx.HTTPError as exc:
            raise self.unreachable(exc) from None
        return written

    def unreachable(self, exc: httpx.HTTPError) -> ApiError:
        return ApiError(0, "ConnectionFailed", f"cannot reach {self.endpoint}: {exc}", "", None)

    def parsed(self, model: type[Model], method: str, path: str, **kwargs: Any) -> Model:
        """The answer of `request` as `model`, the route's response model."""
        body = self.request(method, path, **kwargs)
        try:
            return model.model_validate(body)
        except pydantic.ValidationError as exc:
            raise unexpected(model, method, path, body, exc) from None

    def parsed_list(self, model: type[Model], method: str, path: str, **kwargs: Any) -> list[Model]:
        """The answer of `request`, a JSON list, as a list of `model`."""
        body = self.request(method, path, **kwargs)
        if not isinstance(body, list):
            raise unexpected(model, method, path, body, "not a list")
        try:
            return [model.model_validate(item) for item in body]
        except pydantic.ValidationError as exc:
            raise unexpected(model, method, path, body, exc) from None


def body_of(response: httpx.Response) -> Any:
    """The answer's JSON; one that is not JSON (a proxy's page) as an error body."""
    try:
        return response.json()
    except ValueError:
        return {"code": f"Http{response.status_code}", "message": response.text[:500]}


def error_of(response: httpx.Response) -> ApiError:
    """The ApiError of an error answer: its stable code, message and request id."""
    body = body_of(response)
    return ApiError(
        response.status_code,
        str(body.get("code", "Error")),
        str(body.get("message", "")),
        str(body.get("request_id", response.headers.get("x-request-id", ""))),
        body,
    )


def unexpected(
    model: type[pydantic.BaseModel], method: str, path: str, body: object, why: object
) -> ApiError:
    """An answer that is not the route's model (a server of another version, a proxy)."""
    message = f"the answer to {method} {path} is not a {model.__name__}: {why}"
    return ApiError(0, "UnexpectedAnswer", message, "", body)
