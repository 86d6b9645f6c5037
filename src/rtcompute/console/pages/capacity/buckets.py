"""Buckets and their objects (the guide's OSS): create with a storage class and an ACL,
list, upload (a multipart form), download and delete objects, change the ACL.

An exclusive cluster keeps its UDF packages in a bucket of standard storage that is not
public-read (guide: 独享模式开通流程); the list says which buckets a cluster can use. Writes
by a RAM user also need `ram:PassRole` on the service role (guide error 922019): the
service checks it, with the request's facts this page passes on.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import FileResponse

from rtcompute import errors
from rtcompute.console import fields, guard
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import buckets as bucket_domain
from rtcompute.domain import operations
from rtcompute.services.capacity import buckets
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = "/console/buckets"
BUCKET_PAGE = PAGE + "/{bucket}"
KeyField = Annotated[str, Form(max_length=1023), fields.Storable]
REFUSED = (
    errors.Invalid,
    errors.Conflict,
    errors.NotFound,
    errors.Forbidden,
    errors.PayloadTooLarge,
)


async def _list(
    request: Request,
    principal: principals.Principal,
    status: int = 200,
    refused: shared.Refusal | None = None,
    values: dict[str, str] | None = None,
    listing: guard.Listing | None = None,
) -> Response:
    """The buckets: all, or (given a `listing` of some) those the caller may see one by one."""
    platform = guard.platform_of(request)
    found = await shared.run(buckets.list_buckets, platform, principal.account_id)
    if listing is not None:
        found = await listing.visible(found, lambda bucket: bucket.arn)
    return shared.render(
        request,
        "capacity/buckets.html",
        "buckets",
        status,
        buckets=found,
        storage_classes=bucket_domain.STORAGE_CLASSES,
        acls=bucket_domain.ACLS,
        standard=bucket_domain.STANDARD,
        public_read=bucket_domain.PUBLIC_READ,
        refused=refused,
        values=values or {},
    )


@router.get(PAGE)
async def buckets_page(
    request: Request,
    listing: guard.Listing = guard.requires(operations.LIST_BUCKETS),
) -> Response:
    return await _list(request, listing.principal, listing=listing)


@router.post(PAGE)
async def create_bucket(
    request: Request,
    name: shared.NameField,
    storage_class: shared.NameField = bucket_domain.STANDARD,
    acl: shared.NameField = bucket_domain.PRIVATE,
    principal: principals.Principal = guard.requires(operations.PUT_BUCKET),
) -> Response:
    platform = guard.platform_of(request)
    context = shared.request_context(request)
    try:
        created = await shared.run(
            lambda: buckets.create_bucket(
                platform, principal, context, name.strip(), storage_class=storage_class, acl=acl
            )
        )
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        values = {"name": name, "storage_class": storage_class, "acl": acl}
        return await _list(request, principal, refused.status, refused, values)
    return shared.see_other(request, shared.path_of(PAGE, created.name), "created")


async def _bucket(
    request: Request,
    principal: principals.Principal,
    name: str,
    status: int = 200,
    refused: shared.Refusal | None = None,
) -> Response:
    platform = guard.platform_of(request)
    found = await shared.run(buckets.describe_bucket, platform, principal.account_id, name)
    objects = await shared.run(buckets.list_objects, platform, principal.account_id, name)
    return shared.render(
        request,
        "capacity/bucket.html",
        "buckets",
        status,
        bucket=found,
        objects=objects,
        acls=bucket_domain.ACLS,
        max_bytes=buckets.size_text(platform.settings.storage.max_object_bytes),
        refused=refused,
    )


@router.get(BUCKET_PAGE)
async def bucket_page(
    request: Request,
    bucket: shared.Name,
    principal: principals.Principal = guard.requires(operations.LIST_OBJECTS),
) -> Response:
    return await _bucket(request, principal, bucket)


@router.post(BUCKET_PAGE + "/acl")
async def set_acl(
    request: Request,
    bucket: shared.Name,
    acl: shared.NameField,
    principal: principals.Principal = guard.requires(operations.PUT_BUCKET_ACL),
) -> Response:
    platform = guard.platform_of(request)
    try:
        await shared.run(
            lambda: buckets.update_bucket(platform, principal.account_id, bucket, acl=acl)
        )
    except errors.Invalid as exc:
        refused = shared.refusal(request, exc)
        return await _bucket(request, principal, bucket, refused.status, refused)
    return shared.see_other(request, shared.path_of(PAGE, bucket), "saved")


@router.post(BUCKET_PAGE + "/delete")
async def delete_bucket(
    request: Request,
    bucket: shared.Name,
    principal: principals.Principal = guard.requires(operations.DELETE_BUCKET),
) -> Response:
    platform = guard.platform_of(request)
    context = shared.request_context(request)
    try:
        await shared.run(buckets.delete_bucket, platform, principal, context, bucket)
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        return await _bucket(request, principal, bucket, refused.status, refused)
    return shared.see_other(request, PAGE, "deleted")


@router.post(BUCKET_PAGE + "/objects")
async def upload(
    request: Request,
    bucket: shared.Name,
    file: Annotated[UploadFile, File()],
    key: KeyField = "",
    principal: principals.Principal = guard.requires(
        operations.PUT_OBJECT, fallbacks={"key": "file"}
    ),
) -> Response:
    """Upload a file (multipart form); the key defaults to the file's name."""
    platform = guard.platform_of(request)
    context = shared.request_context(request)
    name = key.strip() or (file.filename or "")
    await file.seek(0)
    try:
        # the form parser spooled the file to disk as it arrived: passed on as a file
        await shared.run(buckets.put_object, platform, principal, context, bucket, name, file.file)
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        return await _bucket(request, principal, bucket, refused.status, refused)
    return shared.see_other(request, shared.path_of(PAGE, bucket), "uploaded")


@router.post(BUCKET_PAGE + "/objects/delete")
async def delete_object(
    request: Request,
    bucket: shared.Name,
    key: KeyField,
    principal: principals.Principal = guard.requires(operations.DELETE_OBJECT),
) -> Response:
    platform = guard.platform_of(request)
    context = shared.request_context(request)
    try:
        await shared.run(buckets.delete_object, platform, principal, context, bucket, key)
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        return await _bucket(request, principal, bucket, refused.status, refused)
    return shared.see_other(request, shared.path_of(PAGE, bucket), "deleted")


@router.get(BUCKET_PAGE + "/objects/{key:path}")
async def download(
    request: Request,
    bucket: shared.Name,
    key: str,
    principal: principals.Principal = guard.requires(operations.GET_OBJECT),
) -> Response:
    platform = guard.platform_of(request)
    path = await shared.run(buckets.object_file, platform, principal.account_id, bucket, key)
    # an attachment, never rendered here: an uploaded page must not run as the console
    return FileResponse(
        path, filename=key.rsplit("/", 1)[-1], media_type="application/octet-stream"
    )
