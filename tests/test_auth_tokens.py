"""Token housekeeping (issue 13, item 5): a new login revokes the login it replaces in the
cache, and `auth token list` shows whether each token works."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from typer.testing import Result

from helpers import PASSWORD, create_user
from orderctl import clock
from orderctl.enums import Role, TokenState
from orderctl.services.uow import UnitOfWork

if TYPE_CHECKING:
    from helpers import Cli


def login(cli: Cli, user: str, *extra: str, password: str = PASSWORD) -> Result:
    return cli(
        "auth", "login", "-u", user, "--password-stdin", *extra, role=None, input=password + "\n"
    )


def login_tokens(cli: Cli, user: str) -> list[tuple[int, bool]]:
    """(id, revoked) of the user's login tokens, oldest first."""
    with UnitOfWork(cli.database, write=False) as u:
        owner = u.users.get_one_by_username(user)
        return [
            (t.id, t.revoked_at is not None)
            for t in u.tokens.list(user_id=owner.id)
            if t.name == "login"
        ]


def test_logging_in_again_leaves_one_live_login(cli: Cli) -> None:
    create_user(cli.database, "amy", Role.OPERATOR)
    for _ in range(3):
        assert login(cli, "amy").exit_code == 0
    tokens = login_tokens(cli, "amy")
    assert [revoked for _, revoked in tokens] == [True, True, False]
    whoami = cli("auth", "status", "-o", "json", role=None)
    assert whoami.exit_code == 0 and json.loads(whoami.stdout)["token_id"] == tokens[-1][0]
    # A failed login keeps the cached one working.
    assert login(cli, "amy", password="wrong password").exit_code == 3
    assert login_tokens(cli, "amy") == tokens
    assert cli("auth", "status", role=None).exit_code == 0


def test_a_login_as_someone_else_revokes_the_login_it_replaces(cli: Cli) -> None:
    create_user(cli.database, "amy", Role.OPERATOR)
    create_user(cli.database, "ben", Role.VIEWER)
    assert login(cli, "amy").exit_code == 0
    assert login(cli, "ben").exit_code == 0
    assert [revoked for _, revoked in login_tokens(cli, "amy")] == [True]
    assert [revoked for _, revoked in login_tokens(cli, "ben")] == [False]


def test_an_expired_cached_login_is_left_as_it_is(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_user(cli.database, "amy", Role.OPERATOR)
    assert login(cli, "amy", "--expires", "1h").exit_code == 0
    base = datetime.now(UTC)
    monkeypatch.setattr(clock, "utcnow", lambda: base + timedelta(hours=2))
    assert login(cli, "amy").exit_code == 0
    assert [revoked for _, revoked in login_tokens(cli, "amy")] == [False, False]


def test_token_list_shows_each_tokens_state(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    create_user(cli.database, "amy", Role.OPERATOR)
    create_user(cli.database, "ben", Role.VIEWER)
    made = {}
    for name, user, expires in [
        ("live", "amy", "90d"),
        ("short", "amy", "1h"),
        ("gone", "amy", "90d"),
        ("bens", "ben", "90d"),
    ]:
        result = cli(
            "auth",
            "token",
            "create",
            "--name",
            name,
            "--user",
            user,
            "--expires",
            expires,
            "-o",
            "json",
        )
        assert result.exit_code == 0, result.stderr
        made[name] = json.loads(result.stdout)["id"]
    assert cli("auth", "token", "revoke", str(made["gone"]), "--yes").exit_code == 0
    assert cli("users", "disable", "ben", "--yes").exit_code == 0
    base = datetime.now(UTC)
    monkeypatch.setattr(clock, "utcnow", lambda: base + timedelta(hours=2))
    listed = cli("auth", "token", "list", "--all", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    states = {t["name"]: t["state"] for t in json.loads(listed.stdout)}
    assert states == {
        "test": TokenState.ACTIVE,  # the admin's own
        "live": TokenState.ACTIVE,
        "short": TokenState.EXPIRED,
        "gone": TokenState.REVOKED,
        "bens": TokenState.USER_DISABLED,
    }
    table = cli("auth", "token", "list", "--all")
    assert "STATE" in table.stdout and "user disabled" in table.stdout
    assert "expired" in table.stdout and "revoked" in table.stdout
