"""The jobs console in a real browser (Debian's Chromium via Playwright) against its own
`rtc up` with the reconcilers on, a real engine and real Flink:

a running exclusive cluster with flink-2.2.1 installed and a project on it -> Jobs -> new
job -> write SQL with a typo -> Check shows Flink's syntax error with its line, and clicking
it puts the cursor on that line -> fix it -> Check passes -> Go online -> Start (stateless)
-> the job runs as its own Flink cluster and the metric charts get points -> Stop with a
savepoint -> the job is stopped and its savepoint is listed.

The cluster and the installed version are made through the API (the engine pages have their
own browser test); everything about the job goes through the console's forms.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import playwright.sync_api as playwright_sync
import pytest

from tests import ports
from tests.conftest import LiveServer, login, start_server, stop_server
from tests.e2e import screens
from tests.e2e.test_console_ram_browser import sign_up_and_in
from tests.e2e.test_engines_flow import installed, ok, running_cluster
from tests.integration.test_cluster_reconciler import kill_all_under
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

API = "/api/v1"
V2 = "flink-2.2.1"
SCREENSHOTS = screens.directory()
RUNNING_TIMEOUT_MS = 240_000
STOPPED_TIMEOUT_MS = 180_000
# an endless, rate-limited source into the print sink (the TaskManager's stdout): the job
# runs until it is stopped; line 6 has the typo
BROKEN_SQL = """CREATE TABLE src (
  id BIGINT
) WITH ('connector' = 'datagen', 'rows-per-second' = '50');
CREATE TABLE out_rows (id BIGINT) WITH ('connector' = 'print');
INSERT INTO out_rows
SELECT id FORM src;
"""
TYPO_LINE = 6
FIXED_SQL = BROKEN_SQL.replace("FORM", "FROM")


@pytest.fixture
def server(tmp_path: Path, engine_home_with: Callable[[list[str]], Path]) -> Iterator[LiveServer]:
    """A `rtc up` of this test alone: flink-2.2.1 ready to adopt, its own job port block,
    metrics read every second."""
    home = engine_home_with([V2])
    env = {
        "RTC_ENGINES__HOME": str(home),
        **ports.job_env(),
        "RTC_JOBS__METRICS_INTERVAL_SECONDS": "1",
        **ports.node_env(),
    }
    data_dir = tmp_path / "data"
    started = start_server(data_dir, env)
    try:
        yield started
    finally:
        stop_server(started)
        kill_all_under(data_dir)
        kill_all_under(home)


def project_on_a_cluster(server: LiveServer, alias: str) -> None:
    """Cluster c_web running with flink-2.2.1 installed, project p_web (2 CU) on it."""
    with (
        httpx.Client(base_url=server.url, timeout=60) as client,
        httpx.Client(base_url=server.url, timeout=60) as operator,
    ):
        client.headers.update(login(client, alias))  # type: ignore[arg-type]
        operator.headers.update(login(operator, server.account, server.password))  # type: ignore[arg-type]
        running_cluster(client, operator, "c_web")
        versions = f"{API}/clusters/c_web/versions"
        ok(client.post(versions, json={"version": V2}), 201)
        wait_for(f"{V2} installed", installed(client, versions, V2), timeout=300)
        body = {"name": "p_web", "cluster": "c_web", "cu": 2}
        ok(client.post(f"{API}/projects", json=body), 201)


def test_write_check_fix_go_online_watch_and_stop_in_the_browser(
    server: LiveServer,
    page: playwright_sync.Page,
) -> None:
    expect = playwright_sync.expect
    url = server.url
    alias = "jobs-" + secrets.token_hex(3)
    sign_up_and_in(page, url, alias)
    project_on_a_cluster(server, alias)
    jobs = f"{url}/console/projects/p_web/jobs"

    # a new job, from the project's job list
    page.goto(jobs)
    expect(page.locator("#no-jobs")).to_be_visible()
    create = page.locator("#job-create")
    create.locator("input[name=name]").fill("clicks")
    create.get_by_role("button", name="Create job").click()
    expect(page).to_have_url(f"{jobs}/clicks?done=created")

    # write SQL with a typo; Check shows Flink's error with its line
    page.locator("#sql-text").fill(BROKEN_SQL)
    page.locator("#job-settings summary").click()
    page.locator("input[name=checkpoint_interval_seconds]").fill("2")
    page.locator("#check").click()
    result = page.locator("#check-result")
    expect(result).to_have_attribute("data-ok", "false", timeout=60_000)
    problem = page.locator(f'#problems li[data-line="{TYPO_LINE}"]')
    expect(problem).to_contain_text("Encountered")  # Flink reads FORM as an alias of id
    expect(page.locator(f'#sql-gutter [data-gutter-line="{TYPO_LINE}"]')).to_have_class("bad")
    problem.locator("a[data-jump-line]").click()
    expect(page.locator("#sql-text")).to_have_attribute("data-jumped-to", str(TYPO_LINE))
    expect(page.locator("#sql-text")).to_be_focused()
    page.screenshot(path=str(SCREENSHOTS / "console-jobs-problem.png"), full_page=True)

    # fix it: Check saves the form as a new revision and passes
    page.locator("#sql-text").fill(FIXED_SQL)
    page.locator("#check").click()
    expect(page.locator("#check-result")).to_have_attribute("data-ok", "true", timeout=60_000)
    expect(page.locator("#job-facts")).to_have_attribute("data-checked-revision", "3")

    # go online, then start stateless
    page.locator("#publish").click()
    expect(page).to_have_url(f"{jobs}/clicks/online?done=created")
    live = page.locator("#job-live")
    expect(live).to_have_attribute("data-state", "online")
    page.locator("#start-mode").select_option("stateless")
    page.locator("#start").click()
    expect(page).to_have_url(f"{jobs}/clicks/online?done=saved")
    # the live part follows the reconciler: a per-job Flink cluster starts and runs the job
    expect(live).to_have_attribute("data-state", "running", timeout=RUNNING_TIMEOUT_MS)
    expect(live).to_have_attribute("data-flink-state", "RUNNING")

    # the charts get points from the console's metrics endpoint
    chart = page.locator('#charts figure[data-series="records_in_per_second"]')
    expect(chart).to_have_attribute("data-points", re.compile(r"^([3-9]|\d\d+)$"), timeout=90_000)
    expect(chart.locator("polyline")).to_have_attribute("points", re.compile(r"\d+(\.\d)?,"))
    # and they move: the source emits 50 rows/s, so records out per second is not zero
    moving = page.locator('#charts figure[data-series="records_out_per_second"] [data-latest]')
    expect(moving).not_to_have_text(re.compile(r"^(0|0\.00|—)$"), timeout=60_000)
    page.screenshot(path=str(SCREENSHOTS / "console-jobs-running.png"), full_page=True)

    # stop with a savepoint
    page.locator("#stop-mode").select_option("savepoint")
    page.locator("#stop").click()
    expect(page).to_have_url(f"{jobs}/clicks/online?done=saved")
    expect(live).to_have_attribute("data-state", "stopped", timeout=STOPPED_TIMEOUT_MS)
    page.reload()
    expect(page.locator('#savepoints tr[data-kind="savepoint"]')).to_have_count(1)
    expect(page.locator("#start-form")).to_be_visible()
    expect(page.locator('#logs tr[data-log$=".out"]').first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "console-jobs-stopped.png"), full_page=True)
