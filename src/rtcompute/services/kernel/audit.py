"""The audit trail: written for every state-changing call (denied ones too), read by page.

A change and its event commit together: a `Trail` joins the first write transaction of its
request (`db.on_write`) and adds the event to it, marked a success; when the answer is
known, before it is sent, the event is completed (a refusal or a failure after the change)
or, for a request that changed nothing, written then. A process killed at any step leaves
no change without its event. What a caller sent is kept whatever its bytes: text the
database cannot store is escaped, never a reason to drop the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from rtcompute import errors
from rtcompute.domain import identities, text
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import audit_events as audit_store
from rtcompute.store import db, tables

log = logging.getLogger("rtcompute.audit")
OUTCOMES = ("success", "denied", "failed")
MAX_PAGE = 200


@dataclass(frozen=True)
class Event:
    action: str
    resource: str
    outcome: str
    principal: principals.Principal | None
    context: principals.RequestContext
    error_code: str = ""
    detail: str = ""
    # for unauthenticated attempts (sign-in), who it claimed to be
    claimed_account_id: str | None = None
    claimed_principal: str = ""


def _fields(event: Event) -> dict[str, object]:
    """The event's columns but its time, cut to their lengths, storable whatever was sent."""
    who = event.principal

    def cut(value: str, length: int) -> str:
        return text.storable(value)[:length]

    return {
        "account_id": who.account_id if who else event.claimed_account_id,
        "identity_type": who.identity_type.value if who else "",
        "principal": cut(who.display if who else event.claimed_principal, 200),
        "source_ip": cut(event.context.source_ip, 64),
        "action": cut(event.action, 128),
        "resource": cut(event.resource, 512),
        "outcome": event.outcome,
        "error_code": cut(event.error_code, 64),
        "request_id": cut(event.context.request_id, 64),
        "detail": cut(event.detail, 2000),
    }


def _new_row(platform: platform_module.Platform, event: Event) -> tables.AuditEvent:
    return tables.AuditEvent(occurred_at=platform.now(), **_fields(event))


def _append(platform: platform_module.Platform, event: Event) -> Exception | None:
    """Append one event in its own transaction; the failure, if any (never raised)."""
    try:
        with db.transaction(platform.sessions) as session:
            audit_store.create_audit_event(session=session, event=_new_row(platform, event))
    except Exception as exc:  # the audit must not turn a done action into an error
        return exc
    return None


def record(platform: platform_module.Platform, event: Event) -> None:
    """Append one event in its own transaction; a failure here is logged, never raised."""
    failure = _append(platform, event)
    if failure is not None:
        log.error(
            "could not write audit event %s %s", event.action, event.resource, exc_info=failure
        )


def record_denial(
    platform: platform_module.Platform,
    principal: principals.Principal,
    action: str,
    resource: str,
    context: principals.RequestContext,
    error_code: str,
) -> None:
    """A refused read, API or console (a refused write is recorded by the request's trail)."""
    event = Event(
        action=action,
        resource=resource,
        outcome="denied",
        principal=principal,
        context=context,
        error_code=error_code,
    )
    record(platform, event)


class Trail:
    """The event of one state-changing request (see the module docstring); a `db.WriteHook`.

    `draft()` is the event as it stands (the caller, the resource, the outcome of a success),
    read when a write of the request is about to commit; None until the request is allowed
    to make its change (a write on the way there, such as a session's last use, is not
    the request's change)."""

    def __init__(
        self, platform: platform_module.Platform, draft: Callable[[], Event | None]
    ) -> None:
        self.platform = platform
        self.draft = draft
        self.written: tuple[int, Event] | None = None  # committed with a change
        self._pending: tuple[int, Event] | None = None
        self._finishing = False

    def before_commit(self, session: Session) -> None:
        if self.written is not None or self._finishing:
            return
        event = self.draft()
        if event is None:
            return
        row = audit_store.create_audit_event(session=session, event=_new_row(self.platform, event))
        self._pending = (row.id, event)

    def committed(self) -> None:
        if self.written is None and self._pending is not None:
            self.written = self._pending

    def finish(self, event: Event) -> Exception | None:
        """The event as answered: completes the one written with the change, or writes it.
        A change that was made keeps `success` (with the answer's error code, when a later
        step failed); a commit whose acknowledgement was lost is looked up, not written
        twice. A failure is returned, never raised (the answer goes out all the same), for
        the caller's one log line of the request."""
        self._finishing = True
        try:
            with db.transaction(self.platform.sessions) as session:
                written = self.written
                if written is None and self._pending is not None:
                    row_id = self._pending[0]
                    if audit_store.audit_event_exists(session=session, event_id=row_id):
                        written = self._pending  # committed, unacknowledged
                if written is None:
                    audit_store.create_audit_event(
                        session=session, event=_new_row(self.platform, event)
                    )
                    return None
                row_id, drafted = written
                final = replace(event, outcome="success")  # the change was made
                if final != drafted:
                    audit_store.update_audit_event(
                        session=session, event_id=row_id, values=_fields(final)
                    )
        except Exception as exc:
            return exc
        return None


def page_token(token: str | None) -> int | None:
    """Parse a page token from a client; Invalid when it is not one we handed out."""
    return text.parse_page_token(token)


@dataclass(frozen=True)
class Query:
    action: str | None = None
    principal: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    page_token: int | None = None
    page_size: int = 50
    all_accounts: bool = False


def list_events(
    platform: platform_module.Platform, principal: principals.Principal, query: Query
) -> tuple[list[tables.AuditEvent], int | None]:
    """A page of events, newest first, and the token of the next page (None at the end)."""
    if query.outcome and query.outcome not in OUTCOMES:
        raise errors.Invalid(
            f"outcome must be one of {', '.join(OUTCOMES)}",
            f"outcome 只能是 {', '.join(OUTCOMES)} 之一",
            code="InvalidParameter",
        )
    if not 1 <= query.page_size <= MAX_PAGE:
        raise errors.Invalid(
            f"page_size must be 1-{MAX_PAGE}",
            f"page_size 须在 1 到 {MAX_PAGE} 之间",
            code="InvalidParameter",
        )
    for name, value in (("action", query.action), ("principal", query.principal)):
        if value is not None and not text.is_storable(value):
            raise errors.Invalid(
                f"{name} must be text without NUL characters",
                f"参数 {name} 必须是不含 NUL 字符的文本",
            )
    # the operator account itself, not its RAM users: no policy of the operator's own
    # account can grant a reach into other tenants' trails
    if query.all_accounts and not (
        principal.is_operator and principal.identity_type is identities.IdentityType.ACCOUNT
    ):
        raise errors.Forbidden(
            "only the operator account itself may read every account's audit trail",
            "只有平台管理员账号本身才能查看所有账号的审计记录",
            code="Forbidden.RAM",
        )
    where = audit_store.AuditFilter(
        account_id=None if query.all_accounts else principal.account_id,
        action=query.action,
        principal=query.principal,
        outcome=query.outcome,
        since=query.since,
        until=query.until,
        before_id=query.page_token,
    )
    with db.transaction(platform.sessions) as session:
        rows = audit_store.list_audit_events(
            session=session, where=where, limit=query.page_size + 1
        )
    next_token = rows[query.page_size - 1].id if len(rows) > query.page_size else None
    return rows[: query.page_size], next_token
