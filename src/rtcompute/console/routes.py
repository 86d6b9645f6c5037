"""Console pages (placeholder until the console lands)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response


def render_error(request: Request, status: int, code: str, message: str) -> Response:
    return HTMLResponse(f"<h1>{status} {code}</h1><p>{message}</p>", status_code=status)


def mount(app: FastAPI) -> None:
    del app
