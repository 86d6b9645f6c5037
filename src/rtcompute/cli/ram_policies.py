"""`rtc ram policies` (with versions and validation) and `rtc ram roles`.

Documents come from files (`-` for stdin), never from arguments: a policy is JSON with quotes
and newlines that a shell mangles. The server validates them; the CLI only reads the file, so the
messages (statement index and element) are the same as in the console and the API.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import pydantic
import typer

from rtcompute import client
from rtcompute.cli import commands, output
from rtcompute.cli import ram_users as users

# a definite "no" for scripts, apart from 1 (an error) and 2 (a usage mistake): a deny from the
# simulator, an invalid document from `validate`
EXIT_NO = 3
Answer = TypeVar("Answer")


class PolicyType(enum.StrEnum):
    System = "System"
    Custom = "Custom"


ProfileOption = commands.ProfileOption
PolicyName = Annotated[str, typer.Argument(help="The policy's name.")]
RoleName = Annotated[str, typer.Argument(help="The role's name.")]
TypeLookup = Annotated[
    PolicyType | None,
    typer.Option(
        "--type", help="System or Custom; default: the custom policy, else the system one."
    ),
]
DocumentFile = Annotated[
    str,
    typer.Option(
        "--document-file", "-f", help="The policy document, a JSON file; '-' reads stdin."
    ),
]
Description = Annotated[str, typer.Option(help="What it is for (optional).")]
POLICY_COLUMNS = ("name", "policy_type", "default_version", "description", "updated_at")
VERSION_COLUMNS = ("version_id", "is_default", "created_at")
ENTITY_COLUMNS = ("kind", "name", "attached_at")
PROBLEM_COLUMNS = ("statement", "element", "message")
ROLE_COLUMNS = ("name", "description", "created_at", "updated_at")

policies_app = typer.Typer(
    help="Permission policies: the shipped system policies and your custom ones (5 versions).",
    no_args_is_help=True,
)
roles_app = typer.Typer(
    help="RAM roles: the trust policy says who may assume one; attached policies what it may do.",
    no_args_is_help=True,
)


def read_document(path: str, option: str) -> str:
    """The text of a document file (or stdin for '-'); a bad file is a usage error."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise commands.usage(f"no such file: {path}", option) from None
    except UnicodeDecodeError:
        raise commands.usage(f"{path} is not UTF-8 text", option) from None
    except OSError as exc:
        raise commands.usage(f"cannot read {path}: {exc.strerror}", option) from None
    if not text.strip():
        raise commands.usage(f"{'stdin' if path == '-' else path} is empty", option)
    return text


def show_document(fmt: output.Format, data: pydantic.BaseModel, key: str) -> None:
    """Fields as a table, then the document `key` as written (JSON output keeps it in the
    object)."""
    if fmt is output.Format.json:
        output.emit(data, fmt)
        return
    fields = output.fields(data)
    output.emit({k: v for k, v in fields.items() if k != key}, fmt)
    typer.echo(fields[key].rstrip("\n"))


def by_type(
    profile: str,
    send: Callable[[client.Client, str], Answer],
    policy_type: PolicyType | None,
) -> Answer:
    """`send(api, type)` for a policy; without a type, the custom policy and else the system
    one."""
    with commands.connect(profile) as api:
        try:
            if policy_type is not None:
                return send(api, policy_type.value)
            try:
                return send(api, PolicyType.Custom.value)
            except client.ApiError as custom_error:
                if custom_error.status != 404:
                    raise
                try:
                    return send(api, PolicyType.System.value)
                except client.ApiError as system_error:
                    raise (custom_error if system_error.status == 404 else system_error) from None
        except client.ApiError as exc:
            raise output.fail(exc) from None


@policies_app.command("list")
def policies_list(
    policy_type: Annotated[
        PolicyType | None, typer.Option("--type", help="Only System or only Custom policies.")
    ] = None,
    limit: users.Limit = 100,
    offset: users.Offset = 0,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the system policies, then your custom policies."""
    kind = policy_type.value if policy_type else None
    page = commands.call(
        profile, lambda api: api.list_ram_policies(kind, limit=limit, offset=offset)
    )
    users.emit_page(page, page.policies, page.total, fmt, POLICY_COLUMNS, offset)


@policies_app.command("create")
def policies_create(
    name: Annotated[
        str,
        typer.Argument(help="1-128 letters, digits, '.', '_', '@', '-'; unique in the account."),
    ],
    document_file: DocumentFile,
    description: Description = "",
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create a custom policy; its document becomes version v1, the default."""
    document = read_document(document_file, "--document-file")
    policy = commands.call(
        profile, lambda api: api.create_ram_policy(name, document, description=description)
    )
    show_document(fmt, policy, "document")


@policies_app.command("show")
def policies_show(
    name: PolicyName,
    policy_type: TypeLookup = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Show a policy with the document of its default version."""
    policy = by_type(profile, lambda api, kind: api.get_ram_policy(kind, name), policy_type)
    show_document(fmt, policy, "document")


@policies_app.command("delete")
def policies_delete(
    name: PolicyName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete a custom policy that is attached nowhere (detach it first)."""
    commands.call(profile, lambda api: api.delete_ram_policy(name))
    output.emit({"deleted": name}, fmt)


@policies_app.command("validate")
def policies_validate(
    document_file: DocumentFile,
    trust: Annotated[
        bool, typer.Option(help="Check it as a role's trust policy instead of a permission one.")
    ] = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Check a document without saving it; exit status 0 when valid, 3 when it has problems."""
    document = read_document(document_file, "--document-file")
    result = commands.call(profile, lambda api: api.validate_ram_policy(document, trust=trust))
    if fmt is output.Format.json:
        output.emit(result, fmt)
    elif result.valid:
        output.console.print("valid")
    else:
        output.emit(result.problems, fmt, PROBLEM_COLUMNS, title="problems")
    if not result.valid:
        raise typer.Exit(EXIT_NO)


@policies_app.command("versions")
def policies_versions(
    name: PolicyName,
    policy_type: TypeLookup = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List a policy's versions (`-o json` includes each version's document)."""
    versions = by_type(
        profile, lambda api, kind: api.list_ram_policy_versions(kind, name), policy_type
    )
    output.emit(versions, fmt, VERSION_COLUMNS)


@policies_app.command("add-version")
def policies_add_version(
    name: PolicyName,
    document_file: DocumentFile,
    set_default: Annotated[
        bool, typer.Option(help="Make it the default version (the one in force) at once.")
    ] = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Add a version to a custom policy (at most 5: delete an old one first)."""
    document = read_document(document_file, "--document-file")
    version = commands.call(
        profile,
        lambda api: api.create_ram_policy_version(name, document, set_as_default=set_default),
    )
    show_document(fmt, version, "document")


@policies_app.command("set-default")
def policies_set_default(
    name: PolicyName,
    version: Annotated[str, typer.Argument(help="The version id, e.g. v2.")],
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Make a version the one in force; every holder of the policy gets it at once."""
    commands.call(profile, lambda api: api.set_ram_policy_default_version(name, version))
    output.emit({"policy": name, "default_version": version}, fmt)


@policies_app.command("delete-version")
def policies_delete_version(
    name: PolicyName,
    version: Annotated[str, typer.Argument(help="The version id, e.g. v1; not the default.")],
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete a version that is not the default."""
    commands.call(profile, lambda api: api.delete_ram_policy_version(name, version))
    output.emit({"policy": name, "deleted_version": version}, fmt)


@policies_app.command("attachments")
def policies_attachments(
    name: PolicyName,
    policy_type: TypeLookup = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the users, groups and roles a policy is attached to."""
    entities = by_type(
        profile, lambda api, kind: api.list_ram_policy_attachments(kind, name), policy_type
    )
    output.emit(entities, fmt, ENTITY_COLUMNS)


TrustPolicyFile = Annotated[
    str | None,
    typer.Option(help="The trust policy, a JSON file; '-' reads stdin."),
]


@roles_app.command("list")
def roles_list(
    limit: users.Limit = 100,
    offset: users.Offset = 0,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the roles of your account."""
    page = commands.call(profile, lambda api: api.list_ram_roles(limit=limit, offset=offset))
    users.emit_page(page, page.roles, page.total, fmt, ROLE_COLUMNS, offset)


@roles_app.command("create")
def roles_create(
    name: Annotated[
        str,
        typer.Argument(help="1-128 letters, digits, '.', '_', '@', '-'; unique in the account."),
    ],
    description: Description = "",
    trust_policy_file: Annotated[
        str | None,
        typer.Option(
            help="The trust policy, a JSON file ('-' reads stdin); "
            "default: any identity of your account may assume the role."
        ),
    ] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create a role."""
    trust = read_document(trust_policy_file, "--trust-policy-file") if trust_policy_file else None
    role = commands.call(
        profile, lambda api: api.create_ram_role(name, description=description, trust_policy=trust)
    )
    show_document(fmt, role, "trust_policy")


@roles_app.command("show")
def roles_show(
    name: RoleName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Show a role with its trust policy (`rtc ram attached --role` lists its policies)."""
    show_document(fmt, commands.call(profile, lambda api: api.get_ram_role(name)), "trust_policy")


@roles_app.command("update")
def roles_update(
    name: RoleName,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    trust_policy_file: TrustPolicyFile = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Change a role's description or trust policy."""
    if description is None and trust_policy_file is None:
        raise commands.usage("nothing to change: give --description or --trust-policy-file")
    trust = read_document(trust_policy_file, "--trust-policy-file") if trust_policy_file else None
    role = commands.call(
        profile, lambda api: api.update_ram_role(name, description=description, trust_policy=trust)
    )
    show_document(fmt, role, "trust_policy")


@roles_app.command("delete")
def roles_delete(
    name: RoleName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete a role (the service role: `rtc ram service-role reinitialize`)."""
    commands.call(profile, lambda api: api.delete_ram_role(name))
    output.emit({"deleted": name}, fmt)
