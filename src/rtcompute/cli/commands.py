"""Client commands: login, whoami, access keys, audit, accounts; helpers for the others."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer

from rtcompute import client
from rtcompute.cli import config, output, root
from rtcompute.client import schemas

Answer = TypeVar("Answer")
PROFILE_HELP = "Profile in the CLI config."
ProfileOption = Annotated[
    str,
    typer.Option(
        "--profile", "-p", envvar="RTC_PROFILE", help=PROFILE_HELP, callback=root.given_before
    ),
]


def root_options(
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", "-p", help=f"{PROFILE_HELP} For every command; one after it wins."
        ),
    ] = None,
    fmt: Annotated[
        output.Format | None,
        typer.Option(
            "--output", "-o", help=f"{output.OUTPUT_HELP}. For every command; one after it wins."
        ),
    ] = None,
) -> None:
    """Options given before the command (`rtc -p work jobs list`); each command reads them
    through `root.given_before`, so the names match the commands' parameters."""


def connect(profile_name: str, *, timeout: float = 30.0) -> client.Client:
    profile = config.load(profile_name)
    if not profile.endpoint or not profile.token:
        output.err_console.print(
            "not signed in: run `rtc login --endpoint URL --account ALIAS` first "
            "(or set RTC_ENDPOINT, RTC_ACCESS_KEY_ID and RTC_ACCESS_KEY_SECRET)"
        )
        raise typer.Exit(1)
    return client.Client(profile.endpoint, profile.token, timeout=timeout, language=language())


def language() -> str | None:
    """The user's language from the locale (`zh_CN.UTF-8` -> `zh-CN`), for error messages."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            tag = value.split(".")[0].split("@")[0].replace("_", "-")
            return None if tag in ("C", "POSIX") else tag
    return None


def usage(message: str, option: str | None = None) -> typer.BadParameter:
    """A mistake in the command line itself, printed with the usage line; exit status 2."""
    return typer.BadParameter(message, param_hint=f"'{option}'" if option else None)


def call(profile_name: str, send: Callable[[client.Client], Answer]) -> Answer:
    """One API call with the profile's credentials, e.g. `lambda api: api.get_job(p, j)`; an
    API error is printed and exits 1."""
    with connect(profile_name) as api:
        try:
            return send(api)
        except client.ApiError as exc:
            raise output.fail(exc) from None


def login(
    endpoint: Annotated[
        str | None, typer.Option(help="Platform URL, e.g. http://127.0.0.1:8080")
    ] = None,
    account: Annotated[str | None, typer.Option(help="Account alias (of the sign-in URL).")] = None,
    user: Annotated[
        str | None, typer.Option(help="RAM user name; omit for the account itself.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input.")
    ] = False,
    access_key_id: Annotated[
        str | None,
        typer.Option(
            help="Sign in with an access key instead; the secret is read from stdin or a prompt."
        ),
    ] = None,
    code: Annotated[
        str | None, typer.Option(help="Verification or MFA code, if asked for.")
    ] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Sign in and save the session (or access key) in the CLI profile."""
    saved = config.load(profile)
    endpoint = (
        endpoint or saved.endpoint or typer.prompt("Endpoint", default="http://127.0.0.1:8080")
    )
    if access_key_id:
        secret = _secret(password_stdin, "Access key secret")
        token = f"{access_key_id}:{secret}"
        with client.Client(endpoint, token) as api:
            try:
                me = api.whoami()
            except client.ApiError as exc:
                raise output.fail(exc) from None
        config.save(profile, config.Profile(endpoint, token, me.account_alias, me.name))
        output.emit(me, fmt)
        return
    account = account or typer.prompt("Account alias")
    password = _secret(password_stdin, "Password")
    with client.Client(endpoint) as api:
        try:
            result = _login_with_code(api, account, password, user, code)
        except client.ApiError as exc:
            raise output.fail(exc) from None
    path = config.save(profile, config.Profile(endpoint, result.token, account, user or ""))
    if fmt is output.Format.json:
        output.emit(result.principal, fmt)
    else:
        output.console.print(
            f"signed in as {result.principal.principal}; profile {profile!r} saved in {path}"
        )


def _secret(from_stdin: bool, label: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt(label, hide_input=True))


def _login_with_code(
    api: client.Client, account: str, password: str, user: str | None, code: str | None
) -> schemas.auth.LoginResponse:
    try:
        return api.login(account, password, user=user, code=code)
    except client.ApiError as exc:
        if exc.code != "VerificationRequired" or code or not sys.stdin.isatty():
            raise
        output.err_console.print(exc.message)
        asked = typer.prompt("Verification code")
        return api.login(account, password, user=user, code=asked)


def logout(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """End the CLI session and forget it."""
    saved = config.load(profile)
    if saved.token.startswith("rtcs_"):
        with client.Client(saved.endpoint, saved.token) as api:
            try:
                api.logout()
            except client.ApiError as exc:
                if exc.code not in ("SessionExpired",):
                    raise output.fail(exc) from None
    config.save(profile, config.Profile(saved.endpoint, "", saved.account, saved.user))
    if fmt is output.Format.json:
        output.emit({"signed_out": True, "profile": profile}, fmt)
    else:
        output.console.print("signed out")


def whoami(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """Show who the saved credentials belong to."""
    output.emit(call(profile, lambda api: api.whoami()), fmt)


KeyId = Annotated[
    str, typer.Argument(help="The access key id (RTCAK...), from `access-keys list`.")
]
keys_app = typer.Typer(help="Manage your access keys (at most 2; a secret is shown once).")
KEY_COLUMNS = ("id", "status", "created_at", "last_used_at")


@keys_app.command("create")
def keys_create(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """Create an access key and print its secret, once."""
    key = call(profile, lambda api: api.create_access_key())
    output.emit(key, fmt)
    if fmt is output.Format.table:
        output.err_console.print("store the secret now: it is not shown again")


@keys_app.command("list")
def keys_list(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """List your access keys (never their secrets)."""
    output.emit(call(profile, lambda api: api.list_access_keys()), fmt, KEY_COLUMNS)


@keys_app.command("enable")
def keys_enable(
    key_id: KeyId,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Enable an access key."""
    output.emit(call(profile, lambda api: api.update_access_key(key_id, "Active")), fmt)


@keys_app.command("disable")
def keys_disable(
    key_id: KeyId,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Disable an access key; calls made with it are refused until it is enabled."""
    output.emit(call(profile, lambda api: api.update_access_key(key_id, "Inactive")), fmt)


@keys_app.command("delete")
def keys_delete(
    key_id: KeyId,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete an access key for good."""
    call(profile, lambda api: api.delete_access_key(key_id))
    output.emit({"deleted": key_id}, fmt)


audit_app = typer.Typer(help="Read the audit trail of your account.")
AUDIT_COLUMNS = (
    "id",
    "occurred_at",
    "principal",
    "source_ip",
    "action",
    "resource",
    "outcome",
    "error_code",
)


@audit_app.command("list")
def audit_list(
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. ram:CreateAccessKey.")
    ] = None,
    principal: Annotated[
        str | None, typer.Option(help="Only this principal, e.g. alice@acme.")
    ] = None,
    outcome: Annotated[str | None, typer.Option(help="success, denied or failed.")] = None,
    since: Annotated[datetime | None, typer.Option(help="From this UTC time.")] = None,
    until: Annotated[datetime | None, typer.Option(help="Before this UTC time.")] = None,
    limit: Annotated[int, typer.Option(help="Events per page (1-200).")] = 50,
    page_token: Annotated[
        str | None, typer.Option(help="Next-page token from a previous call.")
    ] = None,
    all_accounts: Annotated[bool, typer.Option(help="Every account (operator only).")] = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List audit events, newest first."""
    page = call(
        profile,
        lambda api: api.list_audit_events(
            action=action,
            principal=principal,
            outcome=outcome,
            since=_utc(since),
            until=_utc(until),
            page_size=limit,
            page_token=page_token,
            all_accounts=all_accounts,
        ),
    )
    if fmt is output.Format.json:
        output.emit(page, fmt)
        return
    output.emit(page.events, fmt, AUDIT_COLUMNS)
    if page.next_page_token:
        output.console.print(f"more: --page-token {page.next_page_token}")


def _utc(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat() + ("" if value.tzinfo else "Z")


accounts_app = typer.Typer(help="Tenant accounts (operator only).")
ACCOUNT_COLUMNS = ("id", "alias", "display_name", "email", "is_operator", "login_url")


@accounts_app.command("create")
def accounts_create(
    alias: Annotated[
        str, typer.Argument(help="3-32 lowercase letters, digits, hyphens; in the sign-in URL.")
    ],
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input.")
    ] = False,
    display_name: Annotated[str, typer.Option(help="A name for people (optional).")] = "",
    email: Annotated[
        str, typer.Option(help="Receives sign-in verification codes (optional).")
    ] = "",
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create an account for a tenant."""
    password = _secret(password_stdin, "Password for the new account")
    result = call(
        profile,
        lambda api: api.create_account(alias, password, display_name=display_name, email=email),
    )
    output.emit(result, fmt)


@accounts_app.command("list")
def accounts_list(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """List every account."""
    output.emit(call(profile, lambda api: api.list_accounts()), fmt, ACCOUNT_COLUMNS)
