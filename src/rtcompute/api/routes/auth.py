"""Sign-up, sign-in (sessions), sign-out, the caller's identity, password and MFA."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request, Response, status

from rtcompute.api import deps
from rtcompute.api.schemas import accounts as account_schemas
from rtcompute.api.schemas import auth as schemas
from rtcompute.domain import operations, resources
from rtcompute.services.iam import authz
from rtcompute.services.kernel import accounts, auth, principals, sessions

router = APIRouter(prefix=deps.API_PREFIX, tags=["auth"], responses=deps.ERROR_RESPONSES)


def login_url(request: Request, alias: str) -> str:
    """The account's console sign-in URL, as the caller reached this server.

    Built from the scope, not `request.base_url` (which parses a whole URL per call: this is
    on the hot path of `GET /me`).
    """
    scope = request.scope
    host = request.headers.get("host")
    if not host:
        server_host, server_port = scope.get("server") or ("localhost", 80)
        host = f"{server_host}:{server_port}"
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}/login/{alias}"


def whoami_of(request: Request, principal: principals.Principal) -> schemas.Whoami:
    return schemas.Whoami(
        account_id=principal.account_id,
        account_alias=principal.account_alias,
        identity_type=principal.identity_type.value,
        name=principal.name,
        principal=principal.display,
        is_operator=principal.is_operator,
        auth_method=principal.auth_method,
        mfa_present=principal.mfa_present,
        login_url=login_url(request, principal.account_alias),
    )


@router.post(
    "/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=account_schemas.Account,
    dependencies=[deps.public("rtc:SignUp")],
)
async def sign_up(
    body: account_schemas.AccountCreate, request: Request, platform: deps.PlatformDep
) -> account_schemas.Account:
    """Create an account (when the operator allows public sign-up)."""
    deps.audit_claim(request, account_id=None, claimed=body.alias[:64], resource="")
    new = accounts.NewAccount(body.alias, body.password, body.display_name, body.email)
    account = await anyio.to_thread.run_sync(accounts.sign_up, platform, new)
    deps.audit_claim(
        request,
        account_id=account.id,
        claimed=account.alias,
        resource=resources.account_root(account.id),
    )
    result = account_schemas.Account.model_validate(account)
    result.login_url = login_url(request, account.alias)
    return result


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.LoginResponse,
    dependencies=[deps.public("rtc:SignIn")],
)
async def sign_in(
    body: schemas.LoginRequest, request: Request, platform: deps.PlatformDep
) -> schemas.LoginResponse:
    """Sign in with a password (and a code when asked); returns a CLI session token."""
    claimed = f"{body.user}@{body.account}" if body.user else body.account
    account_id = await anyio.to_thread.run_sync(accounts.find_account_id, platform, body.account)
    deps.audit_claim(request, account_id=account_id, claimed=claimed[:200], resource="")
    attempt = auth.SignIn(
        alias=body.account,
        user=body.user,
        password=body.password,
        code=body.code,
        kind=sessions.CLI,
        source_ip=deps.request_context(request).source_ip,
    )
    signed_in = await anyio.to_thread.run_sync(auth.sign_in, platform, attempt)
    request.state.principal = signed_in.principal
    request.state.audit_resource = authz.own_resource(signed_in.principal)
    return schemas.LoginResponse(
        token=signed_in.token,
        expires_at=signed_in.expires_at_iso,
        principal=whoami_of(request, signed_in.principal),
    )


@router.delete("/sessions/current", response_model=schemas.Status)
async def sign_out(
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.SIGN_OUT),
) -> schemas.Status:
    """End the session whose token made this call."""
    await anyio.to_thread.run_sync(sessions.sign_out, platform, principal)
    return schemas.Status()


@router.get("/me", response_model=schemas.Whoami)
async def whoami(
    request: Request,
    principal: principals.Principal = deps.requires(operations.GET_CALLER_IDENTITY),
) -> Response:
    """Who the credentials of this call belong to."""
    # serialized here, once: FastAPI would validate the model again against response_model
    body = whoami_of(request, principal).model_dump_json()
    return Response(body, media_type="application/json")


@router.put("/me/password", response_model=schemas.Status)
async def change_password(
    body: schemas.PasswordChange,
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.CHANGE_PASSWORD),
) -> schemas.Status:
    """Change the caller's password; its other sessions end."""
    await anyio.to_thread.run_sync(
        lambda: auth.change_password(
            platform, principal, old_password=body.old_password, new_password=body.new_password
        )
    )
    return schemas.Status()


@router.post("/me/mfa", response_model=schemas.MfaDevice)
async def begin_mfa(
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.CREATE_VIRTUAL_MFA_DEVICE),
) -> schemas.MfaDevice:
    """A new TOTP secret to scan; confirm it with `PUT /me/mfa`."""
    secret, uri = await anyio.to_thread.run_sync(auth.begin_mfa, platform, principal)
    return schemas.MfaDevice(secret=secret, otpauth_uri=uri)


@router.put("/me/mfa", response_model=schemas.Status)
async def update_mfa(
    body: schemas.MfaUpdate,
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.BIND_MFA_DEVICE),
) -> schemas.Status:
    """Turn MFA on or off with a current code."""
    await anyio.to_thread.run_sync(
        lambda: auth.set_mfa(platform, principal, code=body.code, enabled=body.enabled)
    )
    return schemas.Status()
