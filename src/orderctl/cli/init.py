"""`orderctl init`: create or upgrade the schema, and the first admin (DESIGN.md §3)."""

from __future__ import annotations

from typing import Annotated

import typer

from orderctl.cli.context import get_state
from orderctl.cli.options import PasswordStdin, read_password


def init(
    ctx: typer.Context,
    admin_username: Annotated[
        str, typer.Option("--admin-username", help="Name of the first admin.")
    ] = "admin",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create or upgrade the schema; on a database with no users, create the first admin.

    Running it again is harmless. Example: echo "$PW" | orderctl init --password-stdin
    """
    from orderctl.cli.render import message
    from orderctl.services import schema
    from orderctl.services.auth import bootstrap_admin, has_users
    from orderctl.services.uow import UnitOfWork

    state = get_state(ctx)
    db = state.database()
    before, after = schema.upgrade(db)
    message(
        f"schema at revision {after} (was {before})"
        if before != after
        else f"schema already at revision {after}"
    )
    with UnitOfWork(db) as uow:
        if has_users(uow):
            message("users exist already; no admin created")
            return
    password = read_password(from_stdin=password_stdin, confirm=True, prompt="Admin password")
    with UnitOfWork(db) as uow:
        user = bootstrap_admin(uow, admin_username, password)
    message(f"created admin {user.username!r}; next: orderctl auth login -u {user.username}")
