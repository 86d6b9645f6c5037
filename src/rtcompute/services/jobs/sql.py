"""Syntax check and explain of a project's SQL on an engine version of its cluster (or of
the shared pool for a shared project), through a warm engine worker.

The version defaults to the target's current one; a version that is not installed there
gets the guide's 30006 error, as the guide's syntax check does. A project's check obeys the
same isolation rules as a job's (`checked`): the locations of the text first, then what
Flink resolved, judged by services/jobs/paths.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rtcompute import errors
from rtcompute.domain import engines as engine_rules
from rtcompute.domain import names, sqlscript, text
from rtcompute.services.capacity import projects
from rtcompute.services.engines import versions as engine_versions
from rtcompute.services.jobs import paths as job_paths
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import clusters as cluster_store
from rtcompute.store import db

MAX_SQL_CHARS = 256 * 1024


@dataclass(frozen=True)
class SqlCheck:
    engine_version: str
    result: sqlscript.CheckResult


def _missing(version: str) -> errors.Conflict:
    """30006, naming the script below the engines' home (not the server's path to it)."""
    return engine_rules.version_missing(version, f"{version}/bin/flink")


def engine_for(
    platform: platform_module.Platform, account_id: str, project: str, version: str | None
) -> str:
    """The version a check of the project's SQL runs on; 30006 when it is not installed."""
    if version is not None and not names.ENGINE_VERSION.fits(version):
        raise errors.Invalid(
            "engine_version reads flink-<major>.<minor>.<patch>, e.g. flink-2.2.1",
            "引擎版本须写成 flink-<主版本>.<次版本>.<补丁版本>，例如 flink-2.2.1",
            code="InvalidParameter.EngineVersion",
        )
    with db.transaction(platform.sessions) as session:
        found = projects.find(session, account_id, project)
        cluster = (
            cluster_store.read_cluster(session=session, cluster_id=found.cluster_id)
            if found.cluster_id
            else None
        )
        target = engine_versions.target_of(cluster)
        chosen = version or engine_versions.current_version(session, target)
        if chosen is None:
            guide = engine_rules.script_missing("(none)", "(none)")
            raise errors.Conflict(
                f"no engine version is installed on {target.label}: install one first ({guide})",
                f"{target.label_zh}未安装任何引擎版本，请先安装一个（{guide}）",
                code=engine_rules.SCRIPT_MISSING_CODE,
            )
        if not engine_versions.is_installed(session, target, chosen):
            raise _missing(chosen)
        return chosen


def too_long_sql() -> errors.Invalid:
    return errors.Invalid(
        f"sql: at most {MAX_SQL_CHARS} characters",
        f"SQL 脚本最多 {MAX_SQL_CHARS} 个字符",
        code="InvalidParameter.Sql",
    )


def _sql(sql: str) -> str:
    if not text.is_storable(sql) or not sql.strip():
        raise errors.Invalid(
            "sql must be a non-empty SQL script",
            "请输入非空的 SQL 脚本",
            code="InvalidParameter.Sql",
        )
    if len(sql) > MAX_SQL_CHARS:
        raise too_long_sql()
    return sql


def check(
    platform: platform_module.Platform,
    principal: principals.Principal,
    project: str,
    sql: str,
    *,
    engine_version: str | None = None,
    explain: bool = False,
) -> SqlCheck:
    """Validate (or explain) the script; SQL errors are a result, not an exception."""
    script = _sql(sql)
    version = engine_for(platform, principal.account_id, project, engine_version)
    with db.transaction(platform.sessions) as session:
        region = projects.find(session, principal.account_id, project).region
    return checked(platform, principal.account_id, region, version, script, explain=explain)


def checked(
    platform: platform_module.Platform,
    account_id: str,
    region: str,
    version: str,
    script: str,
    *,
    explain: bool = False,
    jars: tuple[str, ...] = (),
    problems: tuple[sqlscript.Problem, ...] = (),
) -> SqlCheck:
    """The isolation rules on the text (with `problems` found before), Flink's check, then
    the rules on what Flink resolved; a failed rule is a problem of the result."""
    statements = sqlscript.split(script)
    with db.transaction(platform.sessions) as session:
        found = job_paths.resolve(
            platform, session, account_id=account_id, region=region, statements=statements
        )
    problems = problems + found.problems
    if problems:
        ordered = tuple(sorted(problems, key=lambda p: (p.line, p.column)))
        return SqlCheck(version, sqlscript.CheckResult(False, ordered, "", 0.0, ""))
    result = check_script(
        platform, version, script, explain=explain, jars=jars, account=account_id
    ).result
    if not statements:
        return SqlCheck(version, result)
    with db.transaction(platform.sessions) as session:
        refused = job_paths.judge(
            platform,
            session,
            account_id=account_id,
            region=region,
            statements=statements,
            resolved=result.resolved,
        )
    if refused:
        problems = tuple(sorted(result.problems + refused, key=lambda p: (p.line, p.column)))
        result = dataclasses.replace(result, ok=False, problems=problems, plan="")
    return SqlCheck(version, result)


def check_script(
    platform: platform_module.Platform,
    version: str,
    script: str,
    *,
    explain: bool = False,
    jars: tuple[str, ...] = (),
    account: str = "",
) -> SqlCheck:
    """Run the check on the version's warm worker (the version is known to be installed);
    with `jars`, in an isolated worker that loads them, in `account`'s sandbox."""
    if platform.sql_engine is None:
        raise errors.Unavailable(
            "engine workers are not running in this server process, so SQL cannot be checked "
            "here; ask the operator",
            "此服务进程未运行引擎，无法检查 SQL；请联系运维人员",
            code="EngineWorkersDisabled",
        )
    run = platform.sql_engine.explain if explain else platform.sql_engine.validate
    return SqlCheck(version, run(version, script, jars, account))
