"""Hosts: the operator's join tokens, listing, drain and removal; the agents' own calls.

The operator's routes declare their operation like any other. The agents' routes
(`/agent/...`) take no bearer token: an agent joins with a join token, then signs every
call with its host's key (`deps.agent_call`), and the platform signs its answers, so the
agent knows the answer is the platform's and meant for that very request.
"""

from __future__ import annotations

import json
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request, Response, status

from rtcompute.api import deps
from rtcompute.api.schemas import hosts as schemas
from rtcompute.domain import operations, signatures
from rtcompute.services.capacity import hosts
from rtcompute.services.kernel import principals

router = APIRouter(prefix=deps.API_PREFIX, tags=["hosts"], responses=deps.ERROR_RESPONSES)
ZoneQuery = Annotated[str | None, Query(max_length=64)]


def host_out(view: hosts.HostView) -> schemas.Host:
    return schemas.Host.model_validate(view, from_attributes=True)


@router.get("/hosts", response_model=list[schemas.Host])
async def list_hosts(
    platform: deps.PlatformDep,
    zone: ZoneQuery = None,
    principal: principals.Principal = deps.requires(operations.LIST_HOSTS),
) -> list[schemas.Host]:
    """Joined hosts, per zone: state, what each serves, the last heartbeat (operator)."""
    found = await anyio.to_thread.run_sync(lambda: hosts.list_hosts(platform, zone=zone))
    return [host_out(view) for view in found]


@router.get("/hosts/{host}", response_model=schemas.Host)
async def read_host(
    platform: deps.PlatformDep,
    host: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_HOST),
) -> schemas.Host:
    return host_out(await anyio.to_thread.run_sync(lambda: hosts.read_host(platform, host)))


@router.patch("/hosts/{host}", response_model=schemas.Host)
async def update_host(
    platform: deps.PlatformDep,
    host: str,
    body: schemas.HostUpdate,
    principal: principals.Principal = deps.requires(operations.UPDATE_HOST),
) -> schemas.Host:
    """Drain a host (no new node claims it) or put it back in service (operator)."""
    view = await anyio.to_thread.run_sync(lambda: hosts.set_draining(platform, host, body.draining))
    return host_out(view)


@router.delete("/hosts/{host}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_host(
    platform: deps.PlatformDep,
    host: str,
    principal: principals.Principal = deps.requires(operations.DELETE_HOST),
) -> Response:
    """Forget a host; its agent's credentials stop working at once (operator)."""
    await anyio.to_thread.run_sync(lambda: hosts.remove_host(platform, host))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/hosts/join-tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.JoinTokenCreated,
)
async def create_join_token(
    platform: deps.PlatformDep,
    body: schemas.JoinTokenCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_HOST_JOIN_TOKEN),
) -> schemas.JoinTokenCreated:
    """A single-use, expiring token for one host to join a hosts zone; shown only here."""
    created = await anyio.to_thread.run_sync(
        lambda: hosts.create_join_token(
            platform, body.zone, ttl_seconds=body.ttl_seconds, created_by=principal.display
        )
    )
    return schemas.JoinTokenCreated.model_validate(created, from_attributes=True)


# ---------------------------------------------------------------------------- agents


@router.get(
    "/agent/join-probes/{token_id}",
    response_model=schemas.JoinProbe,
    dependencies=[deps.public("rtc:JoinHost")],
)
async def join_probe(platform: deps.PlatformDep, token_id: str) -> schemas.JoinProbe:
    """Where a joining agent must read its token's probe object (under the storage root)."""
    path = await anyio.to_thread.run_sync(lambda: hosts.probe_of(platform, token_id))
    return schemas.JoinProbe(path=path)


@router.post(
    "/agent/join",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.AgentJoined,
    dependencies=[deps.public("rtc:JoinHost")],
)
async def join(
    request: Request, platform: deps.PlatformDep, body: schemas.AgentJoin
) -> schemas.AgentJoined:
    """A node agent joins with a join token, its public key and the storage probe."""
    deps.audit_claim(request, account_id=None, claimed=body.name[:64], resource=body.address)
    joined = await anyio.to_thread.run_sync(
        lambda: hosts.join(platform, hosts.JoinRequest(**body.model_dump()))
    )
    return schemas.AgentJoined.model_validate(joined, from_attributes=True)


def signed(request: Request, platform: deps.PlatformDep, payload: dict[str, object]) -> Response:
    """The answer, signed with the platform's key over its status, the request's nonce and
    its body."""
    body = json.dumps(payload, default=str).encode()
    signature = signatures.sign_answer(
        hosts.platform_keys(platform), status.HTTP_200_OK, request.state.agent_nonce, body
    )
    return Response(
        body,
        media_type="application/json",
        headers={signatures.SIGNATURE_HEADER: signature},
    )


@router.post(
    "/agent/hosts/{host_id}/heartbeat",
    response_model=schemas.HeartbeatAnswer,
    dependencies=[deps.agent_call("rtc:HostHeartbeat", audited=False)],
)
async def heartbeat(
    request: Request, platform: deps.PlatformDep, host_id: str, body: schemas.Heartbeat
) -> Response:
    """The agent is alive; what runs on its host. The answer: the host's state."""
    beat = await anyio.to_thread.run_sync(
        lambda: hosts.heartbeat(platform, int(host_id), body.report)
    )
    answer = schemas.HeartbeatAnswer.model_validate(beat, from_attributes=True)
    return signed(request, platform, answer.model_dump())
