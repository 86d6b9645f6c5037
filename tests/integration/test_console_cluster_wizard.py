"""The cluster wizard over the real app and database (both): no dead ends.

Step 1 says what the account lacks for a cluster of the chosen order (the service role and
its exclusive-mode actions, a bucket a cluster can use, a zone with room, a network, a
subnet that can hold the order), each with a link to where it is fixed; "Next" is disabled
and the server refuses until nothing is missing. Step 3 offers only the zones and subnets
that can hold the order (the others disabled, with the reason), and the server refuses a
forged post of one of them with the rule's own sentence. The API answers the same question
(`GET /api/v1/networks/<network>/placement?order_id=`).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from rtcompute.domain import ram
from rtcompute.services.kernel import platform as platform_module
from tests.integration.test_console import signin_via_form
from tests.integration.test_console_capacity import EXCLUSIVE, ZH, add_zone, post, text
from tests.integration.test_ram_support import (
    Owner,
    account,
    authorize_service_role,
    expect,
    ok,
    paid_order,
)

API = "/api/v1"
PAGE = "/console/exclusive-clusters/new"
MISSING = re.compile(r'data-missing="([^"]+)"')


@pytest.fixture
def owner(api: TestClient) -> Owner:
    return account(api, "acme")


@pytest.fixture
def token(api: TestClient, owner: Owner) -> str:
    return signin_via_form(api, owner.alias)


def missing(page: str) -> list[str]:
    return MISSING.findall(page)


def next_button(page: str) -> str:
    found = re.search(r'<button type="submit" name="go" value="next"[^>]*>', page)
    assert found is not None, page[:2000]
    return found.group(0)


def step(api: TestClient, token: str, number: int, **values: Any) -> Any:
    return post(api, PAGE, token, step=str(number), go="next", **values)


def option(page: str, kind: str, name: str) -> str:
    """The whole <option> of a zone, subnet or bucket, by its data attribute."""
    found = re.search(rf'<option [^>]*data-{kind}="{re.escape(name)}"[^>]*>[^<]*</option>', page)
    assert found is not None, f"no {kind} {name} offered"
    return found.group(0)


def subnet(api: TestClient, token: str, name: str, cidr: str, zone: str) -> None:
    made = post(api, "/console/networks/vpc1/subnets", token, name=name, cidr=cidr, zone=zone)
    assert made.status_code == 303, made.text


def test_step_one_names_each_missing_prerequisite_with_its_fix_until_none_is_left(
    api: TestClient, owner: Owner, token: str, platform: platform_module.Platform
) -> None:
    big = paid_order(api, owner, **{**EXCLUSIVE, "slave_count": 4})  # 5 nodes
    first = text(api.get(f"{PAGE}?order={big['id']}"))
    assert missing(first) == [
        "ServiceRoleNotAuthorized",
        "ClusterPrerequisite.Bucket",
        "ClusterPrerequisite.Zone",
        "ClusterPrerequisite.Network",
    ]
    assert 'href="/console/ram/service-role"' in first
    assert 'href="/console/buckets"' in first and 'href="/console/networks"' in first
    assert "disabled" in next_button(first) and "data-next-reason" in first
    # no internals in what the user reads
    assert "/api/v1" not in first and "rtc ram" not in first
    # the server refuses too, and keeps the user on step 1
    refused = step(api, token, 1, order_id=big["id"])
    assert refused.status_code == 400 and 'data-step="1"' in refused.text
    assert "Complete what is missing below" in text(refused)
    # a forged later step is sent back to step 1 as well
    forged = step(api, token, 3, order_id=big["id"], name="stream1", bucket="b", network="n")
    assert forged.status_code == 400 and 'data-step="1"' in forged.text

    authorize_service_role(api, owner)
    assert "ServiceRoleNotAuthorized" not in missing(text(api.get(f"{PAGE}?order={big['id']}")))
    post(api, "/console/buckets", token, name="open-bucket", acl="public-read")
    post(api, "/console/buckets", token, name="cold-bucket", storage_class="infrequent")
    page = text(api.get(f"{PAGE}?order={big['id']}"))
    assert "ClusterPrerequisite.Bucket" in missing(page)  # neither can hold UDF packages
    post(api, "/console/buckets", token, name="udf-bucket")
    add_zone(platform, "zone-small", **{"4c16g": 2})  # too small for 5 nodes
    page = text(api.get(f"{PAGE}?order={big['id']}"))
    assert missing(page) == ["ClusterPrerequisite.Zone", "ClusterPrerequisite.Network"]
    add_zone(platform, "zone-a", **{"4c16g": 10})
    assert post(api, "/console/networks", token, name="vpc1", cidr="10.0.0.0/16").status_code == 303
    subnet(api, token, "tiny", "10.0.2.0/29", "zone-a")  # 4 usable addresses for 5 nodes
    subnet(api, token, "small-zone", "10.0.3.0/24", "zone-small")  # addresses, no zone room
    page = text(api.get(f"{PAGE}?order={big['id']}"))
    assert missing(page) == ["ClusterPrerequisite.Subnet"]
    assert "5 free addresses" in page and "zone-a" in page
    assert 'href="/console/networks"' in page and "disabled" in next_button(page)

    # an order of 3 nodes fits the tiny subnet: the check follows the order chosen
    small = paid_order(api, owner, **EXCLUSIVE)
    fits = text(api.get(f"{PAGE}?order_id={small['id']}"))
    assert missing(fits) == [] and 'data-checks="ready"' in fits
    assert "disabled" not in next_button(fits)

    subnet(api, token, "sw1", "10.0.1.0/24", "zone-a")
    ready = text(api.get(f"{PAGE}?order={big['id']}"))
    assert missing(ready) == [] and "disabled" not in next_button(ready)
    second = step(api, token, 1, order_id=big["id"])
    assert second.status_code == 200 and 'data-step="2"' in second.text


def test_a_role_without_the_exclusive_actions_is_named_at_step_one(
    api: TestClient, owner: Owner, token: str, platform: platform_module.Platform
) -> None:
    authorize_service_role(api, owner)
    narrow = {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": "oss:*", "Resource": "*"}],
    }
    versions = f"{API}/ram/policies/Custom/{ram.SERVICE_ROLE_POLICY}/versions"
    body = {"document": json.dumps(narrow), "set_as_default": True}
    ok(api.post(versions, headers=owner.headers, json=body), 201)
    order = paid_order(api, owner, **EXCLUSIVE)
    page = text(api.get(f"{PAGE}?order={order['id']}"))
    assert "ServiceRoleMissingAction" in missing(page)
    assert "vpc:" in page and 'href="/console/ram/service-role"' in page
    zh = text(api.get(f"{PAGE}?order={order['id']}", headers=ZH))
    assert "缺少独享模式集群所需的权限" in zh


def test_step_one_speaks_chinese(api: TestClient, owner: Owner, token: str) -> None:
    order = paid_order(api, owner, **EXCLUSIVE)
    page = text(api.get(f"{PAGE}?order={order['id']}", headers=ZH))
    assert "开始之前" in page
    assert "服务角色 StreamDefaultRole 尚未授权" in page
    assert "没有集群可用的存储空间" in page and "还没有专有网络" in page
    assert "上述条件全部满足后才能进入下一步" in page
    assert "not authorized" not in page and "No bucket" not in page
    # the step bar: each number once, in its own element
    bar = re.search(r'<ol class="wizard-steps".*?</ol>', page, re.S)
    assert bar is not None
    assert re.findall(r'wizard-step-number" aria-hidden="true">(\d)<', bar.group(0)) == list("1234")
    assert "1." not in bar.group(0)
    assert '<link rel="stylesheet" href="/static/wizard.css">' in page
    assert api.get("/static/wizard.css").status_code == 200


def test_step_three_offers_only_what_holds_the_order_and_refuses_a_forged_choice(
    api: TestClient, owner: Owner, token: str, platform: platform_module.Platform
) -> None:
    authorize_service_role(api, owner)
    add_zone(platform, "zone-a", **{"4c16g": 10})
    add_zone(platform, "zone-b", **{"4c16g": 1})
    assert post(api, "/console/networks", token, name="vpc1", cidr="10.0.0.0/16").status_code == 303
    subnet(api, token, "sw1", "10.0.1.0/24", "zone-a")
    subnet(api, token, "tiny", "10.0.2.0/29", "zone-a")  # 4 usable
    subnet(api, token, "swb", "10.0.3.0/24", "zone-b")  # addresses, but its zone is full
    post(api, "/console/buckets", token, name="udf-bucket")
    post(api, "/console/buckets", token, name="open-bucket", acl="public-read")
    big = paid_order(api, owner, **{**EXCLUSIVE, "slave_count": 4})  # 5 nodes
    where = {"order_id": big["id"], "name": "stream1", "network": "vpc1"}
    third = text(post(api, PAGE, token, step="3", go="refresh", **where))
    assert 'data-step="3"' in third
    assert "disabled" not in option(third, "subnet", "sw1")
    tiny = option(third, "subnet", "tiny")
    assert "disabled" in tiny and "4 free addresses · too few: 5 needed" in tiny
    swb = option(third, "subnet", "swb")
    assert "disabled" in swb and "its zone has room for 1 \u00d7 4c16g, 5 needed" in swb
    zone_b = option(third, "zone", "zone-b")
    assert "disabled" in zone_b and "not enough room: 1 \u00d7 4c16g left, 5 needed" in zone_b
    assert "disabled" not in option(third, "zone", "zone-a")
    assert "disabled" in option(third, "bucket", "open-bucket")
    assert "This order needs 5 addresses" in third
    fragment = text(api.get(f"{PAGE}/placement?network=vpc1&order_id={big['id']}"))
    assert "disabled" in option(fragment, "subnet", "tiny")

    # forged posts of what is not offered: refused on step 3 with the rule's sentence
    forged_subnet = step(api, token, 3, bucket="udf-bucket", zone="zone-a", subnet="tiny", **where)
    assert forged_subnet.status_code == 400 and 'data-step="3"' in forged_subnet.text
    assert "subnet tiny (10.0.2.0/29) has 4 free addresses but 5 are needed" in text(forged_subnet)
    forged_zone = step(api, token, 3, bucket="udf-bucket", zone="zone-b", subnet="swb", **where)
    assert forged_zone.status_code == 400
    assert "zone zone-b can place 1 more 4c16g nodes but 5 are needed" in text(forged_zone)
    wrong_zone = step(api, token, 3, bucket="udf-bucket", zone="zone-a", subnet="swb", **where)
    assert "Subnet swb lies in zone zone-b, not zone-a." in text(wrong_zone)
    public = step(api, token, 3, bucket="open-bucket", zone="zone-a", subnet="sw1", **where)
    assert "bucket open-bucket is public-read" in text(public)
    confirm = step(api, token, 3, bucket="udf-bucket", zone="zone-a", subnet="sw1", **where)
    assert confirm.status_code == 200 and 'data-step="4"' in confirm.text
    # the service, on a forged "Create", by the same rule and words
    fields = {**where, "bucket": "udf-bucket", "zone": "zone-a", "subnet": "tiny"}
    created = post(api, "/console/exclusive-clusters", token, **fields)
    assert created.status_code == 409 and 'data-step="3"' in created.text
    assert "subnet tiny (10.0.2.0/29) has 4 free addresses but 5 are needed" in text(created)
    made = post(api, "/console/exclusive-clusters", token, **{**fields, "subnet": "sw1"})
    assert made.headers["location"] == "/console/clusters/stream1?done=starting"


def test_step_three_speaks_chinese(
    api: TestClient, owner: Owner, token: str, platform: platform_module.Platform
) -> None:
    authorize_service_role(api, owner)
    add_zone(platform, "zone-a", **{"4c16g": 10})
    add_zone(platform, "zone-b", **{"4c16g": 1})
    assert post(api, "/console/networks", token, name="vpc1", cidr="10.0.0.0/16").status_code == 303
    subnet(api, token, "sw1", "10.0.1.0/24", "zone-a")
    subnet(api, token, "tiny", "10.0.2.0/29", "zone-a")
    post(api, "/console/buckets", token, name="udf-bucket")
    big = paid_order(api, owner, **{**EXCLUSIVE, "slave_count": 4})
    where = {"order_id": big["id"], "name": "stream1", "network": "vpc1", "step": "3"}
    page = text(api.post(PAGE, data={"csrf_token": token, "go": "refresh", **where}, headers=ZH))
    assert "地址不足：需要 5 个" in option(page, "subnet", "tiny")
    assert "余量不足：剩余 1 \u00d7 4c16g，需要 5 个" in option(page, "zone", "zone-b")
    assert "标准存储 · 私有" in option(page, "bucket", "udf-bucket")
    assert "该订单需要 5 个地址" in page
    refused = api.post(
        PAGE,
        data={
            "csrf_token": token,
            "go": "next",
            "bucket": "udf-bucket",
            "zone": "zone-a",
            "subnet": "tiny",
            **where,
        },
        headers=ZH,
    )
    assert refused.status_code == 400 and "交换机 tiny（10.0.2.0/29）只有 4 个空闲地址" in text(
        refused
    )


def test_the_api_answers_which_zones_and_subnets_hold_an_order(
    api: TestClient, owner: Owner, token: str, platform: platform_module.Platform
) -> None:
    add_zone(platform, "zone-a", **{"4c16g": 10})
    add_zone(platform, "zone-b", **{"4c16g": 1})
    assert post(api, "/console/networks", token, name="vpc1", cidr="10.0.0.0/16").status_code == 303
    subnet(api, token, "sw1", "10.0.1.0/24", "zone-a")
    subnet(api, token, "tiny", "10.0.2.0/29", "zone-a")
    big = paid_order(api, owner, **{**EXCLUSIVE, "slave_count": 4})
    url = f"{API}/networks/vpc1/placement?order_id={big['id']}"
    answer = ok(api.get(url, headers=owner.headers))
    assert answer["addresses_needed"] == 5 and answer["nodes_needed"] == {"4c16g": 5}
    zones_fit = {z["name"]: (z["fits"], z["code"]) for z in answer["zones"]}
    assert zones_fit == {"zone-a": (True, None), "zone-b": (False, "ZoneCapacityExceeded")}
    subnets_fit = {s["name"]: (s["fits"], s["code"]) for s in answer["subnets"]}
    assert subnets_fit == {"sw1": (True, None), "tiny": (False, "SubnetAddressesExhausted")}
    tiny = next(s for s in answer["subnets"] if s["name"] == "tiny")
    assert "has 4 free addresses but 5 are needed" in tiny["reason"]
    zh = ok(api.get(url, headers={**owner.headers, "Accept-Language": "zh-CN"}))
    assert "只有 4 个空闲地址" in next(s for s in zh["subnets"] if s["name"] == "tiny")["reason"]
    # bad input: a clear error with its code, never a 500
    expect(api.get(f"{API}/networks/vpc1/placement?order_id=999999", headers=owner.headers), 404)
    expect(
        api.get(f"{API}/networks/nope/placement?order_id={big['id']}", headers=owner.headers),
        404,
        "NetworkNotFound",
    )
    shared = paid_order(api, owner)
    expect(
        api.get(f"{API}/networks/vpc1/placement?order_id={shared['id']}", headers=owner.headers),
        400,
        "InvalidParameter.Order",
    )
    for missing in ("", "?order_id="):  # says what is missing, not "order  does not exist"
        body = expect(
            api.get(f"{API}/networks/vpc1/placement{missing}", headers=owner.headers),
            400,
            "InvalidParameter.OrderId",
        )
        assert "order_id is required" in body["message"]
