"""Buckets and objects (the guide's OSS): actions and resources carry the cloud's names
(`oss:PutObject`, `acs:oss:*:<account>:<bucket>/<key>`) so the guide's policies work.

An upload's body is the object itself, up to `storage.max_object_bytes` (the request
middleware lets this one route past the API's ordinary body limit, for an authenticated
caller only, and passes its body on as it arrives). The route spools it: the first MiB in
memory, the rest in a temporary file, so no upload is ever held in memory whole.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from typing import Annotated, BinaryIO, cast

import anyio
from fastapi import APIRouter, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from rtcompute.api import deps
from rtcompute.api.schemas import buckets as schemas
from rtcompute.domain import operations
from rtcompute.services.capacity import buckets
from rtcompute.services.kernel import principals

router = APIRouter(
    prefix=f"{deps.API_PREFIX}/buckets", tags=["buckets"], responses=deps.ERROR_RESPONSES
)
BUCKETS = "acs:oss:*:{account_id}:*"
BUCKET = "acs:oss:*:{account_id}:{bucket}"
OBJECT = "acs:oss:*:{account_id}:{bucket}/{key}"
CHUNK = 256 * 1024
SPOOL_IN_MEMORY = 1024 * 1024  # Starlette's own threshold for multipart uploads


def bucket_out(bucket: buckets.BucketView) -> schemas.Bucket:
    return schemas.Bucket(
        name=bucket.name,
        region=bucket.region,
        storage_class=bucket.storage_class,
        acl=bucket.acl,
        created_by=bucket.created_by,
        created_at=bucket.created_at,
        arn=bucket.arn,
    )


def object_out(stored: buckets.StoredObject) -> schemas.StoredObject:
    return schemas.StoredObject(key=stored.key, size=stored.size, modified=stored.modified)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.Bucket)
async def create_bucket(
    platform: deps.PlatformDep,
    body: schemas.BucketCreate,
    context: deps.ContextDep,
    principal: principals.Principal = deps.requires(operations.PUT_BUCKET),
) -> schemas.Bucket:
    """Create a bucket; the name is unique across the installation."""
    bucket = await anyio.to_thread.run_sync(
        lambda: buckets.create_bucket(
            platform,
            principal,
            context,
            body.name,
            storage_class=body.storage_class,
            acl=body.acl,
        )
    )
    return bucket_out(bucket)


@router.get("", response_model=list[schemas.Bucket])
async def list_buckets(
    platform: deps.PlatformDep,
    listing: deps.Listing = deps.requires(operations.LIST_BUCKETS),
) -> list[schemas.Bucket]:
    found = await anyio.to_thread.run_sync(
        buckets.list_buckets, platform, listing.principal.account_id
    )
    shown = await listing.visible(found, lambda bucket: bucket.arn)
    return [bucket_out(bucket) for bucket in shown]


@router.get("/{bucket}", response_model=schemas.Bucket)
async def get_bucket(
    platform: deps.PlatformDep,
    bucket: str,
    principal: principals.Principal = deps.requires(operations.GET_BUCKET_INFO),
) -> schemas.Bucket:
    found = await anyio.to_thread.run_sync(
        buckets.describe_bucket, platform, principal.account_id, bucket
    )
    return bucket_out(found)


@router.patch("/{bucket}", response_model=schemas.Bucket)
async def update_bucket(
    platform: deps.PlatformDep,
    bucket: str,
    body: schemas.BucketUpdate,
    principal: principals.Principal = deps.requires(operations.PUT_BUCKET_ACL),
) -> schemas.Bucket:
    """Change the ACL or the storage class."""
    updated = await anyio.to_thread.run_sync(
        lambda: buckets.update_bucket(
            platform,
            principal.account_id,
            bucket,
            acl=body.acl,
            storage_class=body.storage_class,
        )
    )
    return bucket_out(updated)


@router.delete("/{bucket}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_bucket(
    platform: deps.PlatformDep,
    bucket: str,
    context: deps.ContextDep,
    principal: principals.Principal = deps.requires(operations.DELETE_BUCKET),
) -> Response:
    """Delete an empty bucket that no cluster uses."""
    await anyio.to_thread.run_sync(buckets.delete_bucket, platform, principal, context, bucket)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{bucket}/objects", response_model=list[schemas.StoredObject])
async def list_objects(
    platform: deps.PlatformDep,
    bucket: str,
    prefix: Annotated[str, Query(max_length=1023)] = "",
    principal: principals.Principal = deps.requires(operations.LIST_OBJECTS),
) -> list[schemas.StoredObject]:
    """The bucket's objects (key, size, modified), optionally those under a prefix."""
    found = await anyio.to_thread.run_sync(
        buckets.list_objects, platform, principal.account_id, bucket, prefix
    )
    return [object_out(item) for item in found]


@router.put(
    "/{bucket}/objects/{key:path}",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.StoredObject,
)
async def put_object(
    platform: deps.PlatformDep,
    bucket: str,
    key: str,
    request: Request,
    context: deps.ContextDep,
    principal: principals.Principal = deps.requires(operations.PUT_OBJECT),
) -> schemas.StoredObject:
    """Upload an object: the request body is its content; an existing key is replaced."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        # an UploadFile writes in a worker thread once the spool has rolled over to disk
        upload = UploadFile(cast(BinaryIO, spool))
        async for chunk in request.stream():
            await upload.write(chunk)
        await upload.seek(0)
        stored = await anyio.to_thread.run_sync(
            buckets.put_object, platform, principal, context, bucket, key, upload.file
        )
    return object_out(stored)


@router.get(
    "/{bucket}/objects/{key:path}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def get_object(
    platform: deps.PlatformDep,
    bucket: str,
    key: str,
    principal: principals.Principal = deps.requires(operations.GET_OBJECT),
) -> StreamingResponse:
    """Download an object's content."""
    path = await anyio.to_thread.run_sync(
        buckets.object_file, platform, principal.account_id, bucket, key
    )
    try:
        # opened now: a delete after this point still lets the download finish
        handle = await anyio.to_thread.run_sync(lambda: path.open("rb"))
    except (FileNotFoundError, IsADirectoryError):
        raise buckets.no_such_key(key) from None
    size = os.fstat(handle.fileno()).st_size
    return StreamingResponse(
        _chunks(handle),
        media_type="application/octet-stream",
        headers={"content-length": str(size)},
    )


async def _chunks(handle: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(handle.read, CHUNK):
            yield chunk
    finally:
        handle.close()


@router.delete("/{bucket}/objects/{key:path}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_object(
    platform: deps.PlatformDep,
    bucket: str,
    key: str,
    context: deps.ContextDep,
    principal: principals.Principal = deps.requires(operations.DELETE_OBJECT),
) -> Response:
    await anyio.to_thread.run_sync(buckets.delete_object, platform, principal, context, bucket, key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
