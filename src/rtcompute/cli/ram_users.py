"""`rtc ram users` (with their access keys) and `rtc ram groups`.

Passwords come from standard input (`--password-stdin`) or a hidden prompt asked twice, never
from an argument: an argument ends up in shell history and in `ps` for every local user to see.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import pydantic
import typer

from rtcompute.cli import commands, output

ProfileOption = commands.ProfileOption
UserName = Annotated[str, typer.Argument(help="The RAM user's name.")]
GroupName = Annotated[str, typer.Argument(help="The group's name.")]
KeyId = Annotated[str, typer.Argument(help="The access key id (RTCAK...), from `list`.")]
Limit = Annotated[int, typer.Option(help="At most this many (1-1000).")]
Offset = Annotated[int, typer.Option(help="Skip this many first (for the next page).")]
PasswordStdin = Annotated[
    bool, typer.Option(help="Read the password from standard input instead of a prompt.")
]
DisplayName = Annotated[str, typer.Option(help="A name for people (optional).")]
Comment = Annotated[str, typer.Option(help="A note about it (optional).")]
NewName = Annotated[str | None, typer.Option(help="Rename it to this.")]
NewDisplayName = Annotated[str | None, typer.Option("--display-name", help="New display name.")]
NewComment = Annotated[str | None, typer.Option("--comment", help="New comment.")]

USER_COLUMNS = (
    "name",
    "display_name",
    "console_enabled",
    "has_password",
    "mfa_enabled",
    "created_at",
    "last_login_at",
)
GROUP_COLUMNS = ("name", "display_name", "comment", "created_at")
KEY_COLUMNS = ("id", "status", "created_at", "last_used_at")

users_app = typer.Typer(
    help="RAM users (sub-accounts) of your account: they sign in at the account's login URL.",
    no_args_is_help=True,
)
keys_app = typer.Typer(
    help="A RAM user's access keys (at most 2; a secret is shown once).", no_args_is_help=True
)
users_app.add_typer(keys_app, name="access-keys")
groups_app = typer.Typer(
    help="RAM groups: policies attached to a group apply to every member.", no_args_is_help=True
)


def new_password(from_stdin: bool) -> str:
    """A new password: one line of stdin, or typed twice at a hidden prompt."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = str(typer.prompt("New password", hide_input=True, confirmation_prompt=True))
    if not password:
        raise commands.usage("the password is empty", "--password-stdin")
    return password


def emit_page(
    page: pydantic.BaseModel,
    rows: Sequence[pydantic.BaseModel],
    total: int,
    fmt: output.Format,
    columns: Sequence[str],
    offset: int,
) -> None:
    """A page of a list (its `rows` of `total`): the whole answer for scripts, a table and a
    next-page hint for people."""
    if fmt is output.Format.json:
        output.emit(page, fmt)
        return
    output.emit(rows, fmt, columns)
    if total > offset + len(rows):
        output.console.print(
            f"{len(rows)} of {total} shown: more with --offset {offset + len(rows)}"
        )


@users_app.command("list")
def users_list(
    limit: Limit = 100,
    offset: Offset = 0,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the RAM users of your account."""
    page = commands.call(profile, lambda api: api.list_ram_users(limit=limit, offset=offset))
    emit_page(page, page.users, page.total, fmt, USER_COLUMNS, offset)


@users_app.command("create")
def users_create(
    name: Annotated[
        str,
        typer.Argument(help="1-128 letters, digits, '.', '_', '@', '-'; unique in the account."),
    ],
    display_name: DisplayName = "",
    comment: Comment = "",
    with_password: Annotated[
        bool, typer.Option(help="Give the user a console password, asked at a hidden prompt.")
    ] = False,
    password_stdin: PasswordStdin = False,
    console: Annotated[
        bool | None,
        typer.Option(
            "--console/--no-console",
            help="Allow console sign-in; default: on when a password is given.",
        ),
    ] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create a RAM user; with a password it can sign in (console, or `rtc login --user`)."""
    password = new_password(password_stdin) if with_password or password_stdin else None
    console_enabled = password is not None if console is None else console
    user = commands.call(
        profile,
        lambda api: api.create_ram_user(
            name,
            display_name=display_name,
            comment=comment,
            password=password,
            console_enabled=console_enabled,
        ),
    )
    output.emit(user, fmt)


@users_app.command("show")
def users_show(
    name: UserName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Show one RAM user."""
    output.emit(commands.call(profile, lambda api: api.get_ram_user(name)), fmt)


@users_app.command("update")
def users_update(
    name: UserName,
    new_name: NewName = None,
    display_name: NewDisplayName = None,
    comment: NewComment = None,
    console: Annotated[
        bool | None,
        typer.Option("--console/--no-console", help="Turn console sign-in on or off."),
    ] = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Rename a RAM user, or change its display name, comment or console access."""
    if new_name is None and display_name is None and comment is None and console is None:
        raise commands.usage(
            "nothing to change: give --new-name, --display-name, --comment or --console"
        )
    user = commands.call(
        profile,
        lambda api: api.update_ram_user(
            name,
            new_name=new_name,
            display_name=display_name,
            comment=comment,
            console_enabled=console,
        ),
    )
    output.emit(user, fmt)


@users_app.command("delete")
def users_delete(
    name: UserName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete a RAM user with its access keys, sessions, memberships and attachments."""
    commands.call(profile, lambda api: api.delete_ram_user(name))
    output.emit({"deleted": name}, fmt)


@users_app.command("set-password")
def users_set_password(
    name: UserName,
    password_stdin: PasswordStdin = False,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Set or reset a RAM user's password; the user's sessions end."""
    password = new_password(password_stdin)
    commands.call(profile, lambda api: api.set_ram_user_password(name, password))
    output.emit({"password_set": name}, fmt)


@users_app.command("unbind-mfa")
def users_unbind_mfa(
    name: UserName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Remove a RAM user's MFA device (a lost phone); a new one is bound at next sign-in."""
    commands.call(profile, lambda api: api.unbind_ram_user_mfa(name))
    output.emit({"mfa_unbound": name}, fmt)


@users_app.command("groups")
def users_groups(
    name: UserName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the groups a RAM user belongs to (at most 10)."""
    output.emit(
        commands.call(profile, lambda api: api.list_groups_for_ram_user(name)), fmt, GROUP_COLUMNS
    )


@keys_app.command("list")
def keys_list(
    user: UserName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List a RAM user's access keys (never their secrets)."""
    output.emit(
        commands.call(profile, lambda api: api.list_ram_user_access_keys(user)), fmt, KEY_COLUMNS
    )


@keys_app.command("create")
def keys_create(
    user: UserName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create an access key for a RAM user and print its secret, once."""
    output.emit(commands.call(profile, lambda api: api.create_ram_user_access_key(user)), fmt)
    if fmt is output.Format.table:
        output.err_console.print("store the secret now: it is not shown again")


@keys_app.command("enable")
def keys_enable(
    user: UserName,
    key_id: KeyId,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Enable a RAM user's access key."""
    output.emit(
        commands.call(profile, lambda api: api.update_ram_user_access_key(user, key_id, "Active")),
        fmt,
    )


@keys_app.command("disable")
def keys_disable(
    user: UserName,
    key_id: KeyId,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Disable a RAM user's access key; calls made with it are refused until it is enabled."""
    key = commands.call(
        profile, lambda api: api.update_ram_user_access_key(user, key_id, "Inactive")
    )
    output.emit(key, fmt)


@keys_app.command("delete")
def keys_delete(
    user: UserName,
    key_id: KeyId,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete a RAM user's access key for good."""
    commands.call(profile, lambda api: api.delete_ram_user_access_key(user, key_id))
    output.emit({"deleted": key_id}, fmt)


@groups_app.command("list")
def groups_list(
    limit: Limit = 100,
    offset: Offset = 0,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the groups of your account."""
    page = commands.call(profile, lambda api: api.list_ram_groups(limit=limit, offset=offset))
    emit_page(page, page.groups, page.total, fmt, GROUP_COLUMNS, offset)


@groups_app.command("create")
def groups_create(
    name: Annotated[
        str,
        typer.Argument(help="1-128 letters, digits, '.', '_', '@', '-'; unique in the account."),
    ],
    display_name: DisplayName = "",
    comment: Comment = "",
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Create a group."""
    group = commands.call(
        profile, lambda api: api.create_ram_group(name, display_name=display_name, comment=comment)
    )
    output.emit(group, fmt)


@groups_app.command("show")
def groups_show(
    name: GroupName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Show one group."""
    output.emit(commands.call(profile, lambda api: api.get_ram_group(name)), fmt)


@groups_app.command("update")
def groups_update(
    name: GroupName,
    new_name: NewName = None,
    display_name: NewDisplayName = None,
    comment: NewComment = None,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Rename a group, or change its display name or comment."""
    if new_name is None and display_name is None and comment is None:
        raise commands.usage("nothing to change: give --new-name, --display-name or --comment")
    group = commands.call(
        profile,
        lambda api: api.update_ram_group(
            name, new_name=new_name, display_name=display_name, comment=comment
        ),
    )
    output.emit(group, fmt)


@groups_app.command("delete")
def groups_delete(
    name: GroupName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Delete a group; its members stay, losing what the group's policies gave them."""
    commands.call(profile, lambda api: api.delete_ram_group(name))
    output.emit({"deleted": name}, fmt)


@groups_app.command("members")
def groups_members(
    name: GroupName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """List the users in a group."""
    output.emit(
        commands.call(profile, lambda api: api.list_ram_group_members(name)), fmt, USER_COLUMNS
    )


@groups_app.command("add-user")
def groups_add_user(
    group: GroupName,
    user: UserName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Add a user to a group (a user belongs to at most 10 groups); again is a no-op."""
    commands.call(profile, lambda api: api.add_ram_group_member(group, user))
    output.emit({"group": group, "added": user}, fmt)


@groups_app.command("remove-user")
def groups_remove_user(
    group: GroupName,
    user: UserName,
    profile: ProfileOption = "default",
    fmt: output.OutputOption = output.Format.table,
) -> None:
    """Remove a user from a group."""
    commands.call(profile, lambda api: api.remove_ram_group_member(group, user))
    output.emit({"group": group, "removed": user}, fmt)
