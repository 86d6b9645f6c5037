"""Red team: what could anyone on the hosts' network do to a node agent?

The agent (runtime/hostagent.py) serves the platform's calls on its host's address, where
tenants' jobs and other machines can reach it. Every call must carry the platform's
signature: unsigned, forged, replayed, stale, re-targeted or tampered calls are refused, and
an answer is only signed for a call that verified.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtcompute.domain import signatures
from rtcompute.runtime import hostagent

NOW = 2_000_000_000.0


@pytest.fixture
def agent(tmp_path: Path) -> tuple[hostagent.Agent, signatures.KeyPair]:
    platform = signatures.KeyPair.generate()
    state = hostagent.State(tmp_path / "agent")
    identity = hostagent.Identity(
        host_id=7,
        name="h7",
        zone="z",
        server="http://127.0.0.1:9",
        platform_public_key=platform.public,
        address="127.0.0.1",
        port=0,
        heartbeat_seconds=1.0,
    )
    return hostagent.Agent(state, identity, clock=lambda: NOW), platform


def signed(
    keys: signatures.KeyPair, target: str = "/v1/status", **change: object
) -> dict[str, str]:
    headers = signatures.sign_request(keys, "platform", "GET", target, b"", now=NOW)
    headers.update({k: str(v) for k, v in change.items()})
    return headers


def test_only_the_platforms_signature_is_answered(
    agent: tuple[hostagent.Agent, signatures.KeyPair],
) -> None:
    me, platform = agent
    status, body, nonce = me.handle("GET", "/v1/status", signed(platform), b"")
    assert status == 200 and json.loads(body)["host"] == "h7" and nonce
    stranger = signatures.KeyPair.generate()
    refusals = [
        {},  # nothing
        signed(stranger),  # another key
        signed(platform, **{signatures.KEY_HEADER: "host-7"}),  # not the platform's key id
        signed(platform, **{signatures.DATE_HEADER: int(NOW) - 3600}),  # re-dated
        signed(platform, **{signatures.SIGNATURE_HEADER: "A" * 88}),  # garbage
        signed(platform, **{signatures.DATE_HEADER: "9" * 40}),  # absurd time
        signatures.sign_request(platform, "platform", "GET", "/v1/status", b"", now=NOW - 120),
    ]
    for headers in refusals:
        status, body, nonce = me.handle("GET", "/v1/status", headers, b"")
        assert status == 401 and nonce == "", (headers, body)


def test_a_call_is_accepted_once_and_only_for_what_was_signed(
    agent: tuple[hostagent.Agent, signatures.KeyPair],
) -> None:
    me, platform = agent
    headers = signed(platform)
    assert me.handle("GET", "/v1/status", headers, b"")[0] == 200
    assert me.handle("GET", "/v1/status", headers, b"")[0] == 401  # replayed
    moved = signed(platform)
    assert me.handle("GET", "/v1/other", moved, b"")[0] == 401  # re-targeted
    tampered = signed(platform)
    assert me.handle("GET", "/v1/status", tampered, b"x")[0] == 401  # a body added
    posted = signed(platform)
    assert me.handle("POST", "/v1/status", posted, b"")[0] == 401  # another method
