"""Operational alerts (the guide: an install failure sends an SMS): to the account's e-mail
through the notifier (SMTP when configured, else the server log) and to a webhook when the
operator set one. An alert that cannot be delivered is logged; it never fails the caller,
which is a reconciler recording what went wrong."""

from __future__ import annotations

import logging

import httpx

from rtcompute import errors
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import accounts as account_store
from rtcompute.store import db

log = logging.getLogger("rtcompute.alerts")


def send(
    platform: platform_module.Platform,
    *,
    account_id: str | None,
    kind: str,
    subject: str,
    body: str,
) -> None:
    """Deliver one alert; `account_id` None: the operator's (the shared pool)."""
    to, alias = "", "(operator)"
    if account_id is not None:
        with db.transaction(platform.sessions) as session:
            account = account_store.read_account(session=session, account_id=account_id)
            if account is not None:
                to, alias = account.email, account.alias
    log.error("alert %s for %s: %s: %s", kind, alias, subject, body)
    try:
        platform.notifier.send(to=to, subject=subject, body=body)
    except errors.RtcError as exc:
        log.error("alert %s not e-mailed: %s", kind, exc.message)
    url = platform.settings.alerts.webhook_url
    if url:
        payload = {"kind": kind, "account": alias, "subject": subject, "body": body}
        try:
            response = httpx.post(
                url, json=payload, timeout=platform.settings.alerts.webhook_timeout_seconds
            )
            response.raise_for_status()
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL is no HTTPError
            log.error("alert %s not delivered to the webhook: %s", kind, exc)
