"""Typed HTTP client of the REST API, used by the CLI, SDK users and end-to-end tests."""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    """An error answer of the API: its stable code, message and request id."""

    def __init__(self, status: int, code: str, message: str, request_id: str, body: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.body = body


class Client:
    def __init__(self, endpoint: str, token: str | None = None, *, timeout: float = 30.0):
        headers = {"User-Agent": "rtc-cli"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.endpoint = endpoint.rstrip("/")
        self.http = httpx.Client(base_url=self.endpoint, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, "/api/v1" + path, **kwargs)
        except httpx.HTTPError as exc:
            message = f"cannot reach {self.endpoint}: {exc}"
            raise ApiError(0, "ConnectionFailed", message, "", None) from None
        if response.status_code == 204:
            return None
        try:
            body = response.json()
        except ValueError:
            body = {"code": f"Http{response.status_code}", "message": response.text[:500]}
        if response.status_code >= 400:
            raise ApiError(
                response.status_code,
                str(body.get("code", "Error")),
                str(body.get("message", "")),
                str(body.get("request_id", response.headers.get("x-request-id", ""))),
                body,
            )
        return body

    # sessions and identity
    def login(
        self, account: str, password: str, *, user: str | None = None, code: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"account": account, "password": password}
        if user:
            body["user"] = user
        if code:
            body["code"] = code
        result: dict[str, Any] = self.request("POST", "/sessions", json=body)
        return result

    def logout(self) -> None:
        self.request("DELETE", "/sessions/current")

    def signup(self, alias: str, password: str, **fields: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "POST", "/signup", json={"alias": alias, "password": password, **fields}
        )
        return result

    def whoami(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", "/me")
        return result

    def change_password(self, old: str, new: str) -> None:
        self.request("PUT", "/me/password", json={"old_password": old, "new_password": new})

    # access keys
    def list_access_keys(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/access-keys")
        return result

    def create_access_key(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", "/access-keys")
        return result

    def update_access_key(self, key_id: str, status: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "PATCH", f"/access-keys/{key_id}", json={"status": status}
        )
        return result

    def delete_access_key(self, key_id: str) -> None:
        self.request("DELETE", f"/access-keys/{key_id}")

    # audit and accounts
    def list_audit_events(self, **params: Any) -> dict[str, Any]:
        clean = {k: v for k, v in params.items() if v is not None and v is not False}
        result: dict[str, Any] = self.request("GET", "/audit-events", params=clean)
        return result

    def create_account(self, alias: str, password: str, **fields: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "POST", "/accounts", json={"alias": alias, "password": password, **fields}
        )
        return result

    def list_accounts(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/accounts")
        return result
