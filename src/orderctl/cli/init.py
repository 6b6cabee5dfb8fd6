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

    The admin's password is prompted twice on a terminal, or read from stdin's first line
    with --password-stdin (at least 8 characters). Running it again is harmless.

    Example: echo "$PW" | orderctl init --admin-username root --password-stdin
    """
    from orderctl.cli.render import message
    from orderctl.schemas import PasswordSet, parse
    from orderctl.services import schema
    from orderctl.services.auth import bootstrap_admin, check_username, has_users
    from orderctl.services.uow import UnitOfWork

    admin_username = check_username(admin_username)  # before any change or prompt
    state = get_state(ctx)
    db = state.database()
    needs_admin = schema.current(db) is None
    if not needs_admin:
        with UnitOfWork(db, write=False) as uow:
            needs_admin = not has_users(uow)
    password: str | None = None
    if needs_admin:
        # Read and check the password before changing anything, so a bad one leaves no trace.
        password = read_password(from_stdin=password_stdin, confirm=True, prompt="Admin password")
        parse(PasswordSet, {"password": password})
    before, after = schema.upgrade(db)
    message(
        f"schema at revision {after} (was {before})"
        if before != after
        else f"schema already at revision {after}"
    )
    if password is None:
        message("users exist already; no admin created")
        return
    with UnitOfWork(db) as uow:
        user = bootstrap_admin(uow, admin_username, password)
    message(f"created admin {user.username!r}; next: orderctl auth login -u {user.username}")
