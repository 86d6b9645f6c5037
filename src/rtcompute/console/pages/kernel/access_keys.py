"""The caller's access keys, managed with htmx: each action swaps the key table in place.

A new key's secret is only in the response of the create call (a fragment above the table);
the list never carries it, so reloading the page cannot show it again.
"""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import RedirectResponse

from rtcompute.console import fields, guard, views
from rtcompute.domain import operations
from rtcompute.services.kernel import access_keys, principals

router = APIRouter(include_in_schema=False)
PAGE = "/console/access-keys"
KeyId = Annotated[str, Path(max_length=128), fields.Printable]


async def _keys(request: Request, principal: principals.Principal) -> list[object]:
    platform = guard.platform_of(request)
    keys = await anyio.to_thread.run_sync(
        access_keys.list_access_keys, platform, principal.identity_id
    )
    return list(keys)


async def _table(request: Request, principal: principals.Principal) -> Response:
    """The key table fragment for htmx; a redirect to the page for plain form posts."""
    if not views.is_htmx(request):
        return RedirectResponse(PAGE, status_code=303)
    keys = await _keys(request, principal)
    return views.render(request, "components/keys_table.html", {"keys": keys})


@router.get(PAGE)
async def list_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.LIST_ACCESS_KEYS),
) -> Response:
    keys = await _keys(request, principal)
    return views.render(request, "kernel/access_keys.html", {"active": "access-keys", "keys": keys})


@router.post(PAGE)
async def create(
    request: Request,
    principal: principals.Principal = guard.requires(operations.CREATE_ACCESS_KEY),
) -> Response:
    platform = guard.platform_of(request)
    created = await anyio.to_thread.run_sync(
        access_keys.create_access_key, platform, principal.identity_id
    )
    keys = await _keys(request, principal)
    context = {"active": "access-keys", "keys": keys, "created": created}
    template = (
        "components/key_created.html" if views.is_htmx(request) else "kernel/access_keys.html"
    )
    return views.render(request, template, context, headers={"Cache-Control": "no-store"})


@router.post(PAGE + "/{key_id}/status")
async def set_status(
    request: Request,
    key_id: KeyId,
    status: Annotated[Literal["Active", "Inactive"], Form()],
    principal: principals.Principal = guard.requires(operations.UPDATE_ACCESS_KEY),
) -> Response:
    platform = guard.platform_of(request)
    await anyio.to_thread.run_sync(
        access_keys.set_status, platform, principal.identity_id, key_id, status
    )
    return await _table(request, principal)


@router.delete(PAGE + "/{key_id}")
async def delete(
    request: Request,
    key_id: KeyId,
    principal: principals.Principal = guard.requires(operations.DELETE_ACCESS_KEY),
) -> Response:
    platform = guard.platform_of(request)
    await anyio.to_thread.run_sync(
        access_keys.delete_access_key, platform, principal.identity_id, key_id
    )
    return await _table(request, principal)
