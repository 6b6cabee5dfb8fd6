"""Who may run which `auth` and `users` command: one table, every role, both backends."""

from __future__ import annotations

import pytest

from helpers import PASSWORD, Cli, create_user
from orderctl.enums import Role
from orderctl.services import auth, users

#: (command, stdin, least role). Changes aim at `target`, never at the acting users, and are
#: safe to repeat, so each allowed role can run them in turn.
TABLE: list[tuple[list[str], str | None, Role]] = [
    (["auth", "status"], None, Role.VIEWER),
    (["auth", "token", "list"], None, Role.VIEWER),
    (["auth", "token", "create", "--name", "mine"], None, Role.VIEWER),
    (["auth", "token", "list", "--all"], None, Role.ADMIN),
    (["auth", "token", "create", "--name", "theirs", "--user", "target"], None, Role.ADMIN),
    (["users", "list"], None, Role.ADMIN),
    (["users", "create", "newbie", "--role", "viewer", "--password-stdin"], PASSWORD, Role.ADMIN),
    (["users", "disable", "target", "--yes"], None, Role.ADMIN),
    (["users", "enable", "target"], None, Role.ADMIN),
    (["users", "set-role", "target", "operator"], None, Role.ADMIN),
    (["users", "reset-password", "target", "--password-stdin"], PASSWORD, Role.ADMIN),
]


@pytest.mark.parametrize(("args", "stdin", "least"), TABLE, ids=[" ".join(c[0]) for c in TABLE])
def test_role_table(cli: Cli, args: list[str], stdin: str | None, least: Role) -> None:
    create_user(cli.database, "target", Role.VIEWER)
    for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN):
        result = cli(*args, role=role, input=stdin + "\n" if stdin else None)
        if role.rank >= least.rank:
            assert result.exit_code == 0, (role, result.stderr)
        else:
            assert result.exit_code == 4, (role, result.stderr)
            assert result.stderr == (
                f"error: permission denied: this needs the {least.value} role "
                f"(test-{role.value} is {role.value})\n"
            )
            assert result.stdout == ""


def test_service_declarations_match_the_table() -> None:
    declared = {
        users.create_user: Role.ADMIN,
        users.list_users: Role.ADMIN,
        users.disable_user: Role.ADMIN,
        users.plan_disable: Role.ADMIN,
        users.enable_user: Role.ADMIN,
        users.set_role: Role.ADMIN,
        users.reset_password: Role.ADMIN,
        auth.create_token: Role.VIEWER,
        auth.list_tokens: Role.VIEWER,
        auth.revoke_token: Role.VIEWER,
        auth.plan_revoke: Role.VIEWER,
        auth.current_login: Role.VIEWER,
    }
    for func, role in declared.items():
        assert func.required_role is role, func.__name__  # type: ignore[attr-defined]
