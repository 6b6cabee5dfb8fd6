"""`orderctl users`: user administration, admin only (DESIGN.md §3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from orderctl.cli import completion as complete
from orderctl.cli.confirm import Yes, confirm, counted
from orderctl.cli.context import get_state
from orderctl.cli.options import Jq, NoHeaders, Output, PasswordStdin, json_option, read_password
from orderctl.cli.tables import Column
from orderctl.enums import OutputFormat, Role

if TYPE_CHECKING:
    from orderctl.schemas import UserRead

app = typer.Typer(help="Manage users and their roles (admin only).", no_args_is_help=True)
UserJson = Annotated[str | None, json_option("orderctl.schemas:UserRead")]

#: Display order; `rank`: which stay longest on a narrow terminal (1 first).
USER_COLUMNS = [
    Column("ID", "id", rank=1),
    Column("USERNAME", "username", rank=2),
    Column("ROLE", "role", rank=3),
    Column("ACTIVE", "active", rank=4),
    Column("CREATED", "created_at", rank=5),
]
Username = Annotated[
    str,
    typer.Argument(help="The user's name.", show_default=False, autocompletion=complete.usernames),
]
RoleArg = Annotated[Role, typer.Argument(help="viewer, operator or admin.", case_sensitive=False)]


def _show(
    user: UserRead, output: OutputFormat, note: str, json_fields: str | None, jq: str | None
) -> None:
    from orderctl.cli.render import message, render_one

    render_one(user, output, json_fields=json_fields, jq=jq)
    message(note)


@app.command("create")
def create(
    ctx: typer.Context,
    username: Username,
    role: Annotated[
        Role, typer.Option("--role", help="viewer, operator or admin.", case_sensitive=False)
    ],
    password_stdin: PasswordStdin = False,
    output: Output = OutputFormat.TABLE,
    json_fields: UserJson = None,
    jq: Jq = None,
) -> None:
    """Create a user (password prompted twice, or read from stdin).

    Example: echo "$PW" | orderctl users create alice --role operator --password-stdin
    """
    from orderctl.services import users

    state = get_state(ctx)
    actor = state.actor()
    password = read_password(from_stdin=password_stdin, confirm=True, prompt="New password")
    with state.uow() as uow:
        user = users.create_user(uow, actor, username, role=role, password=password)
    _show(user, output, f"created user {user.username!r} ({user.role.value})", json_fields, jq)


@app.command("list")
def list_users(
    ctx: typer.Context,
    output: Output = OutputFormat.TABLE,
    no_headers: NoHeaders = False,
    json_fields: UserJson = None,
    jq: Jq = None,
) -> None:
    """List users, disabled ones too.

    Example: orderctl users list -o csv
    """
    from orderctl.cli.render import render_list
    from orderctl.schemas import UserRead
    from orderctl.services import users

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(write=False) as uow:
        rows = users.list_users(uow, actor)
    render_list(
        rows,
        output,
        USER_COLUMNS,
        empty="no users",
        fields=UserRead,
        headers=not no_headers,
        json_fields=json_fields,
        jq=jq,
    )


@app.command("disable")
def disable(
    ctx: typer.Context,
    username: Username,
    yes: Yes = False,
    output: Output = OutputFormat.TABLE,
    json_fields: UserJson = None,
    jq: Jq = None,
) -> None:
    """Disable a user: their tokens are refused at once. The last active admin cannot be.

    Says first how many active tokens stop working and asks [y/N] (--yes for scripts).

    Example: orderctl users disable bob --yes
    """
    from orderctl.services import users

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(write=False) as uow:
        plan = users.plan_disable(uow, actor, username)
    if plan.needs_confirmation:
        confirm(
            f"will disable user {plan.user.username} "
            f"({counted(plan.active_tokens, 'active token')} stop working)",
            yes=yes,
            command="users disable",
        )
    with state.uow() as uow:
        user = users.disable_user(uow, actor, username)
    _show(user, output, f"user {user.username!r} is disabled", json_fields, jq)


@app.command("enable")
def enable(
    ctx: typer.Context,
    username: Username,
    output: Output = OutputFormat.TABLE,
    json_fields: UserJson = None,
    jq: Jq = None,
) -> None:
    """Enable a disabled user again.

    Example: orderctl users enable bob
    """
    from orderctl.services import users

    state = get_state(ctx)
    actor = state.actor()
    with state.uow() as uow:
        user = users.enable_user(uow, actor, username)
    _show(user, output, f"user {user.username!r} is enabled", json_fields, jq)


@app.command("set-role")
def set_role(
    ctx: typer.Context,
    username: Username,
    role: RoleArg,
    output: Output = OutputFormat.TABLE,
    json_fields: UserJson = None,
    jq: Jq = None,
) -> None:
    """Change a user's role. The last active admin cannot be demoted.

    Example: orderctl users set-role bob operator
    """
    from orderctl.services import users

    state = get_state(ctx)
    actor = state.actor()
    with state.uow() as uow:
        user = users.set_role(uow, actor, username, role)
    _show(user, output, f"user {user.username!r} is {user.role.value}", json_fields, jq)


@app.command("reset-password")
def reset_password(
    ctx: typer.Context,
    username: Username,
    password_stdin: PasswordStdin = False,
    output: Output = OutputFormat.TABLE,
    json_fields: UserJson = None,
    jq: Jq = None,
) -> None:
    """Set a user's password (prompted twice, or from stdin); this also ends a lockout.

    Example: echo "$NEW_PW" | orderctl users reset-password bob --password-stdin
    """
    from orderctl.services import users

    state = get_state(ctx)
    actor = state.actor()
    password = read_password(from_stdin=password_stdin, confirm=True, prompt="New password")
    with state.uow() as uow:
        user = users.reset_password(uow, actor, username, password)
    _show(user, output, f"password of {user.username!r} reset; lockout cleared", json_fields, jq)
