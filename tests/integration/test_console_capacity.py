"""The capacity console over the real app and database (both): the guide's 管理控制台.

Every page renders in English and Chinese; the purchase forms place orders and show each
broken rule's message, live; "Pay" pays; the red badge counts paid unused orders; projects
and clusters are created through their forms (the cluster in the guide's four steps, each
refusal on its step); networks, subnets, buckets and objects through theirs; every write
needs the CSRF token; a RAM user with only `stream:List*` sees the lists and is refused
every creation with a clear message. No reconciler runs here: clusters stay "starting",
and what needs a running cluster is refused with the service's message (the browser test
drives a real one).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from rtcompute.console import routes as console_routes
from rtcompute.services.capacity import zones
from rtcompute.services.kernel import platform as platform_module
from tests.conftest import PASSWORD
from tests.integration.test_console import htmx, signin_via_form, trail_of
from tests.integration.test_ram_support import (
    Owner,
    account,
    allow,
    authorize_service_role,
    cluster_running,
    create_policy,
    ok,
    paid_order,
    shared_project,
)

API = "/api/v1"
ZH = {"Accept-Language": "zh-CN"}
EXCLUSIVE = {
    "mode": "exclusive",
    "master_type": "4c16g",
    "master_count": 1,
    "slave_type": "4c16g",
    "slave_count": 2,
    "months": 1,
}
ORDER_LINK = re.compile(r"/console/orders/(\d+)")


def post(api: TestClient, path: str, token: str, **data: Any) -> Any:
    """A plain form post (no htmx), as a browser without JavaScript sends it."""
    return api.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def text(response: Any) -> str:
    return html.unescape(response.text)


@pytest.fixture
def owner(api: TestClient) -> Owner:
    return account(api, "acme")


@pytest.fixture
def token(api: TestClient, owner: Owner) -> str:
    """acme signed in through the console; the page's CSRF token."""
    return signin_via_form(api, owner.alias)


def add_zone(platform: platform_module.Platform, name: str = "zone-a", **capacity: int) -> None:
    zones.create_zone(platform, name, capacity or {"4c16g": 10})


def placed(api: TestClient, token: str, platform: platform_module.Platform) -> None:
    """A zone (operator), then a network, a subnet and a bucket made through the console."""
    add_zone(platform)
    assert post(api, "/console/networks", token, name="vpc1", cidr="10.0.0.0/16").status_code == 303
    made = post(
        api, "/console/networks/vpc1/subnets", token, name="sw1", cidr="10.0.1.0/24", zone="zone-a"
    )
    assert made.status_code == 303, made.text
    assert post(api, "/console/buckets", token, name="udf-bucket").status_code == 303


def seed_everything(api: TestClient, owner: Owner, token: str, platform: Any) -> str:
    """A project, a starting cluster and its placement; returns the cluster's order id."""
    authorize_service_role(api, owner)
    shared_project(api, owner, "analytics")
    placed(api, token, platform)
    order = paid_order(api, owner, **EXCLUSIVE)
    body = {
        "order_id": order["id"],
        "name": "stream1",
        "bucket": "udf-bucket",
        "network": "vpc1",
        "subnet": "sw1",
        "zone": "zone-a",
    }
    ok(api.post(f"{API}/clusters", headers=owner.headers, json=body), 201)
    return str(order["id"])


# each page, with a text it shows in English and the Chinese of that text
PAGES = {
    "/console": ("Realtime Compute console", "实时计算管理控制台"),
    "/console/orders": ("Buy shared CU", "购买共享模式 CU"),
    "/console/shared-projects": ("New project", "新建项目"),
    "/console/exclusive-clusters": ("New cluster", "新建集群"),
    "/console/kubernetes-clusters": ("No Kubernetes clusters", "暂无 Kubernetes 集群"),
    "/console/purchase/shared": ("Buy shared CU", "购买共享模式 CU"),
    "/console/purchase/exclusive": ("Sizing calculator", "规格计算器"),
    "/console/shared-projects/new": ("Create project", "创建项目"),
    "/console/exclusive-clusters/new": ("Choose the order", "选择订单"),
    "/console/projects/analytics": ("Scale out / scale in", "扩容 / 缩容"),
    "/console/clusters/stream1": ("Components", "组件"),
    "/console/networks": ("Create network", "创建专有网络"),
    "/console/networks/vpc1": ("Create subnet", "创建交换机"),
    "/console/buckets": ("Create bucket", "创建存储空间"),
    "/console/buckets/udf-bucket": ("Upload", "上传"),
}


def test_every_capacity_page_renders_in_both_languages(
    api: TestClient, owner: Owner, token: str, platform: platform_module.Platform
) -> None:
    seed_everything(api, owner, token, platform)
    for path, (english, _) in PAGES.items():
        page = api.get(path)
        assert page.status_code == 200, (path, page.text[:400])
        assert english in text(page), path
        assert 'href="/console/networks"' in page.text  # the capacity links of the navigation
    for path, (english, chinese) in PAGES.items():
        page = api.get(path, headers=ZH)
        assert page.status_code == 200, path
        assert chinese in text(page), path
        assert english not in text(page), path
    overview = text(api.get("/console"))
    assert 'data-project="analytics"' in overview
    assert 'data-cluster="stream1"' in overview
    assert 'data-state="starting"' in overview
    assert 'id="kubernetes-table"' in overview
    # guide, cluster list: a running cluster's row offers "Create project"; a starting one not
    assert "data-create-project" not in overview
    cluster_running(platform, "stream1")
    row = text(api.get("/console")).split('data-cluster="stream1"')[1].split("</tr>")[0]
    assert '<a href="/console/clusters/stream1#cluster-project-form" data-create-project>' in row
    assert 'id="cluster-project-form"' in text(api.get("/console/clusters/stream1"))


def test_buy_shared_pay_badge_and_create_project(api: TestClient, owner: Owner, token: str) -> None:
    authorize_service_role(api, owner)
    price = api.get("/console/purchase/price", params={"mode": "shared", "cu": "3", "months": "2"})
    assert "data-price>¥1200.00 <" in price.text  # 3 CU x 2 months x 200.00, in yuan
    bought = post(api, "/console/purchase/shared", token, cu="3", months="2", agree="true")
    assert bought.status_code == 303, bought.text
    match = ORDER_LINK.search(bought.headers["location"])
    assert match and bought.headers["location"].endswith("?done=ordered")
    order_id = match.group(1)
    page = text(api.get(bought.headers["location"]))
    assert "Order placed. Pay it to use it." in page
    assert 'data-order-state="pending_payment"' in page
    assert "data-unconsumed" not in api.get("/console/shared-projects").text
    paid = post(api, f"/console/orders/{order_id}/pay", token)
    assert paid.headers["location"] == f"/console/orders/{order_id}?done=paid"
    assert 'data-order-state="paid"' in api.get(paid.headers["location"]).text
    again = post(api, f"/console/orders/{order_id}/pay", token)
    assert again.status_code == 409
    assert "OrderNotPayable" in again.text

    listing = api.get("/console/shared-projects").text
    assert 'data-unconsumed="1"' in listing  # the guide's red number on "New project"
    assert f'href="/console/shared-projects/new?order={order_id}"' in listing  # 未初始化
    form = api.get(f"/console/shared-projects/new?order={order_id}").text
    assert f'<option value="{order_id}" selected>' in form
    bad = post(api, "/console/shared-projects", token, order_id=order_id, name="9lives")
    assert bad.status_code == 400
    assert "project name must be 3-64 letters" in text(bad)
    assert 'value="9lives"' in bad.text  # the form keeps what was typed
    created = post(
        api,
        "/console/shared-projects",
        token,
        order_id=order_id,
        name="orders_etl",
        description="n",
    )
    assert created.headers["location"] == "/console/projects/orders_etl?done=created"
    project = text(api.get(created.headers["location"]))
    assert "data-cu>3<" in project
    assert "data-unconsumed" not in api.get("/console/shared-projects").text
    reused = post(api, "/console/shared-projects", token, order_id=order_id, name="other")
    assert reused.status_code == 409
    assert "OrderNotUsable" in reused.text

    # renew and scale make orders; paying the scale changes the CU
    renewal = post(api, "/console/projects/orders_etl/renew", token, months="1")
    assert ORDER_LINK.search(renewal.headers["location"])
    scale = post(api, "/console/projects/orders_etl/scale", token, cu="5")
    scale_id = ORDER_LINK.search(scale.headers["location"])
    assert scale_id
    post(api, f"/console/orders/{scale_id.group(1)}/pay", token)
    assert "data-cu>5<" in api.get("/console/projects/orders_etl").text
    same = post(api, "/console/projects/orders_etl/scale", token, cu="5")
    assert same.status_code == 400
    assert "differ from the project's 5" in text(same)
    deleted = post(api, "/console/projects/orders_etl/delete", token)
    assert deleted.headers["location"] == "/console/shared-projects?done=deleted"


def test_purchase_rules_shown_live_and_on_the_form(
    api: TestClient, owner: Owner, token: str
) -> None:
    refused = post(
        api,
        "/console/purchase/exclusive",
        token,
        billing="subscription",
        master_type="4c16g",
        master_count="2",
        slave_type="4c16g",
        slave_count="1",
        months="1",
    )
    assert refused.status_code == 400
    page = text(refused)
    assert "a cluster has 1 master, or 3 for high availability; got 2" in page
    assert "a cluster needs at least 2 slaves; got 1" in page
    assert "InvalidParameter.Order" in page
    zh = api.post(
        "/console/purchase/exclusive",
        data={
            "csrf_token": token,
            "master_type": "4c16g",
            "master_count": "1",
            "slave_type": "64c256g",
            "slave_count": "2",
            "months": "1",
        },
        headers=ZH,
    )
    assert zh.status_code == 400
    # the rule's own sentence, in Chinese, on the form and in the live price; no English
    cap = (
        "集群的可用 CU（2 x 60 CU 的 64c256g = 120）超过了 master 机型 4c16g 的上限（80 CU），"
        "请选择更大的 master 机型 8c32g 或 16c64g 或 24c96g"
    )
    refusal = re.search(r'data-refused="InvalidParameter.Order">([^<]*)<code>', text(zh))
    assert refusal is not None
    assert refusal.group(1).strip() == cap
    assert f"<li>{cap}</li>" in text(zh)
    assert "exceeds the maximum" not in text(zh)

    live = api.get(
        "/console/purchase/price",
        params={
            "mode": "exclusive",
            "billing": "subscription",
            "master_type": "4c16g",
            "master_count": "1",
            "slave_type": "32c128g",
            "slave_count": "3",
            "months": "1",
        },
    )
    assert live.status_code == 200
    assert "choose at most 2 slaves of type 32c128g, or master type" in text(live)
    fine = api.get(
        "/console/purchase/price",
        params={
            "mode": "exclusive",
            "billing": "payg",
            "master_type": "4c16g",
            "master_count": "1",
            "slave_type": "8c32g",
            "slave_count": "2",
        },
    )
    assert "data-usable-cu>12<" in fine.text
    assert "¥6.00 / hour" in text(fine)  # (4 + 2 x 8) cores x 0.30 per core and hour

    estimate = text(api.get("/console/purchase/sizing", params={"qps": "50000"}))
    assert "About 5 CU." in estimate
    assert 'value="5" hx-swap-oob="true"' in estimate
    complex_ = text(
        api.get("/console/purchase/sizing", params={"qps": "50000", "complexity": "complex"})
    )
    assert "Between 10 and 50 CU." in complex_
    assert "needs 10 to 50 CU" in complex_
    # on a Chinese page the calculator's reasoning is Chinese, its numbers filled in
    complex_zh = text(
        api.get(
            "/console/purchase/sizing",
            params={"qps": "50000", "complexity": "complex"},
            headers=ZH,
        )
    )
    assert "需要 10 到 50 CU" in complex_zh and "每秒 50,000 条记录" in complex_zh
    assert "records/s" not in complex_zh and "needs" not in complex_zh
    quote = text(api.get("/console/purchase/quote", params={"quote_cu": "40", "ha": "true"}))
    assert 'name="master_count"' in quote
    assert '<option value="3" selected>' in quote
    assert "Cheapest mix for" in quote
    assert 'hx-swap-oob="true"' in quote  # the price under the form follows the new mix
    assert "too big" not in quote
    huge = text(api.get("/console/purchase/quote", params={"quote_cu": "20000"}))
    assert "cu must be between 1 and 10,000" in huge

    bought = post(
        api,
        "/console/purchase/exclusive",
        token,
        billing="payg",
        master_type="4c16g",
        master_count="1",
        slave_type="4c16g",
        slave_count="2",
        agree="true",
    )
    assert bought.status_code == 303, bought.text
    order = text(api.get(bought.headers["location"]))
    # 3 machines of 4 cores x 0.30: the rate the billing loop meters, not the amount 0.00
    assert 'data-hour-rate="360">¥3.60 / hour<' in order
    assert "0.00" not in order


def test_cluster_in_four_steps_with_refusals_on_their_step(
    api: TestClient, owner: Owner, token: str, platform: platform_module.Platform
) -> None:
    order = paid_order(api, owner, **EXCLUSIVE)
    listing = api.get("/console/exclusive-clusters").text
    assert 'data-unconsumed="1"' in listing

    def step(number: int, go: str = "next", **values: str) -> Any:
        return post(
            api, "/console/exclusive-clusters/new", token, step=str(number), go=go, **values
        )

    # step 1 checks the account's prerequisites (tests/integration/test_console_cluster_wizard.py)
    authorize_service_role(api, owner)
    add_zone(platform)
    assert post(api, "/console/networks", token, name="vpc1", cidr="10.0.0.0/16").status_code == 303
    assert post(api, "/console/networks", token, name="vpc2", cidr="10.1.0.0/16").status_code == 303
    post(
        api, "/console/networks/vpc1/subnets", token, name="tiny", cidr="10.0.2.0/29", zone="zone-a"
    )  # 8 addresses, 4 usable
    post(
        api, "/console/networks/vpc1/subnets", token, name="sw1", cidr="10.0.1.0/24", zone="zone-a"
    )
    post(api, "/console/buckets", token, name="open-bucket", acl="public-read")
    post(api, "/console/buckets", token, name="udf-bucket")
    first = api.get(f"/console/exclusive-clusters/new?order={order['id']}").text
    assert f'<option value="{order["id"]}" selected>' in first
    assert "Choose a paid exclusive-mode order" in text(step(1, order_id="nope"))
    second = step(1, order_id=order["id"])
    assert 'data-step="2"' in second.text
    bad_name = step(2, order_id=order["id"], name="x")
    assert bad_name.status_code == 400 and 'data-step="2"' in bad_name.text
    third = text(step(2, order_id=order["id"], name="stream1", description="first"))
    assert 'data-step="3"' in third
    # a network without a subnet says what to do
    no_subnet = text(
        api.get(f"/console/exclusive-clusters/new/placement?network=vpc2&order_id={order['id']}")
    )
    assert 'data-empty="subnet"' in no_subnet and 'href="/console/networks/vpc2"' in no_subnet
    placement = text(
        api.get(f"/console/exclusive-clusters/new/placement?network=vpc1&order_id={order['id']}")
    )
    assert "sw1 · 10.0.1.0/24 · zone-a · 252 free addresses" in placement
    assert "room for 10 \u00d7 4c16g" in placement
    where = {
        "order_id": order["id"],
        "name": "stream1",
        "description": "first",
        "network": "vpc1",
        "zone": "zone-a",
    }
    # a public bucket and a non-standard one are different fixes: each its own sentence
    public = text(step(3, bucket="open-bucket", subnet="sw1", **where))
    assert "bucket open-bucket is public-read; a cluster's bucket must not be" in public
    assert "has storage class" not in public
    post(api, "/console/buckets", token, name="cold-bucket", storage_class="infrequent")
    cold = text(step(3, bucket="cold-bucket", subnet="sw1", **where))
    assert "bucket cold-bucket has storage class infrequent" in cold
    assert "public-read; a cluster" not in cold
    crowded = {**EXCLUSIVE, "slave_count": 4}
    big = paid_order(api, owner, **crowded)
    small = text(step(3, bucket="udf-bucket", subnet="tiny", **{**where, "order_id": big["id"]}))
    assert "has 4 free addresses but 5 are needed, one per node" in small
    confirm = text(step(3, bucket="udf-bucket", subnet="sw1", **where))
    assert 'data-step="4"' in confirm and "data-name>stream1<" in confirm

    # the service checks the role again when "Create" is pressed: refused, back on step 1
    fields = {**where, "bucket": "udf-bucket", "subnet": "sw1"}
    ok(api.delete(f"{API}/ram/service-role", headers=owner.headers))
    unauthorized = post(api, "/console/exclusive-clusters", token, **fields)
    assert unauthorized.status_code == 403
    assert 'data-step="1"' in unauthorized.text
    assert 'href="/console/ram/service-role"' in unauthorized.text
    assert "ServiceRoleNotAuthorized" in unauthorized.text
    authorize_service_role(api, owner)
    # the service re-checks placement too: the tiny subnet is refused on step 3
    tiny = post(
        api,
        "/console/exclusive-clusters",
        token,
        **{**fields, "subnet": "tiny", "order_id": big["id"]},
    )
    assert tiny.status_code == 409 and 'data-step="3"' in tiny.text
    assert "SubnetAddressesExhausted" in tiny.text
    public_bucket = post(
        api, "/console/exclusive-clusters", token, **{**fields, "bucket": "open-bucket"}
    )
    assert public_bucket.status_code == 400 and 'data-step="3"' in public_bucket.text
    assert "InvalidParameter.BucketAcl" in public_bucket.text
    assert 'href="/console/buckets"' in public_bucket.text
    # a zone without room: refused at step 3 by the wizard, and by the service
    add_zone(platform, "zone-b", **{"4c16g": 1})
    post(
        api, "/console/networks/vpc1/subnets", token, name="swb", cidr="10.0.3.0/24", zone="zone-b"
    )
    crowded_zone = {**fields, "zone": "zone-b", "subnet": "swb"}
    full = text(step(3, **crowded_zone))
    assert "zone zone-b can place 1 more 4c16g nodes but 3 are needed" in full
    refused_zone = post(api, "/console/exclusive-clusters", token, **crowded_zone)
    assert refused_zone.status_code == 409 and 'data-step="3"' in refused_zone.text
    assert "ZoneCapacityExceeded" in refused_zone.text
    wrong_zone = text(step(3, **{**crowded_zone, "zone": "zone-a"}))
    assert "Subnet swb lies in zone zone-b, not zone-a." in wrong_zone
    created = post(api, "/console/exclusive-clusters", token, **fields)
    assert created.headers["location"] == "/console/clusters/stream1?done=starting"
    page = text(api.get(created.headers["location"]))
    assert 'data-cluster-state="starting"' in page
    assert 'hx-trigger="every 2s"' in page  # follows the reconciler while it starts
    assert page.count('data-node="') == 3  # master-1, slave-1, slave-2 placed
    live = api.get("/console/clusters/stream1/live")
    assert live.status_code == 200 and "data-polling" in live.text
    assert 'data-empty="subnet"' not in page
    taken = post(api, "/console/exclusive-clusters", token, **fields)
    assert 'data-step="1"' in taken.text and "OrderNotUsable" in taken.text

    # what needs a running cluster says so; release works from starting
    project = post(api, "/console/clusters/stream1/projects", token, name="inside", cu="2")
    assert project.status_code == 409 and "ClusterNotRunning" in project.text
    scale = post(api, "/console/clusters/stream1/scale", token, slave_count="3")
    assert scale.status_code == 409 and "only a running cluster scales" in text(scale)
    renewal = post(api, "/console/clusters/stream1/renew", token, months="1")
    assert ORDER_LINK.search(renewal.headers["location"])
    released = post(api, "/console/clusters/stream1/release", token)
    assert released.headers["location"] == "/console/clusters/stream1?done=releasing"
    assert 'data-cluster-state="releasing"' in api.get("/console/clusters/stream1").text


def test_networks_subnets_buckets_and_objects(
    api: TestClient, owner: Owner, token: str, platform: platform_module.Platform
) -> None:
    wrong = post(api, "/console/networks", token, name="vpc1", cidr="8.8.8.0/24")
    assert wrong.status_code == 400 and "InvalidParameter.CidrBlock" in wrong.text
    assert post(api, "/console/networks", token, name="vpc1", cidr="10.0.0.0/16").status_code == 303
    no_zone = text(api.get("/console/networks/vpc1"))
    assert 'data-empty="zone"' in no_zone and 'id="subnet-form"' not in no_zone
    add_zone(platform)
    made = post(
        api, "/console/networks/vpc1/subnets", token, name="sw1", cidr="10.0.1.0/28", zone="zone-a"
    )
    assert made.headers["location"] == "/console/networks/vpc1?done=created"
    assert "data-free>12<" in api.get("/console/networks/vpc1").text
    outside = post(
        api, "/console/networks/vpc1/subnets", token, name="sw2", cidr="10.9.0.0/24", zone="zone-a"
    )
    assert outside.status_code == 400
    busy = post(api, "/console/networks/vpc1/delete", token)
    assert busy.status_code == 409 and "NetworkInUse" in busy.text
    assert post(api, "/console/networks/vpc1/subnets/sw1/delete", token).status_code == 303
    assert post(api, "/console/networks/vpc1/delete", token).headers["location"] == (
        "/console/networks?done=deleted"
    )

    archive = post(api, "/console/buckets", token, name="cold-store", storage_class="archive")
    assert archive.status_code == 303
    assert "Not usable: needs standard storage" in text(api.get("/console/buckets"))
    bad = post(api, "/console/buckets", token, name="Bad_Name")
    assert bad.status_code == 400 and "InvalidBucketName" in bad.text
    uploaded = api.post(
        "/console/buckets/cold-store/objects",
        data={"csrf_token": token, "key": "udf/a.jar"},
        files={"file": ("a.jar", b"PK\x03\x04jar", "application/java-archive")},
        follow_redirects=False,
    )
    assert uploaded.headers["location"] == "/console/buckets/cold-store?done=uploaded"
    page = api.get("/console/buckets/cold-store").text
    assert 'data-object="udf/a.jar"' in page
    download = api.get("/console/buckets/cold-store/objects/udf/a.jar")
    assert download.content == b"PK\x03\x04jar"
    assert download.headers["content-type"] == "application/octet-stream"
    escape = api.post(
        "/console/buckets/cold-store/objects",
        data={"csrf_token": token, "key": "../x"},
        files={"file": ("x", b"x")},
    )
    assert escape.status_code == 400 and "InvalidObjectName" in escape.text
    not_empty = post(api, "/console/buckets/cold-store/delete", token)
    assert not_empty.status_code == 409 and "BucketNotEmpty" in not_empty.text
    assert (
        post(api, "/console/buckets/cold-store/objects/delete", token, key="udf/a.jar").status_code
        == 303
    )
    assert post(api, "/console/buckets/cold-store/delete", token).status_code == 303


def test_a_chinese_page_shows_the_error_s_chinese_sentence(
    api: TestClient, token: str, platform: platform_module.Platform
) -> None:
    """zh-CN: the refusal is the sentence the service raised in Chinese (not a console
    translation of the code followed by the English one in parentheses), with its link."""

    def zh_post(path: str, **data: Any) -> Any:
        return api.post(
            path, data={"csrf_token": token, **data}, headers=ZH, follow_redirects=False
        )

    def refusal_of(response: Any, code: str) -> str:
        found = re.search(rf'data-refused="{re.escape(code)}">([^<]*)<code>', text(response))
        assert found is not None, response.text[:500]
        return found.group(1).strip()

    public = zh_post("/console/networks", name="vpc1", cidr="8.8.8.0/24")
    assert public.status_code == 400
    assert refusal_of(public, "InvalidParameter.CidrBlock") == (
        "8.8.8.0/24 不是私网地址块：请使用 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 之内的地址块"
    )
    assert "not a private block" not in text(public)
    add_zone(platform)
    assert zh_post("/console/networks", name="vpc1", cidr="10.0.0.0/16").status_code == 303
    subnet = {"name": "sw1", "cidr": "10.0.1.0/28", "zone": "zone-a"}
    assert zh_post("/console/networks/vpc1/subnets", **subnet).status_code == 303
    busy = zh_post("/console/networks/vpc1/delete")
    assert busy.status_code == 409
    assert refusal_of(busy, "NetworkInUse") == "专有网络 vpc1 中还有 1 个交换机，请先删除它们"
    assert "still has" not in text(busy)
    bad = zh_post("/console/buckets", name="Bad_Name")
    assert bad.status_code == 400
    assert refusal_of(bad, "InvalidBucketName") == (
        "存储空间名称须为 3-63 个字符，只含小写字母、数字和连字符，并以字母或数字开头和结尾；"
        "而不是 'Bad_Name'"
    )
    assert "bucket name must be" not in text(bad)
    # in English the same refusal is the English sentence
    english = post(api, "/console/buckets", token, name="Bad_Name")
    assert refusal_of(english, "InvalidBucketName").startswith("bucket name must be 3-63")


def capacity_writes() -> list[tuple[str, str]]:
    found = []
    for declaration in console_routes.DECLARED:
        if not any(
            declaration.path.startswith(p)
            for p in (
                "/console/orders",
                "/console/purchase",
                "/console/shared-projects",
                "/console/projects",
                "/console/exclusive-clusters",
                "/console/clusters",
                "/console/networks",
                "/console/buckets",
            )
        ):
            continue
        path = re.sub(r"\{[^}]+\}", "x", declaration.path)
        found.extend((method, path) for method in declaration.methods if method != "GET")
    return found


def test_every_capacity_write_needs_the_csrf_token(
    api: TestClient, owner: Owner, token: str, platform: platform_module.Platform
) -> None:
    routes = capacity_writes()
    assert len(routes) >= 20
    for method, path in routes:
        for headers in ({}, {"X-CSRF-Token": "wrong"}, {"HX-Request": "true"}):
            response = api.request(method, path, data={"name": "zzz"}, headers=headers)
            assert response.status_code == 403, (method, path, response.status_code)
            assert "CsrfFailed" in response.text, (method, path)
    assert ok(api.get(f"{API}/orders", headers=owner.headers)) == []
    assert trail_of(platform, "stream:CreateOrder", "failed")


def test_every_capacity_route_declares_the_api_action() -> None:
    declared = {d.action for d in console_routes.DECLARED if d.path.startswith("/console")}
    assert declared >= {
        "stream:ListOrders",
        "stream:DescribeOrder",
        "stream:CreateOrder",
        "stream:PayOrder",
        "stream:CancelOrder",
        "stream:ListProjects",
        "stream:CreateProject",
        "stream:DescribeProject",
        "stream:UpdateProject",
        "stream:DeleteProject",
        "stream:RenewProject",
        "stream:ScaleProject",
        "stream:ListClusters",
        "stream:CreateCluster",
        "stream:DescribeCluster",
        "stream:ScaleCluster",
        "stream:RenewCluster",
        "stream:ReleaseCluster",
        "stream:DescribeCatalog",
        "vpc:CreateVpc",
        "vpc:DeleteVpc",
        "vpc:CreateVSwitch",
        "vpc:DeleteVSwitch",
        "oss:PutBucket",
        "oss:PutObject",
        "oss:DeleteObject",
        "oss:DeleteBucket",
    }


def test_a_ram_user_with_list_only_sees_but_cannot_create(
    api: TestClient, owner: Owner, platform: platform_module.Platform
) -> None:
    authorize_service_role(api, owner)
    shared_project(api, owner, "analytics")
    paid_order(api, owner)
    create_policy(api, owner, "ListOnly", allow("stream:List*"))
    create_policy(api, owner, "StreamAll", allow("stream:*"))
    user = {"name": "dev", "password": PASSWORD, "console_enabled": True}
    ok(api.post(f"{API}/ram/users", headers=owner.headers, json=user), 201)
    ok(api.put(f"{API}/ram/users/dev/policies/Custom/ListOnly", headers=owner.headers), 204)
    dev = signin_via_form(api, "acme", user="dev")
    for path in (
        "/console/capacity",
        "/console/orders",
        "/console/shared-projects",
        "/console/exclusive-clusters",
        "/console/kubernetes-clusters",
    ):
        page = api.get(path)
        assert page.status_code == 200, (path, page.text[:300])
    listing = text(api.get("/console/shared-projects"))
    assert 'data-project="analytics"' in listing
    # buying and creating belong to the account: a RAM user is not offered "New project"
    assert 'id="new-project"' not in listing and "data-unconsumed" not in listing
    for path, data in (
        ("/console/purchase/shared", {"cu": "2", "months": "1"}),
        ("/console/shared-projects", {"name": "mine", "order_id": "1"}),
        ("/console/exclusive-clusters", {"name": "c9"}),
        ("/console/projects/analytics/scale", {"cu": "4"}),
    ):
        refused = post(api, path, dev, **data)
        assert refused.status_code == 403, (path, refused.text[:300])
        assert "Forbidden.RAM" in refused.text, path
    # stream:* is not enough: buying and creating belong to the account itself
    ok(api.put(f"{API}/ram/users/dev/policies/Custom/StreamAll", headers=owner.headers), 204)
    dev = signin_via_form(api, "acme", user="dev")
    main_only = post(api, "/console/purchase/shared", dev, cu="2", months="1")
    assert main_only.status_code == 403
    assert "Forbidden.MainAccountOnly" in main_only.text
    assert "only the account itself (the main account) may buy" in text(main_only)
    zh = api.post(
        "/console/purchase/shared", data={"csrf_token": dev, "cu": "2", "months": "1"}, headers=ZH
    )
    assert "只有账号本身" in text(zh) and "主账号" in text(zh)
    assert ok(api.get(f"{API}/orders?unconsumed=true", headers=owner.headers))[0]["cu"] == 2
    assert len(ok(api.get(f"{API}/orders", headers=owner.headers))) == 2
    htmx_refusal = api.post(
        "/console/purchase/shared", data={"cu": "2", "months": "1"}, headers=htmx(dev)
    )
    assert htmx_refusal.status_code == 403


def test_unauthorized_service_role_prompts_on_the_lists(
    api: TestClient, owner: Owner, token: str
) -> None:
    page = text(api.get("/console/shared-projects"))
    assert 'data-refused="ServiceRoleNotAuthorized"' in page
    assert 'href="/console/ram/service-role"' in page
