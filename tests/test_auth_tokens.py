"""API tokens: a new login revokes the login it replaces in the cache, `auth token
create/list/revoke` (each token's state, the secret shown once), and how a token's use is
recorded."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from helpers import (
    PASSWORD,
    Cli,
    auth_status,
    create_user,
    hold_row,
    login,
    one_error,
    tokens_in_db,
)
from orderctl import clock
from orderctl.db import Database
from orderctl.enums import Role, TokenState
from orderctl.services import access, auth
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork

if TYPE_CHECKING:
    from helpers import Cli


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
    assert login(cli, "amy", "wrong password").exit_code == 3
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
    assert login(cli, "amy", PASSWORD, "--expires", "1h").exit_code == 0
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


# ---- auth token create / list / revoke, and recording their use ----


TOKEN_KEYS = [
    "id",
    "name",
    "prefix",
    "user",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
    "state",
]


def test_last_used_at_is_recorded(cli: Cli, admin: Actor) -> None:
    made = cli("auth", "token", "create", "--name", "cron")
    assert made.exit_code == 0, made.stderr
    secret = made.stdout.strip()
    token = next(t for t in tokens_in_db(cli.database) if t.name == "cron")
    assert token.last_used_at is None
    assert auth_status(cli, env={"ORDERCTL_TOKEN": secret}).exit_code == 0
    token = next(t for t in tokens_in_db(cli.database) if t.name == "cron")
    assert token.last_used_at is not None


# ---- auth token create / list / revoke ----


def test_token_create_prints_the_secret_once_and_list_never_does(cli: Cli, admin: Actor) -> None:
    made = cli("auth", "token", "create", "--name", "nightly import")
    assert made.exit_code == 0, made.stderr
    secret = made.stdout.strip()
    assert made.stdout == secret + "\n" and secret.startswith("oct_")
    assert "not shown again" in made.stderr and secret not in made.stderr

    as_json = cli("auth", "token", "create", "--name", "ci", "-o", "json")
    doc = json.loads(as_json.stdout)
    assert list(doc) == [*TOKEN_KEYS, "token"]
    assert doc["user"] == "test-admin" and doc["token"].startswith("oct_")
    created = access.hash_token(doc["token"])
    assert created in {t.token_hash for t in tokens_in_db(cli.database)}

    for fmt in ("table", "json", "jsonl", "csv"):
        listed = cli("auth", "token", "list", "--all", "-o", fmt)
        assert listed.exit_code == 0, listed.stderr
        assert secret not in listed.stdout and doc["token"] not in listed.stdout
        assert secret[:10] in listed.stdout  # the prefix identifies it
    rows = json.loads(cli("auth", "token", "list", "-o", "json").stdout)
    assert all(list(r) == TOKEN_KEYS for r in rows)
    assert {r["name"] for r in rows} >= {"nightly import", "ci"}
    jsonl = cli("auth", "token", "list", "-o", "jsonl").stdout.splitlines()
    assert len(jsonl) == len(rows)


def test_token_expiry_default_and_never(cli: Cli, admin: Actor) -> None:
    default = json.loads(cli("auth", "token", "create", "--name", "a", "-o", "json").stdout)
    never = json.loads(
        cli("auth", "token", "create", "--name", "b", "--expires", "never", "-o", "json").stdout
    )
    assert never["expires_at"] is None
    token = next(t for t in tokens_in_db(cli.database) if t.id == default["id"])
    assert token.expires_at is not None
    assert token.expires_at - token.created_at == auth.DEFAULT_TOKEN_TTL == timedelta(days=90)
    assert auth_status(cli, env={"ORDERCTL_TOKEN": never["token"]}).exit_code == 0


TOKEN_CREATE_BAD_INPUT = [
    (["--name", ""], 6, "name"),
    (["--name", "   "], 6, "name"),
    (["--name", "x" * 101], 6, "name"),
    (["--name", "nul\x00"], 6, "NUL"),
    (["--name", "ok", "--expires", "forever"], 2, "--expires"),
    (["--name", "ok", "--expires", "0s"], 6, "longer"),
    (["--name", "ok", "--expires", "99999999d"], 2, "at most"),
    (["--name", "ok", "--user", "nobody"], 5, "not found"),
    (["--name", "ok", "--user", "x'; DROP TABLE users;--"], 6, "not a valid username"),
    (["--expires", "1d"], 2, ""),
]


def test_token_create_bad_input(cli: Cli, admin: Actor) -> None:
    before = len(tokens_in_db(cli.database))
    for args, code, needle in TOKEN_CREATE_BAD_INPUT:
        result = cli("auth", "token", "create", *args)
        assert result.exit_code == code, (args, result.stderr)
        if needle:
            assert needle in one_error(result), args
        assert result.stdout == ""
    assert len(tokens_in_db(cli.database)) == before


def test_token_names_may_be_unicode_and_are_not_markup(cli: Cli, admin: Actor) -> None:
    for name in ("ñandú 🚀", "[bold red]boom[/]", "שלום", "Robert'); DROP TABLE api_tokens;--"):
        assert cli("auth", "token", "create", "--name", name).exit_code == 0
    table = cli("auth", "token", "list").stdout
    assert "[bold red]boom[/]" in table and "ñandú 🚀" in table
    names = {r["name"] for r in json.loads(cli("auth", "token", "list", "-o", "json").stdout)}
    assert "Robert'); DROP TABLE api_tokens;--" in names


def test_token_rules_for_other_users(cli: Cli, admin: Actor, viewer: Actor) -> None:
    # An admin may create a token for someone else; it acts as that user.
    made = cli(
        "auth", "token", "create", "--name", "for-viewer", "--user", "test-viewer", "-o", "json"
    )
    assert made.exit_code == 0, made.stderr
    doc = json.loads(made.stdout)
    assert doc["user"] == "test-viewer"
    who = json.loads(auth_status(cli, env={"ORDERCTL_TOKEN": doc["token"]}).stdout)
    assert who["username"] == "test-viewer" and who["role"] == "viewer"

    # A viewer sees only their own tokens, and may revoke only their own.
    own = json.loads(cli("auth", "token", "list", "-o", "json", role=Role.VIEWER).stdout)
    assert own and {t["user"] for t in own} == {"test-viewer"}
    admins = [t for t in tokens_in_db(cli.database) if t.user == "test-admin"]
    denied = cli("auth", "token", "revoke", str(admins[0].id), role=Role.VIEWER)
    assert denied.exit_code == 4 and "admin role" in one_error(denied)
    assert all(t.revoked_at is None for t in tokens_in_db(cli.database))
    mine = cli("auth", "token", "revoke", str(doc["id"]), "-o", "json", role=Role.VIEWER)
    assert mine.exit_code == 0 and json.loads(mine.stdout)["revoked_at"]
    # Revoking twice is harmless and keeps the first revocation time.
    again = cli("auth", "token", "revoke", str(doc["id"]), "-o", "json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["revoked_at"] == json.loads(mine.stdout)["revoked_at"]


def test_token_revoke_unknown_ids(cli: Cli, admin: Actor) -> None:
    for token_id, code in [
        ("999999", 5),
        ("0", 5),
        ("-3", 5),
        (str(2**70), 5),
        ("abc", 2),
        ("1.5", 2),
        ("", 2),
    ]:
        result = cli("auth", "token", "revoke", "--", token_id)
        assert result.exit_code == code, (token_id, result.stderr)
        if code == 5:
            assert "not found" in one_error(result)


def _token_last_used(database: Database, name: str) -> datetime | None:
    return next(t for t in tokens_in_db(database) if t.name == name).last_used_at


def test_a_read_does_not_wait_for_locks_to_record_token_use(
    cli: Cli, admin: Actor, db_url: str
) -> None:
    """An import on SQLite holds the write lock for its whole run: reads must not queue
    behind it just to write `last_used_at` (skipped, and recorded by a later command)."""
    made = cli("auth", "token", "create", "--name", "reader")
    secret = made.stdout.strip()
    held = hold_row(db_url, cli.database, "api_tokens", "name", "reader")
    try:
        started = time.monotonic()
        result = cli("products", "list", role=None, env={"ORDERCTL_TOKEN": secret})
        assert result.exit_code == 0, result.stderr
        assert time.monotonic() - started < 5  # the busy timeout is 30 s
    finally:
        held.close()
    assert _token_last_used(cli.database, "reader") is None  # skipped, not waited for
    assert cli("products", "list", role=None, env={"ORDERCTL_TOKEN": secret}).exit_code == 0
    assert _token_last_used(cli.database, "reader") is not None


def test_token_use_is_written_at_most_once_a_minute(
    cli: Cli, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = cli("auth", "token", "create", "--name", "loop")
    secret = made.stdout.strip()
    start = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    env = {"ORDERCTL_TOKEN": secret}
    for offset, expected in [(0, 0), (30, 0), (59, 0), (60, 60), (61, 60), (125, 125)]:
        monkeypatch.setattr(clock, "utcnow", lambda o=offset: start + timedelta(seconds=o))
        assert cli("products", "list", role=None, env=env).exit_code == 0
        assert _token_last_used(cli.database, "loop") == start + timedelta(seconds=expected)
