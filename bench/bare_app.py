"""Baseline for bench/api.py: a bare FastAPI app with the route shape of `GET /api/v1/me`.

No authentication, no database, no middleware: the same response model fields, the same
uvicorn settings as `rtc up` (one process, log_level warning, no access log, no proxy
headers), so the difference between the two is what rtcompute adds to a request.

    .venv/bin/python bench/bare_app.py --port 8099
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel


class Whoami(BaseModel):
    account_id: str
    account_alias: str
    identity_type: str
    name: str
    principal: str
    is_operator: bool
    auth_method: str
    mfa_present: bool
    login_url: str


def create_app() -> FastAPI:
    app = FastAPI(title="bare", openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/me", response_model=Whoami)
    async def whoami() -> Whoami:
        return Whoami(
            account_id="1234567890123456",
            account_alias="operator",
            identity_type="Account",
            name="operator",
            principal="acs:ram::1234567890123456:root",
            is_operator=True,
            auth_method="access_key",
            mfa_present=False,
            login_url="http://127.0.0.1:8099/login/operator",
        )

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, required=True, help="port to bind")
    args = parser.parse_args()
    uvicorn.run(
        create_app(),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
