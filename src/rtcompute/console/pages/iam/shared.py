"""What the RAM pages share: resources, form fields, post-redirect-get, section permissions.

Writes are forms that post to their own URL. Success answers with a redirect to the page
that shows the new state (`HX-Redirect` for htmx, 303 otherwise), with a `done` key naming a
notice from a fixed list, so a reload never repeats the write and no text of the address is
ever echoed into the page. A detail page shows a section (members, attachments, keys) only
when the caller may read it: it asks for that section's own action, as the API would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import anyio
from fastapi import Form, Path, Query, Request, Response

from rtcompute import errors
from rtcompute.console import fields, views
from rtcompute.console.i18n import N_
from rtcompute.domain import policies, ram

T = TypeVar("T")
BASE = "/console/ram"
PAGE_SIZE = 100
LIST_ALL = 5_000  # choices in a form: every user or policy of the account fits


# path parameters and form fields: only what the store can hold
Name = Annotated[str, Path(max_length=128), fields.Printable]
KeyId = Annotated[str, Path(max_length=128), fields.Printable]
VersionId = Annotated[str, Path(max_length=16), fields.Printable]
NameField = Annotated[str, Form(max_length=128), fields.Printable]
TextField = Annotated[str, Form(max_length=1024), fields.Printable]
SecretField = Annotated[str, Form(max_length=1024), fields.Storable]
DocumentField = Annotated[str, Form(max_length=65_536), fields.Storable]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]

NOTICES = views.Notices(
    {
        "created": N_("Created."),
        "saved": N_("Saved."),
        "deleted": N_("Deleted."),
        "password": N_("Password set. The user's signed-in sessions have ended."),
        "console-on": N_("Console access is on."),
        "console-off": N_("Console access is off."),
        "mfa": N_("MFA device removed; the user binds a new one at the next sign-in."),
        "attached": N_("Policy attached."),
        "detached": N_("Policy detached."),
        "member-added": N_("Member added."),
        "member-removed": N_("Member removed."),
        "version-created": N_("Version added."),
        "default-set": N_("Default version set."),
        "version-deleted": N_("Version deleted."),
        "authorized": N_("Authorized: the stream service may now act for this account."),
        "reinitialized": N_(
            "The service role was deleted. Authorize it again so that jobs can reach external "
            "storage."
        ),
    }
)
see_other = NOTICES.see_other
notice_of = NOTICES.of


def path_of(*parts: str) -> str:
    """A console path below /console/ram, each name quoted."""
    return "/".join([BASE, *(quote(part, safe="") for part in parts)])


def failed(request: Request, error: errors.RtcError) -> tuple[int, str]:
    """A refusal shown on the form that caused it: the status and the message to show."""
    request.state.error_code = error.code
    return views.status_of(error), views.error_message(request, error)


async def run(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A blocking service call, in a worker thread."""
    return await anyio.to_thread.run_sync(lambda: function(*args, **kwargs))


def render(
    request: Request, template: str, active: str, status: int = 200, **context: Any
) -> Response:
    language, _ = views.language_of(request)
    values = {
        "active": active,
        "notice": notice_of(request),
        "ram_base": BASE,
        # a description in the page's language: the platform's own in Chinese too, what the
        # account wrote as written (ram_macros.description marks that translate="no")
        "describe": lambda text: ram.description_in(language, text),
        "shipped_description": lambda text: text in ram.SHIPPED_DESCRIPTIONS_ZH,
        **context,
    }
    return views.render(request, template, values, status=status)


def problems_of(request: Request, document: str, *, trust: bool = False) -> list[str]:
    """The problems of a document, one line each (`Statement[1].Effect: ...`), in the page's
    language."""
    found = policies.trust_problems(document) if trust else policies.problems(document)
    language, _ = views.language_of(request)
    return [problem.text(language) for problem in found]
