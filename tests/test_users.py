"""`orderctl users` through the real CLI (admin only), and the services' rules behind it."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import Result

from helpers import PASSWORD, Cli, create_user, database_snapshot, login, one_error
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.errors import RuleViolation
from orderctl.models import User
from orderctl.services import users
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork

USER_KEYS = ["id", "username", "role", "active", "created_at"]


def stored(database: Database, username: str) -> User:
    with UnitOfWork(database, write=False) as u:
        user = u.users.get_one_by_username(username)
        u.session.expunge(user)
        return user


def create(cli: Cli, name: str, role: str = "viewer", password: str = PASSWORD) -> Result:
    return cli(
        "users", "create", name, "--role", role, "--password-stdin", "-o", "json",
        input=password + "\n",
    )  # fmt: skip


def test_create_list_and_change_users(cli: Cli, admin: Actor) -> None:
    made = create(cli, "alice", "operator")
    assert made.exit_code == 0, made.stderr
    doc = json.loads(made.stdout)
    assert list(doc) == USER_KEYS
    assert (doc["username"], doc["role"], doc["active"]) == ("alice", "operator", True)
    assert doc["created_at"].endswith("Z")
    assert "created user 'alice'" in made.stderr
    assert stored(cli.database, "alice").updated_by == "test-admin"
    assert login(cli, "alice").exit_code == 0

    listed = cli("users", "list", "-o", "json")
    names = [u["username"] for u in json.loads(listed.stdout)]
    assert names == sorted(names) and {"alice", "test-admin"} <= set(names)
    table = cli("users", "list")
    assert table.exit_code == 0 and "alice" in table.stdout and "operator" in table.stdout
    csv_rows = cli("users", "list", "-o", "csv").stdout.splitlines()
    assert csv_rows[0] == ",".join(USER_KEYS)

    changed = cli("users", "set-role", "alice", "ADMIN", "-o", "json")
    assert changed.exit_code == 0 and json.loads(changed.stdout)["role"] == "admin"
    same = cli("users", "set-role", "alice", "admin", "-o", "jsonl")
    assert same.exit_code == 0 and json.loads(same.stdout)["role"] == "admin"
    off = cli("users", "disable", "alice", "--yes", "-o", "json")
    assert off.exit_code == 0 and json.loads(off.stdout)["active"] is False
    assert cli("users", "disable", "alice").exit_code == 0  # already disabled: no change
    on = cli("users", "enable", "alice", "-o", "json")
    assert on.exit_code == 0 and json.loads(on.stdout)["active"] is True
    table = cli("users", "enable", "alice")
    assert table.exit_code == 0 and "username" in table.stdout


def test_duplicate_names_conflict_even_in_another_case(cli: Cli, admin: Actor) -> None:
    assert create(cli, "bob").exit_code == 0
    before = database_snapshot(cli.database)
    for name in ("bob", "BOB", " bob "):
        result = create(cli, name)
        assert result.exit_code == 6, result.stderr
        assert "already exists" in one_error(result)
    assert database_snapshot(cli.database) == before


HOSTILE_NAMES = [
    "",
    "   ",
    "x'; DROP TABLE users;--",
    "Robert'); DELETE FROM users; --",
    "a" * 65,
    "a" * 10_000,
    "nul\x00byte",
    "new\nline",
    "\u202eevil",
    "emoji😀",
    "[bold]markup[/bold]",
    "spaces in name",
    "percent%",
    "zoë",
    "аdmin",  # Cyrillic а: a look-alike of "admin"
    "משה",
    "ＡＢＣ",  # fullwidth
    "tab\there",
]


def test_hostile_usernames_are_refused_with_one_line(cli: Cli, admin: Actor) -> None:
    before = database_snapshot(cli.database)
    creates = [
        ["users", "create", name, "--role", "viewer", "--password-stdin"] for name in HOSTILE_NAMES
    ]
    # The look-up commands share one check; a sample of the worst names covers them.
    lookups = [
        args
        for name in ("", "x'; DROP TABLE users;--", "a" * 10_000, "nul\x00byte", "аdmin")
        for args in (
            ["users", "disable", name],
            ["users", "enable", name],
            ["users", "set-role", name, "viewer"],
            ["users", "reset-password", name, "--password-stdin"],
        )
    ]
    for args in creates + lookups:
        result = cli(*args, input=PASSWORD + "\n")
        assert result.exit_code == 6, (args, result.stderr)
        assert "not a valid username" in one_error(result), args
        assert len(result.stderr) < 300  # a 10 kB name is cut short in the message
    assert database_snapshot(cli.database) == before


def test_valid_names(cli: Cli, admin: Actor) -> None:
    for name in ("Jose.Garcia", "nandu_42", "user@example.com", "a+b-c", "a" * 64, "7"):
        result = create(cli, name)
        assert result.exit_code == 0, (name, result.stderr)
        assert json.loads(result.stdout)["username"] == name
    assert login(cli, "user@example.com").exit_code == 0


def test_missing_user_is_not_found(cli: Cli, admin: Actor) -> None:
    for args in (
        ["users", "disable", "ghost"],
        ["users", "enable", "ghost"],
        ["users", "set-role", "ghost", "admin"],
        ["users", "reset-password", "ghost", "--password-stdin"],
    ):
        result = cli(*args, input=PASSWORD + "\n")
        assert result.exit_code == 5, (args, result.stderr)
        assert "user 'ghost' not found" in one_error(result)


def test_bad_roles_and_passwords(cli: Cli, admin: Actor) -> None:
    create_user(cli.database, "dave", Role.VIEWER)
    before = database_snapshot(cli.database)
    for args, stdin, code in [
        (["users", "create", "eve", "--role", "superuser", "--password-stdin"], PASSWORD, 2),
        (["users", "create", "eve", "--role", "", "--password-stdin"], PASSWORD, 2),
        (["users", "create", "eve", "--password-stdin"], PASSWORD, 2),
        (["users", "set-role", "dave", "root"], "", 2),
        (["users", "create", "eve", "--role", "viewer", "--password-stdin"], "short", 6),
        (["users", "create", "eve", "--role", "viewer", "--password-stdin"], "x" * 1025, 6),
        (["users", "create", "eve", "--role", "viewer", "--password-stdin"], "", 2),
        (["users", "create", "eve", "--role", "viewer"], PASSWORD, 2),
        (["users", "reset-password", "dave", "--password-stdin"], "short", 6),
        (["users", "reset-password", "dave", "--password-stdin"], "", 2),
        (["users", "reset-password", "dave"], PASSWORD, 2),
    ]:
        result = cli(*args, input=stdin + "\n" if stdin else "")
        assert result.exit_code == code, (args, result.stderr)
        assert "Traceback" not in result.stderr
        if code == 6:
            one_error(result)
    assert database_snapshot(cli.database) == before


def test_the_last_active_admin_cannot_be_disabled_or_demoted(cli: Cli, admin: Actor) -> None:
    before = database_snapshot(cli.database)
    for args in (
        ["users", "disable", "test-admin"],
        ["users", "set-role", "test-admin", "operator"],
        ["users", "set-role", "test-admin", "viewer"],
    ):
        result = cli(*args)
        assert result.exit_code == 6, (args, result.stderr)
        assert "last active admin" in one_error(result)
    assert database_snapshot(cli.database) == before

    # A disabled admin does not count: it cannot be the one that keeps the database usable.
    create_user(cli.database, "frozen", Role.ADMIN)
    assert cli("users", "disable", "frozen", "--yes").exit_code == 0
    assert cli("users", "disable", "test-admin").exit_code == 6
    # With a second active admin, the first may step down (and then loses admin rights).
    assert cli("users", "enable", "frozen").exit_code == 0
    assert cli("users", "set-role", "test-admin", "operator").exit_code == 0
    denied = cli("users", "list")
    assert denied.exit_code == 4 and "admin role" in one_error(denied)


def test_last_admin_rule_in_the_service(uow: Callable[..., UnitOfWork], admin: Actor) -> None:
    with uow() as u, pytest.raises(RuleViolation):
        users.disable_user(u, admin, "test-admin")
    with uow() as u:
        users.create_user(u, admin, "second", role=Role.ADMIN, password=PASSWORD)
    with uow() as u:
        assert users.set_role(u, admin, "second", Role.VIEWER).role is Role.VIEWER
    with uow() as u, pytest.raises(RuleViolation):
        users.set_role(u, admin, "test-admin", Role.VIEWER)


def test_reset_password_changes_it_and_clears_a_lockout(cli: Cli, admin: Actor) -> None:
    create_user(cli.database, "gina", Role.VIEWER)
    for _ in range(5):
        assert login(cli, "gina", "wrong password").exit_code == 3
    locked = login(cli, "gina")
    assert locked.exit_code == 3 and "locked" in locked.stderr
    assert stored(cli.database, "gina").locked_until is not None

    reset = cli(
        "users", "reset-password", "gina", "--password-stdin", "-o", "json",
        input="a new password\n",
    )  # fmt: skip
    assert reset.exit_code == 0, reset.stderr
    assert json.loads(reset.stdout)["username"] == "gina"
    after = stored(cli.database, "gina")
    assert after.locked_until is None and after.failed_logins == 0
    assert after.updated_by == "test-admin"
    assert login(cli, "gina").exit_code == 3  # the old password is gone
    assert login(cli, "gina", "a new password").exit_code == 0


def test_changes_take_effect_on_the_next_command(cli: Cli, admin: Actor) -> None:
    create_user(cli.database, "hank", Role.ADMIN)
    assert login(cli, "hank").exit_code == 0
    assert cli("users", "list", role=None).exit_code == 0
    assert cli("users", "set-role", "hank", "viewer").exit_code == 0
    denied = cli("users", "list", role=None)
    assert denied.exit_code == 4 and "needs the admin role" in one_error(denied)
    assert "hank is viewer" in denied.stderr
