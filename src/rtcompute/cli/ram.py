"""`rtc ram`: users, groups, policies, roles, attachments, the simulator and the service role.

The sub-apps live in `ram_users` and `ram_policies`; this module assembles them and holds the
commands that cut across them. `simulate` (and `policies validate`) exit with status 3 for a
definite "no", so a script can tell a deny from an error (1) or a usage mistake (2).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rtcompute.cli import commands, output, ram_policies, ram_users
from rtcompute.client import schemas

ProfileOption = commands.ProfileOption
EXIT_DENIED = ram_policies.EXIT_NO
REINITIALIZE_WARNING = (
    "Re-initializing deletes the service role StreamDefaultRole and its policy StreamRolePolicy: "
    "running jobs lose access to external storage until the role is authorized again "
    "(`rtc ram service-role authorize`)."
)

ram_app = typer.Typer(
    help="Resource Access Management: RAM users, groups, policies, roles, the service role.",
    no_args_is_help=True,
)
ram_app.add_typer(ram_users.users_app, name="users")
ram_app.add_typer(ram_users.groups_app, name="groups")
ram_app.add_typer(ram_policies.policies_app, name="policies")
ram_app.add_typer(ram_policies.roles_app, name="roles")
service_role_app = typer.Typer(
    help="The service role StreamDefaultRole: the stream service acts for you only through it.",
    no_args_is_help=True,
)
ram_app.add_typer(service_role_app, name="service-role")

UserHolder = Annotated[str | None, typer.Option("--user", help="A RAM user's name.")]
GroupHolder = Annotated[str | None, typer.Option("--group", help="A group's name.")]
RoleHolder = Annotated[str | None, typer.Option("--role", help="A role's name.")]
PolicyName = Annotated[str, typer.Argument(help="The policy's name.")]
AttachType = Annotated[
    ram_policies.PolicyType,
    typer.Option("--type", help="System or Custom; default Custom (your own policies)."),
]
ATTACHMENT_COLUMNS = ("policy_type", "policy_name", "description", "attached_at")


def holder(user: str | None, group: str | None, role: str | None) -> tuple[str, str]:
    """The one identity named by --user, --group or --role, as (API path, name)."""
    given = {"users": user, "groups": group, "roles": role}
    chosen = [(path, name) for path, name in given.items() if name is not None]
    if len(chosen) != 1:
        raise commands.usage("give exactly one of --user, --group or --role")
    return chosen[0]


@ram_app.command("attach")
def attach(
    policy: PolicyName,
    user: UserHolder = None,
    group: GroupHolder = None,
    role: RoleHolder = None,
    policy_type: AttachType = ram_policies.PolicyType.Custom,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Attach a policy to a user, group or role (20 system + 10 custom each); it applies at once."""
    path, name = holder(user, group, role)
    commands.call(profile, lambda api: api.attach_ram_policy(path, name, policy_type.value, policy))
    output.emit({"attached": f"{policy_type.value} {policy}", "to": f"{path[:-1]} {name}"}, fmt)


@ram_app.command("detach")
def detach(
    policy: PolicyName,
    user: UserHolder = None,
    group: GroupHolder = None,
    role: RoleHolder = None,
    policy_type: AttachType = ram_policies.PolicyType.Custom,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Detach a policy from a user, group or role; the rights it gave end at once."""
    path, name = holder(user, group, role)
    commands.call(profile, lambda api: api.detach_ram_policy(path, name, policy_type.value, policy))
    output.emit({"detached": f"{policy_type.value} {policy}", "from": f"{path[:-1]} {name}"}, fmt)


@ram_app.command("attached")
def attached(
    user: UserHolder = None,
    group: GroupHolder = None,
    role: RoleHolder = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the policies attached directly to a user, group or role."""
    path, name = holder(user, group, role)
    found = commands.call(profile, lambda api: api.list_attached_ram_policies(path, name))
    output.emit(found, fmt, ATTACHMENT_COLUMNS)


def parse_context(pairs: list[str]) -> dict[str, str | list[str]]:
    """`key=value` pairs; a key given again adds a value (keys compare case-insensitively)."""
    values: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise commands.usage(
                f"{pair!r} is not key=value (e.g. acs:SourceIp=10.0.0.1)", "--context"
            )
        spelling.setdefault(key.lower(), key)
        values.setdefault(key.lower(), []).append(value)
    return {spelling[k]: v[0] if len(v) == 1 else v for k, v in values.items()}


@ram_app.command("simulate")
def simulate(
    action: Annotated[str, typer.Option(help="The action, e.g. stream:CreateProject.")],
    resource: Annotated[
        str, typer.Option(help="The resource, e.g. acs:stream:*:ACCOUNT_ID:myproject.")
    ],
    principal: Annotated[
        str | None,
        typer.Option(help="user/NAME, group/NAME or role/NAME: decide with the policies it holds."),
    ] = None,
    policy_file: Annotated[
        list[str] | None,
        typer.Option(
            help="Decide with this policy document instead (unsaved); repeat for several; "
            "'-' reads stdin."
        ),
    ] = None,
    context: Annotated[
        list[str] | None,
        typer.Option(
            help="A condition key of the request, key=value (e.g. acs:SourceIp=10.0.0.1, "
            "acs:MFAPresent=true); repeat a key to give several values."
        ),
    ] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Would a request be allowed? Allow, ImplicitDeny or ExplicitDeny, and which statement decided.

    Exit status 0 for Allow, 3 for either deny (1 for an error, 2 for a usage mistake).
    """
    if (principal is None) == (not policy_file):
        raise commands.usage("give either --principal or --policy-file (one or more)")
    conditions = parse_context(context or [])
    documents = (
        [ram_policies.read_document(path, "--policy-file") for path in policy_file]
        if policy_file
        else None
    )
    result = commands.call(
        profile,
        lambda api: api.simulate_ram(
            action, resource, principal=principal, policies=documents, context=conditions
        ),
    )
    if fmt is output.Format.json:
        output.emit(result, fmt)
    else:
        output.emit(_verdict_row(result, policy_file or []), fmt)
    if result.decision != "Allow":
        raise typer.Exit(EXIT_DENIED)


def _verdict_row(result: schemas.ram.SimulationResult, files: list[str]) -> dict[str, Any]:
    """The decision for people; an inline policy is named by its file."""
    name, kind = result.policy_name, result.policy_type
    if name is None:
        return {"decision": result.decision, "policy": "none: no statement allows it"}
    policy = f"{kind} policy {name}"
    index = name.removeprefix("policy[").removesuffix("]")
    if kind == "Inline" and index.isascii() and index.isdigit() and int(index) < len(files):
        policy = f"{name} from {files[int(index)]}"
    return {"decision": result.decision, "policy": policy, "statement": result.statement}


def _service_role(fmt: output.Format, status: schemas.ram.ServiceRole) -> None:
    if fmt is output.Format.json:
        output.emit(status, fmt)
        return
    row = {k: v for k, v in output.fields(status).items() if k != "policy_document"}
    row["missing_for_cluster_creation"] = (
        ", ".join(status.missing_for_cluster_creation) or "nothing"
    )
    row["missing_for_clusters"] = ", ".join(status.missing_for_clusters) or "nothing"
    output.emit(row, fmt)
    if status.authorized:
        output.console.print(f"policy {status.policy}, as in force:")
        typer.echo(status.policy_document)
    else:
        output.console.print("not authorized: agree with `rtc ram service-role authorize`")


@service_role_app.command("show")
def service_role_show(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """Whether the service may act for your account, and the role's policy as in force."""
    _service_role(fmt, commands.call(profile, lambda api: api.get_service_role()))


@service_role_app.command("authorize")
def service_role_authorize(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """Agree: create StreamDefaultRole and its policy StreamRolePolicy (again: re-check)."""
    _service_role(fmt, commands.call(profile, lambda api: api.authorize_service_role()))


@service_role_app.command("reinitialize")
def service_role_reinitialize(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete the service role and its policy, to authorize it afresh."""
    output.err_console.print(REINITIALIZE_WARNING, markup=False)
    if not yes:
        typer.confirm("Re-initialize the service role?", abort=True)
    _service_role(fmt, commands.call(profile, lambda api: api.reinitialize_service_role()))


@ram_app.command("overview")
def overview(
    profile: ProfileOption = "default", fmt: output.OutputOption = output.Format.table
) -> None:
    """The login URL of your RAM users, and how many users, groups, roles, policies vs limits."""
    summary = commands.call(profile, lambda api: api.ram_overview())
    if fmt is output.Format.json:
        output.emit(summary, fmt)
        return
    limits = summary.limits
    counted = {
        "users": summary.users,
        "groups": summary.groups,
        "roles": summary.roles,
        "custom_policies": summary.custom_policies,
    }
    output.emit(
        {
            "account": summary.account_alias,
            "account_id": summary.account_id,
            "login_url": summary.login_url,
            **{key: f"{count} of {limits[key]}" for key, count in counted.items()},
        },
        fmt,
    )
    other = [{"limit": k, "value": v} for k, v in limits.items() if k not in counted]
    output.emit(other, fmt, ("limit", "value"), title="other limits")
