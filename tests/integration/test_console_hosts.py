"""The operator's hosts and zones pages, and a cluster's nodes on hosts (both databases).

Hosts join through the agent's own code (runtime/hostagent.py) against the in-process app,
as tests/integration/test_hosts.py does; everything else goes through the console's forms.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from rtcompute.services.kernel import accounts
from rtcompute.services.kernel import platform as platform_module
from tests.conftest import PASSWORD
from tests.integration.test_clusters_api import (
    SMALL,
    Setup,
    add_bucket,
    add_subnet,
    create,
    login,
    setup,
)
from tests.integration.test_console import signin_via_form
from tests.integration.test_console_capacity import post
from tests.integration.test_console_chinese import english_on
from tests.integration.test_hosts import hosts_zone, join, listed, token
from tests.integration.test_ram_support import API, Owner, authorize_service_role, ok, paid_order

__all__ = ["hosts_zone", "setup"]  # the fixtures these tests share
PAGE = "/console/hosts"
TOKEN = re.compile(r"rtcjoin\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}\.[0-9a-f]{16}")


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"bootstrap_password": PASSWORD}  # the operator signs in through the form too


@pytest.fixture
def operator(api: TestClient, platform: platform_module.Platform) -> dict[str, str]:
    assert accounts.bootstrap(platform) is not None
    return login(api, "operator", PASSWORD)


def row(page: str, host: str) -> str:
    """The host's row of the hosts page."""
    found = re.search(rf'<tr data-host="{re.escape(host)}".*?</tr>', page, re.S)
    assert found, f"no row for host {host}"
    return found.group(0)


def state_of(api: TestClient, host: str) -> str:
    found = re.search(r'data-state="([a-z_]+)"', row(api.get(PAGE).text, host))
    assert found
    return found.group(1)


def tenant_cluster(api: TestClient, setup: Setup, tmp_path: Path) -> str:
    """acme's cluster of 1 master + 2 slaves of 4c16g on three hosts of rack1."""
    add_subnet(api, setup.owner, "hosts-net", "10.0.9.0/24", "rack1")
    for name, address in (("m1", "10.0.9.11"), ("s1", "10.0.9.21"), ("s2", "10.0.9.22")):
        join(api, tmp_path, token(api, setup), name, address, cores=4, memory_gb=16)
    order = paid_order(api, setup.owner, **SMALL)["id"]
    made = ok(create(api, setup, order, zone="rack1", subnet="hosts-net"), 201)
    return str(made["name"])


def test_the_operator_joins_drains_and_removes_hosts(
    api: TestClient, setup: Setup, hosts_zone: str, tmp_path: Path
) -> None:
    csrf = signin_via_form(api, "operator")
    empty = api.get(PAGE)
    assert empty.status_code == 200
    assert 'data-zone="rack1"' in empty.text and 'data-empty="hosts"' in empty.text
    assert '<option value="zone1"' not in empty.text  # a local zone takes no host
    # a token for a zone of this machine is refused in the page, with the service's reason
    refused = post(api, f"{PAGE}/join-tokens", csrf, zone="zone1", hours="1")
    assert refused.status_code == 409 and 'data-refused="ZoneNotHosts"' in refused.text
    assert not TOKEN.search(refused.text)
    # a token, shown once with the command to run on the machine
    made = post(api, f"{PAGE}/join-tokens", csrf, zone="rack1", hours="2")
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    found = TOKEN.search(made.text)
    assert found
    text = found.group(0)
    assert f"rtc agent --server http://testserver --token {text}" in html.unescape(made.text)
    join(api, tmp_path, text, "h1", "10.0.1.11", cores=8, memory_gb=32)
    page = api.get(PAGE).text
    assert text not in page
    assert "10.0.1.11" in row(page, "h1") and state_of(api, "h1") == "ready"
    assert "8 cores, 32.0 GiB" in row(page, "h1")
    # drained, then back in service
    drained = post(api, f"{PAGE}/h1/drain", csrf)
    assert drained.status_code == 303 and drained.headers["location"] == f"{PAGE}?done=drained"
    assert state_of(api, "h1") == "draining" and listed(api, setup)["h1"]["state"] == "draining"
    assert "Put back in service" in row(api.get(PAGE).text, "h1")
    assert post(api, f"{PAGE}/h1/resume", csrf).status_code == 303
    assert state_of(api, "h1") == "ready"
    # a host serving a node is not removed: the refusal shows in the page
    name = tenant_cluster(api, setup, tmp_path)
    assert state_of(api, "m1") == "in_use"
    assert f"node master-1 of cluster {name}" in row(api.get(PAGE).text, "m1")
    in_use = post(api, f"{PAGE}/m1/delete", csrf)
    assert in_use.status_code == 409 and 'data-refused="HostInUse"' in in_use.text
    assert "m1" in listed(api, setup)
    # a free host is removed; an unknown one is refused
    removed = post(api, f"{PAGE}/h1/delete", csrf)
    assert removed.status_code == 303 and removed.headers["location"] == f"{PAGE}?done=removed"
    assert "h1" not in listed(api, setup) and 'data-host="h1"' not in api.get(PAGE).text
    gone = post(api, f"{PAGE}/h1/drain", csrf)
    assert gone.status_code == 404 and 'data-refused="HostNotFound"' in gone.text
    # in Chinese, with hosts in every state but lost
    assert post(api, f"{PAGE}/s1/drain", csrf).status_code == 303
    zh = api.get(f"{PAGE}?lang=zh_CN").text
    assert "使用中" in zh and "排空中" in zh and "恢复服务" in zh
    values = ("rack1", "m1", "s1", "s2", name, "master-1", "slave-1", "slave-2", "4c16g")
    assert english_on(zh, values) == []


def test_a_tenant_is_refused_the_pages_and_sees_no_host_names(
    api: TestClient, setup: Setup, hosts_zone: str, tmp_path: Path
) -> None:
    name = tenant_cluster(api, setup, tmp_path)
    csrf = signin_via_form(api, setup.owner.alias)
    for page in (PAGE, "/console/zones"):
        assert api.get(page).status_code == 403, page
    assert post(api, f"{PAGE}/join-tokens", csrf, zone="rack1").status_code == 403
    assert post(api, f"{PAGE}/m1/drain", csrf).status_code == 403
    assert post(api, f"{PAGE}/m1/delete", csrf).status_code == 403
    assert listed(api, setup)["m1"]["state"] == "in_use"
    assert 'href="/console/hosts"' not in api.get("/console").text
    # its cluster's nodes: their addresses, the hosts' addresses; not the hosts' names
    page = api.get(f"/console/clusters/{name}").text
    assert "data-on-hosts" in page and "Host address" in page and "10.0.9.11" in page
    assert "data-host=" not in page and "m1" not in page
    live = api.get(f"/console/clusters/{name}/live", headers={"HX-Request": "true"}).text
    assert "data-on-hosts" in live and "data-host=" not in live


def test_the_operator_sees_the_host_of_each_node_of_its_own_cluster(
    api: TestClient, setup: Setup, hosts_zone: str, tmp_path: Path
) -> None:
    mine = {a["alias"]: a for a in ok(api.get(f"{API}/accounts", headers=setup.operator))}
    owner = Owner("operator", str(mine["operator"]["id"]), setup.operator)
    authorize_service_role(api, owner)
    network = {"name": "net1", "cidr": "10.0.0.0/16"}
    ok(api.post(f"{API}/networks", headers=owner.headers, json=network), 201)
    add_subnet(api, owner, "hosts-net", "10.0.9.0/24", "rack1")
    add_bucket(api, owner, "ops-udfs")
    for host, address in (("m1", "10.0.9.11"), ("s1", "10.0.9.21"), ("s2", "10.0.9.22")):
        join(api, tmp_path, token(api, setup), host, address, cores=4, memory_gb=16)
    placement = {"bucket": "ops-udfs", "network": "net1", "subnet": "hosts-net", "zone": "rack1"}
    order = paid_order(api, owner, **SMALL)["id"]
    made = ok(create(api, Setup(owner, setup.operator, placement), order), 201)
    signin_via_form(api, "operator")
    page = api.get(f"/console/clusters/{made['name']}").text
    assert 'data-host="m1"' in page and "host m1" in page
    assert {'data-host="s1"', 'data-host="s2"'} <= set(re.findall(r'data-host="[^"]+"', page))
    zh = api.get(f"/console/clusters/{made['name']}?lang=zh_CN").text
    assert "主机 m1" in zh and "主机地址" in zh
    # its hosts page names the cluster each host serves
    shown = row(api.get(f"{PAGE}?lang=en").text, "m1")
    assert f"node master-1 of cluster {made['name']}" in shown


def test_the_operator_creates_zones_of_either_provider(api: TestClient, setup: Setup) -> None:
    csrf = signin_via_form(api, "operator")
    page = api.get("/console/zones")
    assert page.status_code == 200 and 'data-zone="zone1" data-provider="local"' in page.text
    made = post(api, "/console/zones", csrf, name="rack2", provider="hosts")
    assert made.status_code == 303 and made.headers["location"] == "/console/zones?done=created"
    local = {"name": "zone2", "provider": "local", "capacity-4c16g": "3", "capacity-8c32g": ""}
    assert post(api, "/console/zones", csrf, **local).status_code == 303
    zones = {z["name"]: z for z in ok(api.get(f"{API}/zones", headers=setup.operator))}
    assert zones["rack2"]["provider"] == "hosts" and zones["zone2"]["provider"] == "local"
    assert zones["zone2"]["capacity"] == {"4c16g": 3}
    listed_page = api.get("/console/zones").text
    assert 'data-zone="rack2" data-provider="hosts"' in listed_page
    # the hosts page offers the new hosts zone for a join token
    assert '<option value="rack2"' in api.get(PAGE).text
    # refusals show in the page: a name taken, a provider that does not exist, bad capacity
    taken = post(api, "/console/zones", csrf, name="rack2", provider="hosts")
    assert taken.status_code == 409 and 'data-refused="ZoneAlreadyExists"' in taken.text
    odd = post(api, "/console/zones", csrf, name="rack3", provider="cloud")
    assert odd.status_code == 400 and 'data-refused="InvalidParameter.Provider"' in odd.text
    bad = post(api, "/console/zones", csrf, name="zone3", **{"capacity-4c16g": "many"})
    assert bad.status_code == 400 and 'value="many"' in bad.text
    # a zone in use is not deleted; a free one is
    in_use = post(api, "/console/zones/zone1/delete", csrf)
    assert in_use.status_code == 409 and 'data-refused="ZoneInUse"' in in_use.text
    assert post(api, "/console/zones/rack2/delete", csrf).status_code == 303
    assert "rack2" not in {z["name"] for z in ok(api.get(f"{API}/zones", headers=setup.operator))}
    zh = api.get("/console/zones?lang=zh_CN").text
    assert "本机" in zh and "承载方式" in zh
    region = "local"  # the region's name, in the page's title
    assert english_on(zh, ("zone1", "zone2", "4c16g", "8c32g", region)) == []
