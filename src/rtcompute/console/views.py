"""Rendering: one Jinja environment per language, the navigation, errors in the user's words.

Domain errors carry an English message written for the API; the console shows it as is in
English and, for the codes a console user commonly meets, a translated sentence otherwise.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rtcompute import errors, http_status
from rtcompute.console import auth, capacity_errors, engine_errors, i18n, job_errors, ram_errors
from rtcompute.console.i18n import N_

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class NavItem:
    key: str
    href: str
    label: str
    children: tuple[NavItem, ...] = ()


# guide, RAM console: 概览 (the section's own page), users, groups, policies, roles; and the
# service role of 共享模式角色授权
RAM_NAV = (
    NavItem("ram-users", "/console/ram/users", N_("Users")),
    NavItem("ram-groups", "/console/ram/groups", N_("Groups")),
    NavItem("ram-policies", "/console/ram/policies", N_("Policies")),
    NavItem("ram-roles", "/console/ram/roles", N_("Roles")),
    NavItem("ram-service-role", "/console/ram/service-role", N_("Service role")),
)
# guide, chapter 1 (management console): the sections of the console, in the guide's order
NAV = (
    NavItem("overview", "/console", N_("Overview")),
    NavItem("orders", "/console/orders", N_("Orders")),
    NavItem("shared-projects", "/console/shared-projects", N_("Shared projects")),
    NavItem("exclusive-clusters", "/console/exclusive-clusters", N_("Exclusive clusters")),
    NavItem("kubernetes-clusters", "/console/kubernetes-clusters", N_("Kubernetes clusters")),
    NavItem("ram", "/console/ram", N_("RAM"), RAM_NAV),
    # guide ch. 7 版本管理: the catalog; a cluster's versions are managed from its page
    NavItem("engine-versions", "/console/engines", N_("Engine versions")),
    NavItem("audit", "/console/audit", N_("Audit")),
)
# shown to the operator only
NAV_OPERATOR = (
    NavItem("accounts", "/console/accounts", N_("Accounts")),
    NavItem("payments", "/console/payments", N_("Payments")),
    NavItem("pool-versions", "/console/pool/versions", N_("Pool versions")),
)
NAV_ACCOUNT = (
    NavItem("access-keys", "/console/access-keys", N_("Access keys")),
    NavItem("settings", "/console/settings", N_("Settings")),
)

# What the console says for each error code a user can meet, translated; a code missing here
# shows the service's English message in every language (tests/unit/test_i18n.py lists the
# codes the services raise and fails on one missing here).
ERROR_MESSAGES = {
    "CsrfFailed": N_(
        "The form is stale or was not sent by this console; reload the page and retry."
    ),
    # one message for every refused password step: wrong, unknown or throttled alike
    "InvalidCredentials": N_(
        "The account, user name or password is wrong, or this address made too many failed "
        "sign-ins (then wait %(lockout_minutes)s minutes)."
    ),
    "InvalidVerificationCode": N_("The verification code is wrong or expired."),
    "VerificationRequired": N_("A verification code is needed; enter it with your password."),
    "ConsoleAccessDisabled": N_(
        "Console access is turned off for this user; ask the account owner."
    ),
    "SignupDisabled": N_(
        "Public sign-up is turned off on this platform; ask the operator for an account."
    ),
    "WeakPassword": N_(
        "The password is too weak: use at least %(min_length)s characters, and not the "
        "account or user name."
    ),
    "PasswordMismatch": N_("The two passwords differ; type the same password twice."),
    "InvalidAccountAlias": N_(
        "This account alias is not valid: use 3-32 lowercase letters, digits and hyphens, "
        "starting and ending with a letter or digit."
    ),
    "AccountAliasExists": N_("This account alias is taken; choose another."),
    "InvalidEmail": N_(
        "This is not an e-mail address; enter one like name@example.com, or leave it empty."
    ),
    "InvalidDisplayName": N_(
        "The display name is too long or has control characters (bidirectional ones "
        "included); use at most 64 printable characters."
    ),
    "InvalidPageToken": N_(
        "This page link was not handed out by the console; start again from the first page."
    ),
    "InvalidParameter": N_(
        "A value in the form or the address is not valid (too long, or with characters such "
        "as NUL that cannot be stored); correct it and retry."
    ),
    "InvalidStatus": N_("The status must be Active or Inactive."),
    "SessionExpired": N_("Your session has expired; sign in again."),
    "MissingCredentials": N_("Sign in first."),
    "Unauthenticated": N_("Sign in first."),
    "InvalidAccessKey": N_("The access key ID or secret is wrong."),
    "AccessKeyDisabled": N_("This access key is disabled; enable it or use another key."),
    "Forbidden.RAM": N_("You are not authorized to do this; ask the account owner to grant it."),
    "Forbidden": N_("You are not authorized to do this; ask the account owner to grant it."),
    "AccessKeyLimitExceeded": N_("You have the maximum number of access keys; delete one first."),
    "AccessKeyNotFound": N_("That access key does not exist; reload the page to see your keys."),
    "QuotaExceeded": N_("A quota is used up; free some resources or ask the operator for more."),
    "MfaAlreadyBound": N_("MFA is already on; turn it off first."),
    "MfaNotStarted": N_("No MFA device is pending; set one up first."),
    "MfaUnchanged": N_("MFA is already in that state."),
    "AccountNotFound": N_("That account does not exist; check the account alias."),
    "IdentityNotFound": N_("Your identity no longer exists; ask the account owner."),
    "Conflict": N_("This conflicts with the current state; reload the page and retry."),
    "NotFound": N_("There is no such page."),
    "MethodNotAllowed": N_("This page cannot be used that way; go back and use its buttons."),
    "PayloadTooLarge": N_("The request is too large; send less data."),
    "BadRequest": N_("The request is not valid; reload the page and retry."),
    "NotAcceptable": N_("The request is not valid; reload the page and retry."),
    "UnsupportedMediaType": N_("The request is not valid; reload the page and retry."),
    "MalformedJSON": N_("The request body is not valid JSON; reload the page and retry."),
    "NotificationFailed": N_(
        "The verification e-mail could not be sent; retry later or ask the operator to check "
        "the mail settings."
    ),
    "ServiceUnavailable": N_("The service is unavailable for a moment; retry shortly."),
    "InternalError": N_(
        "Something went wrong on our side; retry, and if it persists give the operator the "
        "request id shown below."
    ),
    **ram_errors.ERROR_MESSAGES,
    **capacity_errors.ERROR_MESSAGES,
    **engine_errors.ERROR_MESSAGES,
    **job_errors.ERROR_MESSAGES,
}
VERIFICATION_MESSAGES = {
    "totp": N_("Enter the 6-digit code of your MFA app."),
    "email": N_(
        "This identity has been inactive for a long time; a 6-digit verification code was "
        "sent by e-mail. Enter it with your password."
    ),
    "log": N_(
        "This identity has been inactive for a long time; a 6-digit verification code was "
        "written to the operator's log. Enter it with your password."
    ),
}


def status_of(error: errors.RtcError) -> int:
    return http_status.status_of(error)


@functools.cache
def environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalog = i18n.translations(language)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        catalog.gettext, catalog.ngettext, newstyle=True
    )
    return env


def language_of(request: Request) -> tuple[str, bool]:
    """(language, whether `?lang=` chose it and the cookie must be set)."""
    asked = i18n.normalize(request.query_params.get("lang"))
    if asked:
        return asked, True
    cookie = request.cookies.get(i18n.LANG_COOKIE)
    return i18n.negotiate(cookie, request.headers.get("accept-language")), False


def translator(request: Request) -> Callable[[str], str]:
    language, _ = language_of(request)
    return lambda message: i18n.gettext(language, message)


def known_message(code: str) -> str | None:
    """The console's sentence for a code, else for its family (`LimitExceeded.X` ->
    `LimitExceeded`); None for a code nobody wrote one for."""
    while code:
        known = ERROR_MESSAGES.get(code)
        if known is not None:
            return known
        code = code.rpartition(".")[0]
    return None


def message_of(request: Request, code: str, message: str) -> str:
    """English: the service's own message (it names the value); otherwise the translation."""
    language, _ = language_of(request)
    known = known_message(code)
    if known is None or (language == i18n.ENGLISH and message):
        return message
    return i18n.gettext(language, known) % _message_values(request)


def _message_values(request: Request) -> dict[str, object]:
    platform = getattr(request.app.state, "platform", None)
    settings = getattr(platform, "settings", None)
    auth = getattr(settings, "auth", None)
    min_length = getattr(auth, "password_min_length", 8)
    lockout_minutes = getattr(auth, "lockout_minutes", 15)
    return {
        "min_length": min_length,
        "lockout_minutes": lockout_minutes,
        **ram_errors.LIMIT_VALUES,
    }


def error_link(code: str) -> tuple[str, str] | None:
    """Where the user fixes the cause of an error: (path, label), or None."""
    return (
        ram_errors.ERROR_LINKS.get(code)
        or capacity_errors.ERROR_LINKS.get(code)
        or engine_errors.ERROR_LINKS.get(code)
    )


def error_message(request: Request, error: errors.RtcError) -> str:
    """A domain error's own sentence in the page's language."""
    if isinstance(error, errors.VerificationRequired) and error.method in VERIFICATION_MESSAGES:
        return translator(request)(VERIFICATION_MESSAGES[error.method])
    language, _ = language_of(request)
    if not error.zh:  # not yet given its Chinese sentence: the console's one for the code
        return message_of(request, error.code, error.message)
    return error.text(language)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _single_tenant(request: Request) -> bool:
    platform = getattr(request.app.state, "platform", None)
    return bool(platform is not None and platform.settings.jobs.single_tenant)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    language, from_query = language_of(request)
    principal = getattr(request.state, "principal", None)
    values: dict[str, Any] = {
        "request": request,
        "lang": language,
        "languages": i18n.LANGUAGE_NAMES,
        "principal": principal,
        "csrf_token": getattr(principal, "csrf_token", ""),
        "nav": NAV,
        "nav_account": NAV_ACCOUNT,
        "nav_operator": NAV_OPERATOR if getattr(principal, "is_operator", False) else (),
        "path": request.url.path,
        # the operator turned the sandbox off: every page says so (docs/security.md)
        "single_tenant": _single_tenant(request),
        **(context or {}),
    }
    html = environment(language).get_template(template).render(values)
    response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
    if from_query:
        response.set_cookie(
            i18n.LANG_COOKIE,
            language,
            max_age=auth.YEAR_SECONDS,
            samesite="lax",
            secure=auth.is_https(request),
            path="/",
        )
    return response


class Notices(dict[str, str]):
    """An area's fixed list of what a write did (`?done=<key>` on the page it redirects
    to): never text from the query string, only a key of the list."""

    def see_other(self, request: Request, location: str, done: str | None = None) -> Response:
        """After a write: a redirect to the page that shows its result."""
        if done is not None:
            assert done in self, done
            location = f"{location}{'&' if '?' in location else '?'}done={done}"
        if is_htmx(request):
            return Response(status_code=200, headers={"HX-Redirect": location})
        return RedirectResponse(location, status_code=303)

    def of(self, request: Request) -> str | None:
        """The notice the page was redirected with, in the user's language."""
        key = request.query_params.get("done")
        message = self.get(key) if key else None
        return translator(request)(message) if message else None
