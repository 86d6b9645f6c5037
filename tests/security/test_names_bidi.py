"""Red team: bidirectional controls in the names and keys a tenant stores.

`invoice\\u202efdp.exe` displays as `invoiceexe.pdf`: an object key, a display name or an
e-mail address carrying such a control shows other people something it is not. Every one of
the twelve controls is refused wherever a name or key is stored, through the API and the
console, with a 4xx and the field's own stable code; free text (a comment) keeps them, and an
object stored under such a key before this rule can still be read and deleted.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from rtcompute.domain import text
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import buckets as bucket_store
from tests.conftest import PASSWORD
from tests.integration.test_console import signin_via_form, signup_via_form
from tests.integration.test_job_paths import bucket_dir
from tests.integration.test_ram_support import API, Owner, account, expect, ok

pytestmark = pytest.mark.one_database

CONTROLS = sorted(text.BIDI_CONTROLS)
IDS = [f"U+{ord(c):04X}" for c in CONTROLS]
BUCKETS = f"{API}/buckets"


@pytest.fixture
def owner(api: TestClient) -> Owner:
    created = account(api, "acme")
    ok(api.post(BUCKETS, headers=created.headers, json={"name": "files"}), 201)
    return created


def test_the_twelve_controls() -> None:
    named = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
    assert {ord(c) for c in text.BIDI_CONTROLS} == named
    assert text.bidi_control("report\u202efdp.exe") == "\u202e"
    assert text.bidi_control("plain ascii") is None
    assert text.bidi_control("账号 ✓ مرحبا") is None  # right-to-left letters themselves are fine


@pytest.mark.parametrize("control", CONTROLS, ids=IDS)
def test_object_keys(api: TestClient, owner: Owner, control: str) -> None:
    key = f"invoice{control}fdp.exe"
    refused = api.put(f"{BUCKETS}/files/objects/{key}", headers=owner.headers, content=b"MZ")
    body = expect(refused, 400, "InvalidObjectName")
    assert f"U+{ord(control):04X}" in body["message"]
    assert ok(api.get(f"{BUCKETS}/files/objects", headers=owner.headers)) == []


def test_a_key_stored_before_the_rule_can_still_be_read_and_deleted(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    key = "old\u202egpj.exe"
    bucket_store.write_object(bucket_dir(platform, "files"), key, b"old")
    path = f"{BUCKETS}/files/objects/{key}"
    assert api.get(path, headers=owner.headers).content == b"old"
    ok(api.delete(path, headers=owner.headers), 204)


@pytest.mark.parametrize("control", CONTROLS, ids=IDS)
def test_display_names_and_emails(api: TestClient, owner: Owner, control: str) -> None:
    name = f"Support{control}"
    signup = {"alias": "newco", "password": PASSWORD}
    expect(
        api.post(f"{API}/signup", json={**signup, "display_name": name}), 400, "InvalidDisplayName"
    )
    expect(
        api.post(f"{API}/signup", json={**signup, "email": f"ops@{control}acme.example"}),
        400,
        "InvalidEmail",
    )
    h = owner.headers
    user = {"name": "dev", "display_name": name}
    expect(api.post(f"{API}/ram/users", headers=h, json=user), 400, "InvalidParameter")
    group = {"name": "devs", "display_name": name}
    expect(api.post(f"{API}/ram/groups", headers=h, json=group), 400, "InvalidParameter")
    ok(api.post(f"{API}/ram/users", headers=h, json={"name": "dev"}), 201)
    renamed = api.patch(f"{API}/ram/users/dev", headers=h, json={"display_name": name})
    expect(renamed, 400, "InvalidParameter")
    ok(api.post(f"{API}/ram/groups", headers=h, json={"name": "devs"}), 201)
    regrouped = api.patch(f"{API}/ram/groups/devs", headers=h, json={"display_name": name})
    expect(regrouped, 400, "InvalidParameter")


def test_free_text_keeps_them(api: TestClient, owner: Owner) -> None:
    comment = "\u202bنص عربي\u202c with an embedded quote"
    user = {"name": "dev", "display_name": "Dev", "comment": comment}
    created = ok(api.post(f"{API}/ram/users", headers=owner.headers, json=user), 201)
    assert created["comment"] == comment


def test_the_console_refuses_them_with_a_page(api: TestClient) -> None:
    signup_via_form(api, "acme")
    token = signin_via_form(api, "acme")
    made = api.post(
        "/console/buckets", data={"csrf_token": token, "name": "files"}, follow_redirects=False
    )
    assert made.status_code == 303, made.text[:300]
    uploaded = api.post(
        "/console/buckets/files/objects",
        data={"csrf_token": token},
        files={"file": ("invoice\u202efdp.exe", b"MZ", "application/octet-stream")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 400
    assert uploaded.headers["content-type"].startswith("text/html")
    assert "InvalidObjectName" in uploaded.text
    assert "invoice" not in api.get("/console/buckets/files").text
