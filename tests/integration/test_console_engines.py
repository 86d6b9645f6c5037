"""The engine-version console over the real app and database (both): guide ch. 7 版本管理.

The catalog shows tags with their meaning and flags retired versions; a cluster's version
management installs (the cluster shows "Deploying version" and the page polls), sets current
and uninstalls through forms with the CSRF token, and every refusal shows the guide's own
message on the page, in English and in Chinese. No reconciler runs here: the test plays the
engine reconciler's part through its services (copy progress, copy ready, deployments
finished); the browser test drives real installs.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from rtcompute.domain import jobs as job_rules
from rtcompute.domain import sqlscript
from rtcompute.services.engines import catalog as engines
from rtcompute.services.engines import copies as engine_copies
from rtcompute.services.kernel import accounts
from rtcompute.services.kernel import platform as platform_module
from tests.conftest import PASSWORD
from tests.integration import test_engines_api
from tests.integration.test_console import signin_via_form
from tests.integration.test_console_capacity import ZH, post, seed_everything
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    cluster_running,
    create_policy,
    ok,
)

HOST = "local"
V2, V1, BETA, OLD = "flink-2.2.1", "flink-1.20.5", "flink-2.3.0", "flink-2.2.0"
PAGE = "/console/clusters/stream1/versions"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"bootstrap_password": PASSWORD}


@pytest.fixture
def owner(api: TestClient) -> Owner:
    return account(api, "acme")


@pytest.fixture
def token(api: TestClient, owner: Owner) -> str:
    return signin_via_form(api, owner.alias)


def text(response: Any) -> str:
    return html.unescape(response.text)


@pytest.fixture
def cluster(api: TestClient, owner: Owner, token: str, platform: platform_module.Platform) -> str:
    """A running exclusive cluster `stream1` of acme (and a shared project `analytics`)."""
    seed_everything(api, owner, token, platform)
    cluster_running(platform, "stream1")
    return "stream1"


def progress(platform: platform_module.Platform, version: str, percent: int) -> None:
    """The engine reconciler started the machine copy and reports a phase."""
    engine_copies.start_copy(platform, HOST, version, f"/engines/{version}")
    engine_copies.record_progress(platform, HOST, version, "installing packages", percent)


def installed(platform: platform_module.Platform, version: str) -> None:
    """The engine reconciler verified the copy: its deployments are installed."""
    engine_copies.copy_ready(
        platform, HOST, version, path=f"/engines/{version}", size_bytes=1, source="wheelhouse"
    )
    assert engine_copies.finish_deployments(platform, HOST)


def install(api: TestClient, token: str, version: str, **data: str) -> Any:
    return post(api, f"{PAGE}/{version}/install", token, **data)


def refused(response: Any, status: int, code: str, message: str) -> str:
    """A refusal shown on the page: status, code, and the service's message verbatim."""
    assert response.status_code == status, response.text[:500]
    page = text(response)
    assert f'data-refused="{code}"' in page, page[:2000]
    assert message in page, page[:2000]
    return page


def row_of(page: str, version: str) -> str:
    start = page.index(f'<tr data-version="{version}"')
    return page[start : page.index("</tr>", start)]


def online_job(platform: platform_module.Platform, project: str, job: str, version: str) -> None:
    """An online job of the project pinning `version`, made through the job services."""
    test_engines_api.add_job(platform, project, job, version, job_rules.ONLINE)


def test_catalog_page_shows_tags_meanings_and_retired_versions(
    api: TestClient, token: str, platform: platform_module.Platform
) -> None:
    # the operator adds an old version whose end of service has passed
    old_release = platform.now().date() - timedelta(days=500)
    engines.update_entry(
        platform,
        "flink-1.19.3",
        tag="none",
        released_on=old_release,
        end_of_service=None,
        notes="an old line",
        listed=True,
    )
    test_engines_api.in_service(platform, V2)
    page = api.get("/console/engines")
    assert page.status_code == 200
    body = text(page)
    for version in (V2, V1, BETA, OLD, "flink-1.19.3"):
        assert f'<tr data-version="{version}"' in body
    assert 'data-tag="stable"' in row_of(body, V2) and "data-default" in row_of(body, V2)
    assert 'data-tag="beta"' in row_of(body, BETA)
    assert "quality and stability are not guaranteed" in row_of(body, BETA)  # the tooltip
    assert 'data-tag="none"' in row_of(body, OLD)
    old = row_of(body, "flink-1.19.3")
    assert "data-retired" in old and str(old_release + timedelta(days=365)) in old
    assert "Retired" in old
    assert "data-retired" not in row_of(body, V2)
    assert 'id="tag-legend"' in body
    assert 'href="/console/engines" class="active"' in page.text  # the navigation's section
    zh = text(api.get("/console/engines", headers=ZH))
    assert "引擎版本" in zh and "已停止服务" in zh and "稳定版本，推荐使用" in zh
    # the placeholder's address leads here
    old_address = api.get("/console/engine-versions", follow_redirects=False)
    assert (old_address.status_code, old_address.headers["location"]) == (303, "/console/engines")


def test_version_management_of_a_cluster(
    api: TestClient, owner: Owner, token: str, cluster: str, platform: platform_module.Platform
) -> None:
    page = text(api.get(f"/console/clusters/{cluster}"))
    assert f'href="{PAGE}"' in page and "Version management" in page
    first = text(api.get(PAGE))
    assert 'data-tab="installable"' in first  # nothing installed yet
    assert 'data-cluster-state="running"' in first and "hx-get" not in first
    assert f"{PAGE}/{V2}/install" in first and 'name="confirm_beta"' in row_of(first, BETA)
    assert 'name="confirm_beta"' not in row_of(first, V2)

    # no CSRF token: nothing happens
    forged = api.post(f"{PAGE}/{V2}/install", data={}, follow_redirects=False)
    assert forged.status_code == 403 and "CsrfFailed" in forged.text
    assert 'data-installing="false"' in api.get(PAGE).text

    started = install(api, token, V2)
    assert started.status_code == 303, started.text
    assert started.headers["location"] == f"{PAGE}?tab=installed&done=installing"
    progress(platform, V2, 40)
    deploying = text(api.get(started.headers["location"]))
    assert 'data-cluster-state="deploying"' in deploying and "Deploying version" in deploying
    assert f'hx-get="{PAGE}/live?tab=installed"' in deploying  # the page follows the install
    assert f'data-installing-version="{V2}"' in deploying and 'value="40"' in deploying
    assert 'data-version-state="installing"' in row_of(deploying, V2)
    assert "版本部署中" in text(api.get(PAGE, headers=ZH))
    assert 'data-cluster-state="deploying"' in api.get(f"/console/clusters/{cluster}").text
    live = text(api.get(f"{PAGE}/live?tab=installed"))
    assert live.startswith('<div id="versions-live"') and "hx-get" in live
    # one install at a time
    refused(install(api, token, V1), 409, "VersionDeploying", "one install at a time")

    installed(platform, V2)
    done = text(api.get(f"{PAGE}/live?tab=installed"))
    assert 'data-cluster-state="running"' in done and "hx-get" not in done  # polling stops
    row = row_of(done, V2)
    assert 'data-version-state="installed"' in row and "data-current-flag" in row  # the first
    again = refused(
        install(api, token, V2), 409, "VersionAlreadyInstalled", f"{V2} already installed"
    )
    assert 'data-tab="installable"' in again

    # beta asks for an explicit confirmation
    refused(install(api, token, BETA), 400, "BetaNotConfirmed", f"{BETA} is a beta version")
    assert install(api, token, BETA, confirm_beta="true").status_code == 303
    installed(platform, BETA)
    assert install(api, token, V1).status_code == 303
    installed(platform, V1)
    full = text(api.get(f"{PAGE}?tab=installed"))
    assert "(3/3)" in full and "data-held>3 / 3<" in full
    assert "设置为current" in text(api.get(f"{PAGE}?tab=installed", headers=ZH))
    # a full cluster offers no install that would be refused: disabled, with the reason
    installable = text(api.get(f"{PAGE}?tab=installable"))
    assert "data-install-blocked" in installable
    assert "At most 3 versions can be installed: uninstall one first." in installable
    assert '<button type="submit" disabled aria-describedby="install-why">' in row_of(
        installable, OLD
    )
    zh_installable = text(api.get(f"{PAGE}?tab=installable", headers=ZH))
    assert "最多安装 3 个版本：请先卸载一个。" in zh_installable
    refused(
        install(api, token, OLD),
        409,
        "VersionLimitExceeded",
        "Flink versions exceeded max limitation:3",
    )
    limit = api.post(f"{PAGE}/{OLD}/install", data={"csrf_token": token}, headers=ZH)
    refused(
        limit,
        409,
        "VersionLimitExceeded",
        "引擎版本已达上限 3 个，请先卸载一个（Flink versions exceeded max limitation:3）",
    )

    # set as current
    switched = post(api, f"{PAGE}/{V1}/current", token)
    assert switched.headers["location"] == f"{PAGE}?tab=installed&done=current"
    after = text(api.get(switched.headers["location"]))
    assert "data-current-flag" in row_of(after, V1) and "data-current-flag" not in row_of(after, V2)
    assert f"data-current-version>{V1}<" in after
    assert f"{PAGE}/{V1}/current" not in after and f"{PAGE}/{V2}/current" in after
    # the current version's Uninstall is disabled with the reason; the others' are not
    assert "data-uninstall-blocked" in row_of(after, V1)
    assert f"{PAGE}/{V1}/uninstall" not in after and f"{PAGE}/{V2}/uninstall" in after
    assert "data-uninstall-blocked" not in row_of(after, V2)

    # the current version, and a version an online job references, are not uninstalled
    current = post(api, f"{PAGE}/{V1}/uninstall", token)
    refused(current, 409, "VersionIsCurrent", f"{V1} is the current version")
    zh = api.post(f"{PAGE}/{V1}/uninstall", data={"csrf_token": token}, headers=ZH)
    page = refused(
        zh, 409, "VersionIsCurrent", f"{V1} 是当前版本，不能卸载，请先将另一个版本设为 current"
    )
    assert "is the current version" not in page  # no English sentence beside the Chinese one
    ok(
        api.post(
            f"{API}/projects",
            headers=owner.headers,
            json={"name": "inside", "cluster": cluster, "cu": 2},
        ),
        201,
    )
    online_job(platform, "inside", "etl_job", V2)
    in_use = post(api, f"{PAGE}/{V2}/uninstall", token)
    refused(
        in_use, 409, "VersionInUse", f"Node:etl_job in project:inside still ref the version:{V2}"
    )
    zh = api.post(f"{PAGE}/{V2}/uninstall", data={"csrf_token": token}, headers=ZH)
    refused(  # the guide's message stays inside the Chinese sentence, to search the guide
        zh,
        409,
        "VersionInUse",
        "项目 inside 中的作业 etl_job 仍在使用该引擎版本，请先将作业下线"
        f"（Node:etl_job in project:inside still ref the version:{V2}）",
    )

    # uninstall one: gone from the installed tab, installable again
    gone = post(api, f"{PAGE}/{BETA}/uninstall", token)
    assert gone.headers["location"] == f"{PAGE}?tab=installed&done=uninstalled"
    left = text(api.get(gone.headers["location"]))
    assert f'<tr data-version="{BETA}"' not in left and "Uninstalled." in left
    assert f'<tr data-version="{BETA}"' in text(api.get(f"{PAGE}?tab=installable"))
    missing = post(api, f"{PAGE}/{BETA}/uninstall", token)
    refused(missing, 404, "VersionNotInstalled", f"{BETA} is not installed")
    unknown = install(api, token, "flink-9.9.9")
    refused(unknown, 404, "EngineVersionNotFound", "is not in the catalog")
    assert 'href="/console/engines"' in unknown.text


def test_a_failed_install_is_shown_and_the_cluster_runs_on(
    api: TestClient, token: str, cluster: str, platform: platform_module.Platform
) -> None:
    assert install(api, token, V2).status_code == 303
    engine_copies.copy_failed(platform, HOST, V2, "pip could not find apache-flink==2.2.1")
    page = text(api.get(f"{PAGE}?tab=installed"))
    assert 'data-cluster-state="running"' in page and "hx-get" not in page
    row = row_of(page, V2)
    assert 'data-version-state="failed"' in row
    # the tenant is told it failed and whom to ask, not the operator's package setup
    assert "flink-2.2.1 could not be installed on this installation (the operator has" in row
    assert "pip" not in row and "apache-flink" not in row and "WHEELHOUSE" not in row
    # a failed version may be installed again
    assert f"{PAGE}/{V2}/install" in text(api.get(f"{PAGE}?tab=installable"))


def test_a_cluster_that_is_not_running_refuses_installs(
    api: TestClient, owner: Owner, token: str, platform: platform_module.Platform
) -> None:
    seed_everything(api, owner, token, platform)  # stream1 stays starting
    page = refused(
        install(api, token, V2),
        409,
        "ClusterNotRunning",
        "versions are installed on a running cluster",
    )
    assert 'data-cluster-state="starting"' in page
    zh = api.post(f"{PAGE}/{V2}/install", data={"csrf_token": token}, headers=ZH)
    assert "版本只能安装在运行中的集群上" in text(zh)
    missing = api.get("/console/clusters/nothere/versions")
    assert missing.status_code == 404


def test_pool_versions_are_the_operators(
    api: TestClient, platform: platform_module.Platform
) -> None:
    assert accounts.bootstrap(platform) is not None  # the operator account, first
    token = signin_via_form(api, account(api, "acme").alias)
    # a tenant sees the pool's versions, without buttons, and cannot change them
    page = text(api.get("/console/pool/versions"))
    assert "Version management: shared pool" in page
    assert "/console/pool/versions/" not in page.replace("/console/pool/versions/live", "")
    assert 'href="/console/pool/versions"' not in page  # not in a tenant's navigation
    tenant = post(api, f"/console/pool/versions/{V2}/install", token)
    assert tenant.status_code == 403 and "Forbidden.RAM" in tenant.text
    api.cookies.clear()

    operator = signin_via_form(api, "operator")
    pool = text(api.get("/console/pool/versions"))
    assert 'href="/console/pool/versions"' in pool  # the operator's navigation
    assert "/console/pool/versions/flink-2.2.1/install" in pool
    started = post(api, f"/console/pool/versions/{V2}/install", operator)
    assert started.headers["location"] == "/console/pool/versions?tab=installed&done=installing"
    deploying = text(api.get(started.headers["location"]))
    assert 'data-state="deploying"' in deploying and "hx-get" in deploying
    installed(platform, V2)
    assert install_pool(api, operator, V1).status_code == 303
    installed(platform, V1)
    post(api, f"/console/pool/versions/{V1}/current", operator)
    current = post(api, f"/console/pool/versions/{V1}/uninstall", operator)
    refused(current, 409, "VersionIsCurrent", f"{V1} is the current version")
    gone = post(api, f"/console/pool/versions/{V2}/uninstall", operator)
    assert gone.headers["location"].endswith("done=uninstalled")
    assert f'<tr data-version="{V2}"' not in text(api.get(gone.headers["location"]))


def install_pool(api: TestClient, token: str, version: str) -> Any:
    return post(api, f"/console/pool/versions/{version}/install", token)


def test_a_ram_user_may_list_but_not_install_without_the_action(
    api: TestClient, owner: Owner, cluster: str
) -> None:
    create_policy(api, owner, "ListOnly", allow(["stream:List*", "stream:DescribeCatalog"]))
    user = {"name": "dev", "password": PASSWORD, "console_enabled": True}
    ok(api.post(f"{API}/ram/users", headers=owner.headers, json=user), 201)
    dev = signin_via_form(api, "acme", user="dev")
    assert api.get(PAGE).status_code == 403  # no policy yet
    ok(api.put(f"{API}/ram/users/dev/policies/Custom/ListOnly", headers=owner.headers), 204)
    dev = signin_via_form(api, "acme", user="dev")
    assert api.get(PAGE).status_code == 200
    assert api.get("/console/engines").status_code == 200
    for action, path in (
        ("stream:InstallEngineVersion", f"{PAGE}/{V2}/install"),
        ("stream:SwitchEngineVersion", f"{PAGE}/{V2}/current"),
        ("stream:UninstallEngineVersion", f"{PAGE}/{V2}/uninstall"),
    ):
        response = post(api, path, dev)
        assert response.status_code == 403, (path, response.text[:300])
        assert "Forbidden.RAM" in response.text and action in response.text
    assert ok(api.get(f"{API}/clusters/{cluster}/versions", headers=owner.headers)) == []
    # the action on one version only: that version, nothing else
    create_policy(
        api,
        owner,
        "OneVersion",
        allow("stream:InstallEngineVersion", f"acs:stream:*:*:cluster/{cluster}/version/{V1}"),
    )
    ok(api.put(f"{API}/ram/users/dev/policies/Custom/OneVersion", headers=owner.headers), 204)
    dev = signin_via_form(api, "acme", user="dev")
    assert post(api, f"{PAGE}/{V2}/install", dev).status_code == 403
    assert post(api, f"{PAGE}/{V1}/install", dev).status_code == 303
    assert [
        v["version"]
        for v in ok(api.get(f"{API}/clusters/{cluster}/versions", headers=owner.headers))
    ] == [V1]


def test_every_version_page_renders_in_both_languages(
    api: TestClient, token: str, cluster: str, platform: platform_module.Platform
) -> None:
    assert install(api, token, V2).status_code == 303
    installed(platform, V2)
    pages = {
        "/console/engines": ("Engine versions", "引擎版本"),
        f"{PAGE}?tab=installable": ("Installable versions", "可安装版本"),
        f"{PAGE}?tab=installed": ("Installed versions", "已安装版本"),
        f"{PAGE}/live?tab=installed": ("Uninstall", "卸载"),
        "/console/pool/versions": ("Version management: shared pool", "版本管理：共享资源池"),
    }
    for path, (english, chinese) in pages.items():
        page = api.get(path)
        assert page.status_code == 200, path
        assert english in text(page), path
        zh = api.get(path, headers=ZH)
        assert chinese in text(zh), path
        assert english not in text(zh), path
    assert "已安装版本" in text(api.get(PAGE, headers=ZH))
    assert "版本管理" in text(api.get(f"/console/clusters/{cluster}", headers=ZH))


# ---- the SQL syntax check page -------------------------------------------------------------

SCRIPT = "CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen');\nSELECT id FORM src;\n"


class RecordingEngine:
    """Stands in for the warm engine workers (runtime/engines/workers.py, tested on real
    engines by their own tests): answers with Flink's shape of result, records the calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def validate(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult:
        self.calls.append(("validate", version, sql))
        problem = sqlscript.Problem(2, 11, 'Encountered "FORM" at line 2, column 11.')
        return sqlscript.CheckResult(False, (problem,), "", 12.4, version.removeprefix("flink-"))

    def explain(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult:
        self.calls.append(("explain", version, sql))
        plan = "== Abstract Syntax Tree ==\nLogicalProject(id=[$0])"
        return sqlscript.CheckResult(True, (), plan, 20.0, version.removeprefix("flink-"))


def test_sql_check_page(
    api: TestClient,
    owner: Owner,
    token: str,
    cluster: str,
    platform: platform_module.Platform,
) -> None:
    body = {"name": "inside", "cluster": cluster, "cu": 2}
    ok(api.post(f"{API}/projects", headers=owner.headers, json=body), 201)
    sql_page = "/console/projects/inside/sql"
    empty = text(api.get(sql_page))
    assert "No version is installed" in empty and f'href="{PAGE}"' in empty
    # nothing installed on the project's cluster: the guide's 30006
    missing = post(api, f"{sql_page}/validate", token, sql=SCRIPT)
    page = refused(missing, 409, "30006", "engine script not exist, please check engine version")
    assert SCRIPT.strip() in page  # the script stays in the form

    assert install(api, token, V2).status_code == 303
    installed(platform, V2)
    form = text(api.get(sql_page))
    assert f'<option value="{V2}" selected>{V2} (current)</option>' in form
    disabled = post(api, f"{sql_page}/validate", token, sql=SCRIPT, engine_version=V2)
    refused(disabled, 503, "EngineWorkersDisabled", "engine workers are not running")

    engine = RecordingEngine()
    platform.sql_engine = engine
    checked = post(api, f"{sql_page}/validate", token, sql=SCRIPT, engine_version="")
    assert checked.status_code == 200, checked.text[:500]
    result = text(checked)
    assert 'data-ok="false"' in result and f'data-engine-version="{V2}"' in result
    assert '<tr data-line="2" data-column="11">' in result
    assert 'Encountered "FORM" at line 2, column 11.' in result
    assert engine.calls == [("validate", V2, SCRIPT)]  # the current version by default
    explained = text(post(api, f"{sql_page}/explain", token, sql=SCRIPT, engine_version=V2))
    assert 'data-ok="true"' in explained and "LogicalProject(id=[$0])" in explained
    assert engine.calls[-1][0] == "explain"
    zh = api.post(f"{sql_page}/validate", data={"csrf_token": token, "sql": SCRIPT}, headers=ZH)
    assert "Flink 在脚本中发现以下问题" in text(zh)

    # a version not installed there: 30006 naming it; no token: nothing runs
    other = post(api, f"{sql_page}/validate", token, sql=SCRIPT, engine_version=V1)
    refused(other, 409, "30006", f"engine version:[{V1}]")
    forged = api.post(f"{sql_page}/validate", data={"sql": SCRIPT}, follow_redirects=False)
    assert forged.status_code == 403 and "CsrfFailed" in forged.text
    assert len(engine.calls) == 3
    # a shared project checks on the shared pool
    assert "the shared pool" in text(api.get("/console/projects/analytics/sql"))
