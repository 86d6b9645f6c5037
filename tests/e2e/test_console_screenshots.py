"""Screenshots of the console's main pages, in English and in Chinese, from a real browser
(Debian's Chromium via Playwright) against its own `rtc up` with realistic data: an account
with a paid shared-CU order and its project, a running exclusive cluster with flink-2.2.1
installed and a project on it, RAM users, a custom policy, and a job reading a 50 rows/s
source that runs on real Flink, so that its charts have readings.

`make screenshots` runs this module with RTC_SCREENSHOTS=docs/screenshots (the pictures
docs/console.md links); in the suite they go to the default directory of `screens`. The test
checks what a picture would show: Chinese pages carry Chinese text drawn with a CJK font
(two different characters draw differently, which boxes would not), a steady 50 records/s
is drawn at 50 on a 0-based axis, the editor's line numbers stop at the SQL's last line, the
beta confirmation fits its cell, and the purchase form is laid out like the other forms.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import playwright.sync_api as playwright_sync
import pytest

from tests import ports
from tests.conftest import LiveServer, login, start_server, stop_server
from tests.e2e import screens
from tests.e2e.test_console_ram_browser import BAD, GOOD, sign_up_and_in
from tests.e2e.test_engines_flow import installed, ok
from tests.integration.test_cluster_reconciler import kill_all_under
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

API = "/api/v1"
V2 = "flink-2.2.1"
LANGUAGES = ("en", "zh_CN")
# an endless source of 50 rows/s into the print sink: records out per second settles at 50
SQL = """CREATE TABLE clicks (
  id BIGINT,
  page STRING
) WITH ('connector' = 'datagen', 'rows-per-second' = '50');
CREATE TABLE shown (id BIGINT, page STRING) WITH ('connector' = 'print');
INSERT INTO shown
SELECT id, page FROM clicks;
"""
RATE = 50
# the chart's geometry in jobs.js: viewBox height, top and bottom margins of the drawing area
CHART_HEIGHT, CHART_TOP, CHART_BOTTOM = 150, 18, 20
CJK = re.compile(r"[\u4e00-\u9fff]")
PNG_BUDGET_BYTES = 3 * 1024 * 1024  # every picture of a run together


@pytest.fixture
def server(tmp_path: Path, engine_wheelhouse: Path) -> Iterator[LiveServer]:
    """A `rtc up` of this test alone: engines installed from the offline wheelhouse, its own
    node and job ports, metrics read every second."""
    env = {
        "RTC_ENGINE_WHEELHOUSE": str(engine_wheelhouse),
        **ports.node_env(),
        **ports.job_env(),
        "RTC_JOBS__METRICS_INTERVAL_SECONDS": "1",
    }
    data_dir = tmp_path / "data"
    started = start_server(data_dir, env)
    try:
        yield started
    finally:
        stop_server(started)
        kill_all_under(data_dir)


def realistic_account(server: LiveServer, alias: str) -> str:
    """Everything the pages show, made through the API as a tenant would; the job's path."""
    with (
        httpx.Client(base_url=server.url, timeout=60) as client,
        httpx.Client(base_url=server.url, timeout=60) as operator,
    ):
        client.headers.update(login(client, alias))  # type: ignore[arg-type]
        operator.headers.update(login(operator, server.account, server.password))  # type: ignore[arg-type]
        agreed = {"months": 1, "agree_to_terms": True}
        ok(client.post(f"{API}/ram/service-role"))
        # shared mode: an order of 4 CU, paid, and its project
        shared = ok(client.post(f"{API}/orders", json={"mode": "shared", "cu": 4, **agreed}), 201)
        ok(client.post(f"{API}/orders/{shared['id']}/pay"))
        body = {"name": "analytics", "order_id": shared["id"], "description": "Reports"}
        ok(client.post(f"{API}/projects", json=body), 201)
        # exclusive mode: a running cluster with flink-2.2.1 and a project of 2 CU
        zone = "zone_a"
        ok(operator.post(f"{API}/zones", json={"name": zone, "capacity": {"4c16g": 3}}), 201)
        ok(client.post(f"{API}/networks", json={"name": "vpc_main", "cidr": "10.30.0.0/16"}), 201)
        subnet = {"name": "vsw_a", "cidr": "10.30.1.0/24", "zone": zone}
        ok(client.post(f"{API}/networks/vpc_main/subnets", json=subnet), 201)
        bucket = "state-" + secrets.token_hex(3)
        ok(client.post(f"{API}/buckets", json={"name": bucket}), 201)
        shape = {"master_type": "4c16g", "master_count": 1, "slave_type": "4c16g"}
        order = {"mode": "exclusive", **shape, "slave_count": 2, **agreed}
        exclusive = ok(client.post(f"{API}/orders", json=order), 201)
        ok(client.post(f"{API}/orders/{exclusive['id']}/pay"))
        placement = {"bucket": bucket, "network": "vpc_main", "subnet": "vsw_a", "zone": zone}
        cluster = {"order_id": exclusive["id"], "name": "c_web", **placement}
        ok(client.post(f"{API}/clusters", json=cluster), 201)
        wait_for("the cluster to run", state_is(client, f"{API}/clusters/c_web", "running"), 120)
        versions = f"{API}/clusters/c_web/versions"
        ok(client.post(versions, json={"version": V2}), 201)
        wait_for(f"{V2} installed", installed(client, versions, V2), timeout=600)
        ok(client.post(f"{API}/projects", json={"name": "p_web", "cluster": "c_web", "cu": 2}), 201)
        # RAM: two users, a custom policy attached to one
        for name, display in (("alice", "Alice Chen"), ("bob", "Bob Li")):
            user = {"name": name, "display_name": display, "comment": "data engineering"}
            ok(client.post(f"{API}/ram/users", json=user), 201)
        policy = {"name": "StreamDevelopers", "description": "Jobs of p_web", "document": GOOD}
        ok(client.post(f"{API}/ram/policies", json=policy), 201)
        attached = client.put(f"{API}/ram/users/alice/policies/Custom/StreamDevelopers")
        assert attached.status_code == 204, attached.text
        # the job: saved, checked, online and running on real Flink
        job = {"name": "clicks", "sql": SQL, "settings": {"parallelism": 1}}
        ok(client.post(f"{API}/projects/p_web/jobs", json=job), 201)
        path = f"{API}/projects/p_web/jobs/clicks"
        ok(client.post(f"{path}:publish"))
        ok(client.post(f"{path}:start", json={"mode": "stateless"}))
        wait_for("the job to run", state_is(client, f"{path}/deployment", "running"), 300)
    return "/console/projects/p_web/jobs/clicks"


def wait_for_steady_rate(server: LiveServer, alias: str, job: str) -> None:
    """Flink's rate is a 60-second meter: a steady source reads its rate a minute after the
    start (the other pages are shot meanwhile)."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        client.headers.update(login(client, alias))  # type: ignore[arg-type]
        path = API + job.removeprefix("/console")
        wait_for("readings of 50 rows/s", steady_rate(client, f"{path}/metrics"), 180)


def state_is(client: httpx.Client, path: str, state: str) -> Callable[[], bool]:
    def check() -> bool:
        found = ok(client.get(path))
        assert found["state"] != "failed", found
        return bool(found["state"] == state)

    return check


def steady_rate(client: httpx.Client, path: str) -> Callable[[], bool]:
    """At least five readings of records out per second, the last at the source's rate."""

    def check() -> bool:
        rates = [m["records_out_per_second"] for m in ok(client.get(path))]
        rates = [r for r in rates if r is not None]
        return len(rates) >= 5 and abs(rates[-1] - RATE) <= RATE * 0.2

    return check


def shoot(tab: playwright_sync.Page, name: str, language: str) -> Path:
    target = screens.directory() / f"{name}-{language}.png"
    tab.screenshot(path=str(target), full_page=True)
    return target


def assert_chinese_renders(tab: playwright_sync.Page) -> None:
    """The page's text is Chinese, and drawn with a CJK font: without one, every character
    is the same box, so two different characters would draw the same pixels."""
    text = tab.locator("body").inner_text()
    assert len(CJK.findall(text)) >= 10, text[:400]
    drawn = tab.evaluate(
        """() => {
          const font = getComputedStyle(document.body).fontSize + " " +
            getComputedStyle(document.body).fontFamily;
          function pixels(text) {
            const canvas = document.createElement("canvas");
            canvas.width = 64; canvas.height = 64;
            const context = canvas.getContext("2d");
            context.font = font.replace(/^[^ ]+/, "40px");
            context.fillText(text, 4, 48);
            return Array.from(context.getImageData(0, 0, 64, 64).data).join(",");
          }
          return { zhong: pixels("中"), guo: pixels("国"), empty: pixels("") };
        }"""
    )
    assert drawn["zhong"] != drawn["empty"], "中 draws nothing"
    assert drawn["zhong"] != drawn["guo"], "中 and 国 draw the same box: no CJK font"


def assert_chart_at_rate(tab: playwright_sync.Page) -> None:
    """Records out per second: a 0-based axis with ticks, times below, the line at 50."""
    figure = tab.locator('#charts figure[data-series="records_out_per_second"]')
    playwright_sync.expect(figure).to_have_attribute(
        "data-points", re.compile(r"^([5-9]|\d\d+)$"), timeout=30_000
    )
    drawn: dict[str, Any] = figure.evaluate(
        """f => ({
          max: parseFloat(f.dataset.scaleMax),
          ticks: Array.from(f.querySelectorAll("text.tick")).map(t => t.textContent),
          times: Array.from(f.querySelectorAll("text.time")).map(t => t.textContent),
          unit: f.querySelector("text.unit").textContent,
          points: f.querySelector("polyline").getAttribute("points"),
        })"""
    )
    assert drawn["ticks"][0] == "0" and len(drawn["ticks"]) == 3, drawn
    assert drawn["unit"], drawn
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d", t) for t in drawn["times"]), drawn
    assert drawn["max"] >= RATE, drawn
    last_y = float(drawn["points"].split()[-1].split(",")[1])
    latest = float(
        tab.evaluate("u => fetch(u).then(r => r.json())", metrics_url(tab))["samples"][-1][
            "records_out_per_second"
        ]
    )
    height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    expected_y = CHART_TOP + (1 - latest / drawn["max"]) * height
    # the newest reading may have moved on since the chart was drawn: within 20% of the rate
    assert abs(last_y - expected_y) <= height * RATE * 0.2 / drawn["max"] + 1, (drawn, latest)
    assert last_y < CHART_HEIGHT - CHART_BOTTOM - 10, "a steady rate must not lie on the axis"


def metrics_url(tab: playwright_sync.Page) -> str:
    return str(tab.locator("#charts").get_attribute("data-metrics-url"))


def assert_gutter_stops_at_last_line(tab: playwright_sync.Page) -> None:
    lines = tab.locator("#sql-text").input_value().split("\n")
    gutter = tab.locator("#sql-gutter span")
    playwright_sync.expect(gutter).to_have_count(len(lines))


def assert_beta_confirmation_fits(tab: playwright_sync.Page) -> None:
    label = tab.locator("label.beta-confirm").first
    playwright_sync.expect(label).to_be_visible()
    fits = label.evaluate(
        """l => {
          const cell = l.closest("td").getBoundingClientRect(), box = l.getBoundingClientRect();
          const scroller = l.closest(".scroll");
          return box.left >= cell.left - 1 && box.right <= cell.right + 1 &&
            scroller.scrollWidth <= scroller.clientWidth + 1;
        }"""
    )
    assert fits, "the beta confirmation overflows its cell"


def assert_purchase_form_like_the_others(tab: playwright_sync.Page) -> None:
    """Fieldsets without the browser's frame, fields spaced like a stacked form's."""
    laid_out = tab.evaluate(
        """() => {
          const fieldset = document.querySelector("#machine-config");
          const labels = Array.from(
            document.querySelectorAll("#purchase-fields label:not(.check)"));
          const gaps = labels.slice(1).map((l, i) =>
            l.getBoundingClientRect().top - labels[i].getBoundingClientRect().bottom);
          return { border: getComputedStyle(fieldset).borderTopWidth, gaps: gaps };
        }"""
    )
    assert laid_out["border"] == "0px", laid_out
    assert laid_out["gaps"] and min(laid_out["gaps"]) >= 8, laid_out


def test_main_pages_in_english_and_chinese(
    server: LiveServer,
    page: playwright_sync.Page,
) -> None:
    expect = playwright_sync.expect
    url = server.url
    alias = "acme-" + secrets.token_hex(2)
    sign_up_and_in(page, url, alias)
    job = realistic_account(server, alias)

    pages: list[tuple[str, str, Callable[[playwright_sync.Page], None] | None]] = [
        ("console", "/console", None),
        ("orders", "/console/orders", None),
        ("purchase", "/console/purchase/exclusive", assert_purchase_form_like_the_others),
        ("cluster", "/console/clusters/c_web", None),
        ("ram-users", "/console/ram/users", None),
        ("policy-editor", "/console/ram/policies/new", None),
        (
            "engine-versions",
            "/console/clusters/c_web/versions?tab=installable",
            assert_beta_confirmation_fits,
        ),
        ("job-editor", job, assert_gutter_stops_at_last_line),
        ("job", job + "/online", assert_chart_at_rate),
    ]
    taken: list[Path] = []
    # every other page while Flink's meter fills; the job's page (last) once its rate is steady
    for name, path, check in pages:
        if name == "job":
            wait_for_steady_rate(server, alias, job)
        for language in LANGUAGES:
            joiner = "&" if "?" in path else "?"
            page.goto(f"{url}{path}{joiner}lang={language}")
            expect(page.locator("html")).to_have_attribute("lang", re.compile(language[:2]))
            if name == "policy-editor":
                page.locator("input[name=name]").fill("StreamProject")
                page.locator("textarea[name=document]").fill(BAD)  # its problem shows
                expect(page.locator("[data-problems]")).to_contain_text("Statement[1].Effect")
            if check is not None:
                check(page)
            if language == "zh_CN":
                assert_chinese_renders(page)
            taken.append(shoot(page, name, language))
    assert len(taken) == len(pages) * len(LANGUAGES)
    total = sum(p.stat().st_size for p in taken)
    assert total < PNG_BUDGET_BYTES, f"{total} bytes of screenshots"
